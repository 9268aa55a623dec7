"""``prakerja sim ...``: run a stand-in for an outside system on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from prakerja.kit.cli import check_port_free

app = typer.Typer(help="Simulators of outside systems (development, tests, demos).", no_args_is_help=True)


@app.command("dukcapil")
def dukcapil(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8101,
    population: Annotated[Path | None, typer.Option(help="JSON-lines population file (generated if missing).")] = None,
    people: Annotated[int, typer.Option(min=1, help="Synthetic people to generate when there is no file.")] = 10_000,
    fault: Annotated[str, typer.Option(help="none, slow, down or wrong.")] = "none",
    delay: Annotated[float, typer.Option(help="Seconds of delay for the slow fault.")] = 3.0,
) -> None:
    """The civil registry (Dukcapil) verification API, answering from a synthetic population."""
    from prakerja.simulators.dukcapil import serve  # lazy: a whole ASGI app (~0.2 s) for one command of `prakerja`

    if fault not in {"none", "slow", "down", "wrong"}:
        raise typer.BadParameter("fault must be none, slow, down or wrong")
    check_port_free(host, port)
    serve(host=host, port=port, population_path=population, people=people, mode=fault, delay_seconds=delay)


@app.command("sms")
def sms(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8104,
    token: Annotated[str | None, typer.Option(help="Bearer token to require (PRAKERJA_SMS_GATEWAY_TOKEN).")] = None,
    fault: Annotated[str, typer.Option(help="none, slow, down or flaky.")] = "none",
    delay: Annotated[float, typer.Option(help="Seconds of delay for the slow fault.")] = 3.0,
) -> None:
    """An SMS gateway that accepts messages and lists what it received (GET /_messages)."""
    from prakerja.simulators.sms import MODES, serve  # lazy: a whole ASGI app (~0.2 s) for one command of `prakerja`

    if fault not in MODES:
        raise typer.BadParameter(f"fault must be one of {', '.join(MODES)}")
    check_port_free(host, port)
    serve(host=host, port=port, token=token, mode=fault, delay_seconds=delay)


@app.command("payments")
def payments(
    partner: Annotated[
        list[str],
        typer.Option(help="code:kind:secret, e.g. bni:bank:whsec_... (kind bank or ewallet); repeat for several."),
    ],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8092,
    program: Annotated[str | None, typer.Option(help="The program's base URL, where callbacks go.")] = None,
    any_account: Annotated[bool, typer.Option(help="Pay any number as an active account (load tests).")] = False,
) -> None:
    """Payment partners (banks and e-wallets): account inquiry and OTP linking, bulk payouts with callbacks, ISO
    20022 files and statements, with injectable faults (docs/payouts-partner-interface.md)."""
    from prakerja.simulators.payments.app import serve  # lazy: a whole ASGI app for one command of `prakerja`
    from prakerja.simulators.payments.state import Partner, Simulator

    partners: dict[str, Partner] = {}
    for spec in partner:
        code, _, rest = spec.partition(":")
        kind, _, secret = rest.partition(":")
        if not code or kind not in {"bank", "ewallet"} or not secret.startswith("whsec_"):
            raise typer.BadParameter(f"{spec!r}: expected code:bank|ewallet:whsec_...")
        partners[code] = Partner(code=code, kind=kind, secret=secret, any_account=any_account)
    check_port_free(host, port)
    serve(host=host, port=port, simulator=Simulator(partners=partners, program_url=program))


ApiUrl = Annotated[str, typer.Option(help="The program's base URL (the partner API is under /partner/v1).")]
ClientCode = Annotated[str | None, typer.Option(help="The credential's client_code (or in the --key file).")]
Key = Annotated[
    str | None,
    typer.Option(help="The signing key, or a credentials file (JSON {client_code, key} or key-issue's lines)."),
]
WebhookSecret = Annotated[
    str | None, typer.Option(help="The whsec_... secret of this simulator's webhook endpoint at the program.")
]
ClockOffset = Annotated[
    float, typer.Option(help="Seconds to add to the system clock when signing (a program with a shifted clock).")
]


def _credentials(client_code: str | None, key: str | None) -> tuple[str, str]:
    from prakerja.simulators.partner_client import resolve_credentials

    try:
        found = resolve_credentials(client_code, key)
    except (ValueError, OSError) as error:
        raise typer.BadParameter(str(error)) from None
    return found.client_code, found.key


def _listing(value: str) -> tuple[str, int, str]:
    course_id, _, rest = value.partition(":")
    price, _, title = rest.partition(":")
    if not course_id or not price.isdigit():
        raise typer.BadParameter(f"--list {value!r}: expected COURSE_ID:PRICE[:TITLE]")
    return course_id, int(price), title


@app.command("platform")
def platform(
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_code: ClientCode = None,
    key: Key = None,
    webhook_secret: WebhookSecret = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8105,
    listing: Annotated[
        list[str] | None,
        typer.Option("--list", help="List a course at start: COURSE_ID:PRICE[:TITLE] (repeatable)."),
    ] = None,
    public_url: Annotated[
        str, typer.Option(help="The shop's public https URL (course pages are {public-url}/kursus/{id}).")
    ] = "https://toko-belajar.example",
    clock_offset: ClockOffset = 0.0,
) -> None:
    """A digital platform selling listed courses with the "Kartu Prakerja" payment method (web shop, webhooks)."""
    from prakerja.simulators.platform import serve

    code, secret = _credentials(client_code, key)
    listings = [_listing(value) for value in listing or []]
    check_port_free(host, port)
    serve(
        host=host,
        port=port,
        api_url=api_url,
        client_code=code,
        key=secret,
        webhook_secret=webhook_secret,
        listings=listings,
        public_url=public_url,
        clock_offset=clock_offset,
    )


@app.command("institution")
def institution(
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_code: ClientCode = None,
    key: Key = None,
    webhook_secret: WebhookSecret = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8106,
    clock_offset: ClockOffset = 0.0,
) -> None:
    """A training institution that redeems vouchers, commits redeem codes and reports completions (admin, webhooks)."""
    from prakerja.simulators.institution import serve

    code, secret = _credentials(client_code, key)
    check_port_free(host, port)
    serve(
        host=host,
        port=port,
        api_url=api_url,
        client_code=code,
        key=secret,
        webhook_secret=webhook_secret,
        clock_offset=clock_offset,
    )


@app.command("submit-course")
def submit_course(
    course: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The course as JSON (marketplace-api.md).")
    ],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_code: ClientCode = None,
    key: Key = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Send again safely with the same key (default: a new one).")
    ] = None,
    clock_offset: ClockOffset = 0.0,
) -> None:
    """As an institution: submit a course for curation (POST /partner/v1/courses); prints the answer as JSON."""
    import json

    from prakerja.simulators.partner_client import Credentials, PartnerClient, PartnerError, SimClock

    code, secret = _credentials(client_code, key)
    try:
        body = json.loads(course.read_text(encoding="utf-8"))
    except ValueError as error:
        raise typer.BadParameter(f"{course}: not JSON ({error})") from None
    clock = SimClock()
    clock.set(offset_seconds=clock_offset)
    client = PartnerClient.connect(api_url, Credentials(code, secret), clock)
    try:
        answer = client.submit_course(body, idempotency_key=idempotency_key)
    except PartnerError as error:
        typer.echo(
            json.dumps(
                {"status": error.status, "code": error.code, "message_en": error.message_en, "details": error.details}
            ),
            err=True,
        )
        raise typer.Exit(2) from None
    except OSError as error:
        typer.echo(f"error: cannot reach {api_url}: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        client.close()
    typer.echo(json.dumps(answer))

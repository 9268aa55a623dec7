"""``prakerja``: the operator's command line. User mistakes get one line and exit code 2, never a traceback."""

from __future__ import annotations

import math
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from prakerja.audit import service as audit
from prakerja.certificates import cli as _certificate_cli
from prakerja.config import SettingsError, get_settings
from prakerja.db import get_engine, unit_of_work
from prakerja.kit.cli import UserError, check_port_free
from prakerja.kit.money import format_rupiah
from prakerja.ledger import cli as ledger_cli
from prakerja.notifications.providers import dev_mailbox_enabled
from prakerja.partners import cli as _partner_cli
from prakerja.payouts import cli as _payouts_cli
from prakerja.pgembed import EmbeddedDatabaseError
from prakerja.registration import cli as _registration_cli
from prakerja.schemes.rules import SchemeError, available, file_hash, load
from prakerja.selection import cli as _selection_cli
from prakerja.simulators import cli as _sim_cli
from prakerja.training import cli as _training_cli
from prakerja.waves import cli as _wave_cli
from prakerja.web import logs

console = Console(stderr=False)
err = Console(stderr=True)

app = typer.Typer(help="Run a Kartu Prakerja-style program.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
scheme_app = typer.Typer(help="Program schemes (parameters by period).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(scheme_app, name="scheme")
app.add_typer(_registration_cli.registration_app, name="registration")
app.add_typer(_registration_cli.exclusions_app, name="exclusions")
app.add_typer(_sim_cli.app, name="sim")
app.add_typer(ledger_cli.app, name="ledger")
_selection_cli.add_wave_commands(_wave_cli.app)
app.add_typer(_wave_cli.app, name="wave")
app.add_typer(_selection_cli.app, name="selection")
app.add_typer(_partner_cli.app, name="partner")
app.add_typer(_payouts_cli.app, name="payouts")
app.add_typer(_certificate_cli.app, name="certificate")
app.add_typer(_training_cli.app, name="training")

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn known user-facing failures into one red line and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SettingsError, EmbeddedDatabaseError, SchemeError, UserError) as error:
            err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except Exception as error:
            if _is_connection_error(error):
                err.print(f"[red]error:[/red] PRAKERJA_DATABASE_URL: cannot connect ({_first_line(error)})")
                raise typer.Exit(2) from None
            raise

    return wrapper  # type: ignore[return-value]


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _is_connection_error(error: BaseException) -> bool:
    import psycopg
    import sqlalchemy.exc

    if isinstance(error, sqlalchemy.exc.OperationalError) and isinstance(error.orig, psycopg.OperationalError):
        return True
    return isinstance(error, psycopg.OperationalError)


def _serve(host: str, port: int, *, in_process_worker: bool, on_shutdown: Sequence[Callable[[], None]] = ()) -> None:
    """Serve until SIGTERM or Ctrl+C. One signal stops everything within ``shutdown_timeout`` seconds: the server
    stops accepting connections, and the requests and jobs in progress finish (at the same time, not one after
    the other); ``on_shutdown`` callables (other servers run next to this one) are told to stop then too."""
    import uvicorn

    from prakerja.app import create_app  # lazy: the web application, every page (about 1 s)

    settings = get_settings()
    check_port_free(host, port)
    configure_logging()
    web = create_app(in_process_worker=in_process_worker)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            worker = getattr(web.state, "worker", None)
            if worker is not None:
                worker.request_stop()  # jobs finish while the connections drain; the lifespan waits for them
            for stop in on_shutdown:
                stop()
            await super().shutdown(sockets=sockets)

    config = uvicorn.Config(
        web,
        host=host,
        port=port,
        log_config=None,
        # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 (any local process);
        # the app reads it itself, from PRAKERJA_TRUSTED_PROXIES only (web.deps.client_ip)
        proxy_headers=False,
        # the shell middleware logs every request (JSON, with its request id); uvicorn's own access line would
        # format its arguments on every request even with its logger off
        access_log=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
    )
    server = Server(config)
    with suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl+C it stopped on, once it has stopped
        server.run()
    if not server.started:
        raise typer.Exit(3)


def configure_logging() -> None:
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format, production=settings.env == "production")


@contextmanager
def _stops_on_signal() -> Iterator[None]:
    """SIGTERM and Ctrl+C end a long-running command quietly with exit code 0. While uvicorn serves, it takes
    both signals itself, stops gracefully, then re-raises the signal to this handler."""

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    worker: Annotated[bool, typer.Option(help="Also run jobs in this process.")] = True,
) -> None:
    """Serve the web application (and, by default, an in-process job worker)."""
    from prakerja import migrate  # lazy: Alembic and Mako (about 110 modules)

    with _stops_on_signal():
        if not migrate.at_head(get_engine()):
            raise UserError("the database is not at the newest migration; run `prakerja db upgrade` first")
        _serve(host, port, in_process_worker=worker)


@app.command()
@friendly
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 2,
    name: Annotated[str | None, typer.Option(help="Worker name in logs.")] = None,
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
) -> None:
    """Run background jobs. Start as many workers as you like, on any machine."""
    from prakerja.worker import run_worker  # lazy: every domain's jobs and services (about 160 modules)

    configure_logging()
    run_worker(concurrency=concurrency, wait=not burst, name=name, shutdown_timeout=get_settings().shutdown_timeout)


@db_app.command("upgrade")
@friendly
def db_upgrade(revision: Annotated[str, typer.Argument()] = "heads") -> None:
    """Migrate the database to the newest schema (or REVISION)."""
    from prakerja import migrate  # lazy: Alembic and Mako (about 110 modules)

    migrate.upgrade(revision)
    console.print(f"[green]database at[/green] {', '.join(sorted(migrate.current_revisions(_engine())))}")


@db_app.command("downgrade")
@friendly
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")]) -> None:
    """Step the schema back to REVISION."""
    from prakerja import migrate  # lazy: Alembic and Mako (about 110 modules)

    migrate.downgrade(revision)
    console.print(f"database at {', '.join(sorted(migrate.current_revisions(_engine()))) or 'base'}")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    from prakerja import migrate  # lazy: Alembic and Mako (about 110 modules)

    current = migrate.current_revisions(_engine())
    heads = migrate.head_revisions()
    state = "[green]head[/green]" if current == heads else "[yellow]behind[/yellow]"
    console.print(f"{', '.join(sorted(current)) or 'base'} ({state}; heads: {', '.join(sorted(heads))})")


def _engine() -> Any:
    return get_engine()


@audit_app.command("verify")
@friendly
def audit_verify() -> None:
    """Recompute the audit chain; exit code 1 on any edited, inserted or deleted row."""
    with unit_of_work() as session:
        report = audit.verify(session)
    if report.ok:
        console.print(f"[green]audit log intact[/green]: {report.checked} entries")
        return
    for problem in report.problems:
        err.print(f"[red]FAIL[/red] {problem}", highlight=False)
    raise typer.Exit(1)


@scheme_app.command("show")
@friendly
def scheme_show(name: Annotated[str, typer.Argument(help="File stem, e.g. 2023-normal.")]) -> None:
    """Print every parameter of a scheme with the regulation it implements."""
    from rich.table import Table

    scheme = load(name)
    console.print(f"[bold]{scheme.title}[/bold] ({scheme.name} v{scheme.version}, sha256 {file_hash(name)[:12]})")
    console.print(f"berlaku / effective: {scheme.effective_from} - {scheme.effective_to or 'sekarang / now'}")
    console.print(f"dasar / reference: {scheme.reference}")
    table = Table("section", "parameter", "value")
    for section_name in ("training", "incentive", "survey_incentive", "eligibility"):
        section = getattr(scheme, section_name)
        for field, value in section.model_dump().items():
            if field == "reference":
                continue
            shown = format_rupiah(value) if field in {"balance", "amount"} else str(value)
            table.add_row(section_name, field, shown)
        table.add_row(section_name, "reference", section.reference, end_section=True)
    console.print(table)


@scheme_app.command("list")
@friendly
def scheme_list() -> None:
    """List the available schemes."""
    for name in available():
        scheme = load(name)
        console.print(f"{name}\t{scheme.effective_from} - {scheme.effective_to or ''}\t{scheme.title}")


@app.command()
@friendly
def demo(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    reset: Annotated[bool, typer.Option(help="Start again from an empty database.")] = False,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare the data and stop.")] = False,
    simulators: Annotated[
        bool,
        typer.Option(help="Also run the simulators the demo relies on (off: you run them, e.g. with faults)."),
    ] = True,
) -> None:
    """Prepare the embedded database, seed a small demo program and serve it, with the simulators of the outside
    systems it relies on (the civil registry; the SMS gateway when SMS go out over HTTP). One signal stops all."""
    import prakerja.demo as demo_data  # lazy: the demo seeds and the simulators it runs

    def program() -> Any:
        """The web application the demo's simulators buy through (built only when the demo buys)."""
        from prakerja.app import create_app  # lazy: the web application, every page (about 1 s)

        return create_app()

    with _stops_on_signal():
        stand_ins = demo_data.simulators() if simulators and not no_serve else []
        if not no_serve:
            check_port_free(host, port)
        payments = demo_data.payments_url() if simulators else None
        checked = [(sim.name, sim.setting, sim.url) for sim in stand_ins]
        if payments is not None:
            checked.append(("payment partners", "PRAKERJA_PAYMENTS_SIM_URL", payments))
        for name, setting, url in checked:
            address = demo_data.simulator_address(url)
            assert address is not None
            check_port_free(
                *address,
                hint=f"the demo runs its {name} simulator there ({setting}={url}); stop what listens "
                f"there, set {setting} to a free port, or start the demo with --no-simulators",
            )
        prepared = demo_data.prepare(
            reset=reset, program=program, pay=payments is not None, keep_payments=payments is not None and not no_serve
        )
        console.print("[bold green]Demo ready.[/bold green] Logins (e-mail / password):")
        for role, email, password in prepared.logins:
            console.print(f"  {role:<16} {email:<34} {password}")
        if dev_mailbox_enabled():
            console.print("E-mail and SMS are not sent: each person reads their own at /dev/kotak-pesan.")
        if prepared.paid:
            paid = sum(p["amount"] for found in prepared.paid.values() for p in found if p["status"] == "succeeded")
            console.print(f"Incentive paid through the payment partners' simulator: {format_rupiah(paid)}.")
        if no_serve:
            return
        running: list[Any] = [prepared.payments] if prepared.payments is not None else []
        if payments is not None:
            console.print(
                f"Payment partners simulator: {payments} (PRAKERJA_PAYMENTS_SIM_URL); the OTP codes it texts are at "
                f"{payments}/ovo/sim/outbox and {payments}/bni/sim/outbox",
                highlight=False,
            )
        try:
            for sim in stand_ins:
                running.append(sim.start())
                console.print(f"{sim.name} simulator: {sim.url} ({sim.setting})", highlight=False)
            console.print(f"Open [link]http://{host}:{port}[/link]  (Ctrl+C to stop)")
            _serve(host, port, in_process_worker=True)
        finally:
            # stopped by the same signal, once the web server and its worker are done: a job still running
            # when the signal came (an SMS, an identity check) finishes against its simulator, not a closed port
            for started in running:
                started.join()


def main() -> None:
    try:
        app()
    except SettingsError as error:
        err.print(f"[red]error:[/red] {error}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()

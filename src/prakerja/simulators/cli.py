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

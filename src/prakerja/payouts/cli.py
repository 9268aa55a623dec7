"""``prakerja payouts ...``: operator commands (``run``: start or resume the day's payout run and send it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from prakerja.kit.money import format_rupiah

app = typer.Typer(help="Incentive and settlement payouts through payment partners.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("run")
def run(
    day: Annotated[str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today in Jakarta).")] = None,
    kind: Annotated[str, typer.Option(help="incentives or settlement.")] = "incentives",
) -> None:
    """Start (or resume) the payout run of a day: due entitlements -> batches per partner -> ledger -> partners.
    Running it again never pays twice; it sends what is still unsent and asks partners about the rest."""
    from prakerja.audit.service import Actor  # lazy: the services (about 150 modules)
    from prakerja.db import session_factory, unit_of_work
    from prakerja.kit.clock import clock
    from prakerja.payouts.models import RunKind
    from prakerja.payouts.service import runs

    try:
        run_date = date.fromisoformat(day) if day else clock.today_jakarta().date()
        run_kind = RunKind(kind)
    except ValueError as error:
        err.print(f"[red]invalid option[/red]: {error}")
        raise typer.Exit(2) from None
    with unit_of_work() as session:
        started = runs.start(session, kind=run_kind, run_date=run_date, actor=Actor(id=None, role="operator"))
        run_id = started.id
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("Mengirim batch / sending batches", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = runs.execute(session_factory(), run_id, progress=progress)
    with unit_of_work() as session:
        view = runs.get_run(session, run_id)
    assert view is not None
    table = Table(title=f"Payout run {view.kind} {view.run_date} ({view.status})")
    for column in ("partner", "channel", "message id", "count", "control sum", "status", "instructions"):
        table.add_column(column)
    for b in view.batches:
        counts = ", ".join(f"{s} {c}" for s, (c, _a) in sorted(b.by_status.items()))
        table.add_row(
            b.provider_code, b.channel, b.message_id, str(b.count), format_rupiah(b.control_sum), b.status, counts
        )
    console.print(table)
    console.print(f"sent {summary.sent}, status queries {summary.queried}, results applied {summary.applied}")
    for problem in summary.errors[:10]:
        err.print(f"[yellow]partner problem[/yellow]: {problem}", highlight=False)

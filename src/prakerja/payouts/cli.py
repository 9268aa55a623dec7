"""``prakerja payouts ...``: operator commands for payouts (``run``: start or resume the day's payout run and send
it; ``reconcile``: a partner statement against our instructions)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from prakerja.audit.service import Actor
from prakerja.db import session_factory, unit_of_work
from prakerja.kit.clock import JAKARTA, clock
from prakerja.kit.errors import DomainError
from prakerja.kit.money import format_rupiah
from prakerja.payouts import rules
from prakerja.payouts.models import RunKind, StatementFormat
from prakerja.payouts.service import reconciliation, runs, settlements

app = typer.Typer(help="Payouts to participants and providers: runs, reconciliation.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
OPERATOR = Actor(id=None, role="operator")


def _fail(message: str) -> typer.Exit:
    """One red line and exit code 2, like every operator mistake or refused statement."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _refused(error: DomainError, where: str) -> typer.Exit:
    details = ", ".join(f"{k}={v}" for k, v in sorted(error.details.items()))
    return _fail(f"{where}: {error.code}: {error.message_en}" + (f" ({details})" if details else ""))


@app.command("run")
def run(
    day: Annotated[str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today in Jakarta).")] = None,
    kind: Annotated[str, typer.Option(help="incentives or settlement.")] = "incentives",
    period: Annotated[
        str | None,
        typer.Option(help="With --kind settlement: the month to settle, YYYY-MM (default: the month before the run)."),
    ] = None,
) -> None:
    """Start (or resume) the payout run of a day: due entitlements -> batches per partner -> ledger -> partners.
    With --kind settlement, first the period's settlements (what institutions and platforms are owed from accepted
    completions, one per organisation and month) are prepared, then they are paid the same way. Running it again
    never pays twice; it sends what is still unsent and asks partners about the rest; a settlement held back at the
    day's run and due since (an account verified after it) is paid by a further run of the same day."""
    try:
        run_date = date.fromisoformat(day) if day else clock.today_jakarta().date()
        run_kind = RunKind(kind)
    except ValueError as error:
        raise _fail(f"invalid option: {error}") from None
    if period is not None and run_kind is not RunKind.settlement:
        raise _fail("--period goes with --kind settlement")
    with unit_of_work() as session:
        if run_kind is RunKind.settlement:
            month = period or rules.previous_period(run_date)
            try:
                prepared, started_or_none = settlements.start_run(
                    session, period=month, run_date=run_date, actor=OPERATOR
                )
            except DomainError as error:
                raise _refused(error, f"settlement {month}") from None
            console.print(
                f"settlement {month}: {prepared.created} new ({prepared.blocked} held back), "
                f"{prepared.existing} already prepared, {format_rupiah(prepared.amount)} new",
                highlight=False,
            )
            if started_or_none is None:
                console.print("nothing due: no settlement run", highlight=False)
                return
            started = started_or_none
            if started.sequence > 1:
                console.print(f"further settlement run {started.sequence} of {run_date}", highlight=False)
        else:
            started = runs.start(session, kind=run_kind, run_date=run_date, actor=OPERATOR)
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


@app.command("reconcile")
def reconcile(
    provider: Annotated[str | None, typer.Option(help="The payment partner's code (bni, ovo); default: all.")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Fetch the partner's statement of this day (YYYY-MM-DD) over HTTP.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Ingest this statement file (camt.053 XML or CSV)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Statement to fetch with --date: camt053 or csv.")
    ] = StatementFormat.camt053.value,
) -> None:
    """Ingest a partner statement (fetched with --date, or a file), match it with our instructions by end-to-end id
    and print the differences still open. Exit code 1 while any difference is unexplained, 0 when none is, 2 when a
    statement is refused (bad control sums, duplicate, malformed, unknown partner) or unavailable."""
    if day is not None and file is not None:
        raise _fail("give --date or --file, not both")
    if file is not None and provider is None:
        raise _fail("--file needs --provider (whose statement it is)")
    if fmt not in {f.value for f in StatementFormat}:
        raise _fail("--format is camt053 or csv")
    statement_day = None
    if day is not None:
        try:
            statement_day = date.fromisoformat(day)
        except ValueError:
            raise _fail("--date is YYYY-MM-DD") from None
    if file is not None and provider is not None:
        try:
            with unit_of_work() as session:
                report = reconciliation.ingest_statement(
                    session, provider_code=provider, content=file.read_bytes(), actor=OPERATOR
                )
        except DomainError as error:
            raise _refused(error, str(file)) from None
        _print_report(report)
    elif statement_day is not None:
        with unit_of_work() as session:
            codes = [provider] if provider else [p.code for p in reconciliation.providers(session) if p.active]
        if not codes:
            raise _fail("no payment partner is registered")
        for code in codes:
            try:
                with unit_of_work() as session:
                    report = reconciliation.fetch_and_ingest(
                        session, provider_code=code, day=statement_day, actor=OPERATOR, fmt=StatementFormat(fmt)
                    )
            except DomainError as error:
                raise _refused(error, f"{code} {statement_day}") from None
            _print_report(report)
    else:
        with unit_of_work() as session:
            explained = reconciliation.recheck(session, actor=OPERATOR)
        if explained:
            console.print(f"explained since the last statement: {explained}")
    try:
        with unit_of_work() as session:
            provider_id = reconciliation.provider(session, provider).id if provider else None
    except DomainError as error:
        raise _refused(error, "--provider") from None
    with unit_of_work() as session:
        codes_by_id = {p.id: p.code for p in reconciliation.providers(session)}
        still_open = reconciliation.differences(session, provider_id=provider_id, open_only=True, limit=1000)
        total = reconciliation.open_difference_count(session, provider_id=provider_id)
    if not still_open:
        console.print("[green]reconciled[/green]: no open differences")
        return
    table = Table(title="Open differences")
    table.add_column("partner")
    table.add_column("end-to-end id", no_wrap=True)
    table.add_column("difference", no_wrap=True)
    table.add_column("expected", justify="right")
    table.add_column("on statement", justify="right")
    table.add_column("found at")
    for difference in still_open:
        table.add_row(
            codes_by_id.get(difference.provider_id, "?"),
            difference.end_to_end_id,
            difference.kind.value,
            format_rupiah(difference.expected_amount) if difference.expected_amount is not None else "-",
            format_rupiah(difference.actual_amount) if difference.actual_amount is not None else "-",
            difference.created_at.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M WIB"),
        )
    console.print(table)
    if total > len(still_open):
        console.print(f"... and {total - len(still_open)} more")
    err.print(f"[red]{total} open difference(s)[/red]: resolve each on /pmo/pembayaran/rekonsiliasi")
    raise typer.Exit(1)


def _print_report(report: reconciliation.IngestReport) -> None:
    found = ", ".join(f"{kind.value} {n}" for kind, n in sorted(report.new_differences.items())) or "none"
    console.print(
        f"{report.provider} statement {report.statement_ref}: {report.entries} entries, "
        f"{format_rupiah(report.control_sum)}; new differences: {found}; explained: {report.explained}",
        highlight=False,
    )

"""``prakerja ledger ...``: operator commands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prakerja.db import unit_of_work
from prakerja.kit.money import format_rupiah

app = typer.Typer(help="The double-entry ledger (training balances, incentives).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("check")
def check() -> None:
    """Sum zero per ledger, totals = sum of transfers, no pending resolved twice, hash chain intact.
    Exit code 1 on any failure."""
    from prakerja.ledger import service  # lazy: the ledger's services (about 100 modules)

    with unit_of_work() as session:
        report = service.check(session)
    if report.ok:
        console.print(f"[green]ledger consistent[/green]: {report.transfers} transfers, {report.accounts} accounts")
        return
    for problem in report.problems:
        err.print(f"[red]FAIL[/red] {problem}", highlight=False)
    raise typer.Exit(1)


@app.command("totals")
def totals(
    scheme: Annotated[str, typer.Argument(help="Scheme, e.g. 2023-normal.")],
    year: Annotated[int, typer.Argument(help="Year, e.g. 2026.")],
) -> None:
    """Training money of a scheme-year: budget, committed, spent, refunded, forfeited, pending."""
    from prakerja.ledger import service  # lazy: the ledger's services (about 100 modules)

    with unit_of_work() as session:
        result = service.program_totals(session, scheme=scheme, year=year)
    table = Table("total", "rupiah", title=f"{scheme} {year}")
    for name in ("budget", "committed", "spent", "refunded", "forfeited", "pending"):
        table.add_row(name, format_rupiah(getattr(result, name)))
    console.print(table)

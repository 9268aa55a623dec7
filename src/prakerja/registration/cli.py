"""Operator commands: ``prakerja registration ...`` and ``prakerja exclusions import ...``."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.errors import DomainError
from prakerja.registration.service import bulk, integrity, lists

console = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    """One red line and exit code 2, like every operator mistake."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


registration_app = typer.Typer(help="Applicants: offline bulk registration, integrity scans.", no_args_is_help=True)
exclusions_app = typer.Typer(help="Exclusion lists and whitelists from ministries.", no_args_is_help=True)


@exclusions_app.command("import")
def import_list(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (header 'nik') or Parquet file.")],
    list_type: Annotated[str, typer.Option("--type", help="e.g. asn, tni, student, other_aid_dtks, laid_off")],
    source: Annotated[str, typer.Option(help="Who supplied it, e.g. BKN, Kemendikbudristek.")],
    as_of: Annotated[datetime.datetime, typer.Option(formats=["%Y-%m-%d"], help="Date of the data.")],
    mode: Annotated[str, typer.Option(help="merge (add) or replace (the whole list from this source).")] = "merge",
) -> None:
    """Import one list; NIKs are stored only as blind indexes, with provenance and an audit entry."""

    def run() -> None:
        try:
            with unit_of_work() as session:
                result = lists.import_list(
                    session,
                    data=path.read_bytes(),
                    filename=path.name,
                    list_type=list_type,
                    source=source,
                    as_of=as_of.date(),
                    mode=mode,
                    actor=Actor.system(),
                    via="cli",
                )
        except DomainError as error:
            raise _fail(f"{error.code}: {error.message_en} {error.details or ''}".strip()) from None
        console.print(
            f"[green]{result.list_type}[/green] ({result.mode}): read {result.rows_read}, "
            f"invalid {result.rows_invalid}, added {result.rows_added}, removed {result.rows_removed}, "
            f"now {result.rows_total}"
        )

    run()


@registration_app.command("import-offline")
def import_offline(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with the columns of bulk.COLUMNS.")],
) -> None:
    """Register applicants recorded offline (regional manpower offices). Invalid rows are counted and skipped;
    NIKs already registered are skipped. The whole file is registered in one transaction; rows are prepared on
    every core."""

    def run() -> None:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            try:
                order = bulk.csv_order(next(csv.reader(handle), []))
            except bulk.HeaderError:
                raise _fail(f"{path}: header must be {','.join(bulk.COLUMNS)}") from None
            # the preparing processes fork first, before the progress bar's thread and the database connection;
            # a small file (a few chunks) is prepared here, where forking would cost more than it saves
            processes = None if path.stat().st_size > bulk.SMALL_FILE_BYTES else 1
            with bulk.preparers(processes) as pool, Progress(console=console) as progress, unit_of_work() as session:
                task = progress.add_task("registering", total=None)
                result = bulk.import_csv(
                    session, handle, order, pool=pool, on_rows=lambda read: progress.update(task, completed=read)
                )
        console.print(
            f"read {result.rows_read}, invalid {result.rows_invalid}, registered {result.rows_inserted}, "
            f"already registered {result.rows_duplicate}"
        )

    run()


@registration_app.command("scan-integrity")
def scan_integrity() -> None:
    """Raise integrity flags now (shared phone/device/IP/payout account, registration bursts)."""

    def run() -> None:
        with unit_of_work() as session:
            written = integrity.scan(session)
        console.print(f"flags written or refreshed: {written}")

    run()

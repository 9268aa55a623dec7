"""``prakerja wave ...``: operators run waves: create, quotas, tiers, open, close, region lists. The lottery's
commands under the same group (commit, seed, fairness, disqualify, kk-cap, announce) are selection's
(:mod:`prakerja.selection.cli`), added to this group by :mod:`prakerja.cli`: waves never calls selection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.cli import in_transaction
from prakerja.waves import service
from prakerja.waves.models import StratumLevel

app = typer.Typer(
    help="Waves (gelombang): quotas, joining, closing, commitment, draw, announcement.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)

T = TypeVar("T")

CLI_ACTOR = Actor(id=None, role="operator_cli")
"""Audit entries written from the command line name the operator's shell, not an account."""


def _run(action: Callable[[Session], T]) -> T:
    """One transaction; a refusal prints its stable code and message on one line, exit code 2."""
    return in_transaction(unit_of_work, action)


def _wave_id(value: str) -> uuid.UUID:
    """A wave by its number or id (a refusal exits with code 2)."""
    return _run(lambda s: service.wave_id_of(s, value))


WaveArg = Annotated[str, typer.Argument(help="Wave number or id.")]


@app.command("create")
def create(
    title: Annotated[str, typer.Option(help="Title, e.g. 'Gelombang 1'.")],
    scheme: Annotated[str, typer.Option(help="Scheme name, e.g. 2023-normal.")],
    opens_at: Annotated[datetime, typer.Option(help="ISO time with zone, e.g. 2026-03-01T00:00:00+07:00.")],
    closes_at: Annotated[datetime, typer.Option(help="ISO time with zone.")],
    total_quota: Annotated[int, typer.Option(help="Places in the wave.")],
    level: Annotated[str, typer.Option(help="Stratum level: regency or province.")] = "regency",
    province: Annotated[list[str] | None, typer.Option(help="Restrict to a province code (repeatable).")] = None,
    tiers: Annotated[Path | None, typer.Option(help="JSON file: ordered priority tiers.")] = None,
) -> None:
    """Create a draft wave (the scheme and its file hash are frozen into it)."""
    tier_data = json.loads(tiers.read_text()) if tiers else []
    wave = _run(
        lambda s: service.create_wave(
            s,
            title=title,
            scheme=scheme,
            opens_at=opens_at,
            closes_at=closes_at,
            total_quota=total_quota,
            stratum_level=StratumLevel(level),
            provinces=province or [],
            priority_tiers=tier_data,
            actor=CLI_ACTOR,
        )
    )
    console.print(f"wave {wave.number} created: {wave.id}")


@app.command("list")
def list_() -> None:
    """Every wave with its state."""
    table = Table("number", "state", "scheme", "total quota", "eligible")
    table.add_column("id", overflow="fold", min_width=36)
    for wave in _run(lambda s: service.list_waves(s)):
        table.add_row(
            str(wave.number),
            wave.state.value,
            wave.scheme_name,
            str(wave.total_quota),
            "" if wave.eligible_count is None else str(wave.eligible_count),
            str(wave.id),
        )
    console.print(table)


@app.command("quotas")
def quotas(
    wave: WaveArg,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="stratum,quota file.")] = None,
    by_applicants: Annotated[bool, typer.Option("--by-applicants", help="Proportional to applicants.")] = False,
    labour_force: Annotated[Path | None, typer.Option(help="stratum,labour_force[,weight] file.")] = None,
) -> None:
    """Set the stratum quotas from a CSV or a formula (validated; nothing changes on any problem)."""
    wave_id = _wave_id(wave)
    if csv_file is not None:
        content = csv_file.read_text(encoding="utf-8")
        result = _run(lambda s: service.set_quotas_from_csv(s, wave_id, content, actor=CLI_ACTOR))
    elif labour_force is not None:
        content = labour_force.read_text(encoding="utf-8")
        result = _run(lambda s: service.set_quotas_by_labour_force(s, wave_id, content, actor=CLI_ACTOR))
    elif by_applicants:
        result = _run(lambda s: service.set_quotas_by_applicants(s, wave_id, actor=CLI_ACTOR))
    else:
        result = _run(lambda s: service.quotas(s, wave_id))
    console.print(f"{len(result)} strata, total {sum(result.values())}")


@app.command("tiers")
def tiers(
    wave: WaveArg,
    tiers_file: Annotated[
        Path,
        typer.Argument(help='JSON: [{"name", "whitelist_types": [...], "regencies": [...], "region_list": NAME}]'),
    ],
) -> None:
    """Set the ordered priority tiers (e.g. laid-off workers; the extreme-poverty regencies as an imported region
    list, whose codes are frozen into the wave) before closing."""
    wave_id = _wave_id(wave)
    try:
        data = json.loads(tiers_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        err.print(f"[red]error:[/red] tiers_malformed: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    updated = _run(lambda s: service.set_priority_tiers(s, wave_id, data, actor=CLI_ACTOR))
    console.print(f"{len(updated.priority_tiers)} priority tiers set")


@app.command("open")
def open_(wave: WaveArg) -> None:
    """Open a draft wave for joining."""
    wave_id = _wave_id(wave)
    _run(lambda s: service.open_wave(s, wave_id, actor=CLI_ACTOR))
    console.print("open")


@app.command("close")
def close(wave: WaveArg) -> None:
    """Close joining, re-check eligibility and freeze the eligible set."""
    wave_id = _wave_id(wave)
    closed = _run(lambda s: service.close_wave(s, wave_id, actor=CLI_ACTOR))
    console.print(f"closed: {closed.eligible_count} eligible, {closed.ineligible_count} not eligible")


# ---------------------------------------------------------------------------------------------- region lists

region_lists = typer.Typer(
    help="Named region lists with their provenance (e.g. the extreme-poverty regencies), usable as priority tiers.",
    no_args_is_help=True,
)
app.add_typer(region_lists, name="region-list")


@region_lists.command("import")
def region_list_import(
    name: Annotated[str, typer.Argument(help="Slug used in tiers, e.g. kemiskinan-ekstrem-2022.")],
    file: Annotated[Path, typer.Argument(help="Regency codes: one per line or CSV (code[,name]); 32.01 accepted.")],
    source: Annotated[str, typer.Option(help="The regulation or document the codes come from (and its annex).")],
    as_of: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The source's date, YYYY-MM-DD.")],
) -> None:
    """Import a list; every code is checked against the official region list (nothing saved on any problem)."""
    if not file.is_file():
        err.print(f"[red]error:[/red] file_missing: {file} is not a file", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    content = file.read_text(encoding="utf-8", errors="replace")
    imported = _run(
        lambda s: service.import_region_list(
            s, name=name, content=content, source=source, as_of=as_of.date(), actor=CLI_ACTOR
        )
    )
    console.print(
        f"region list {imported.name}: {len(imported.codes)} regencies, as of {imported.as_of.isoformat()}, "
        f"sha256 {imported.codes_sha256}",
        highlight=False,
    )


@region_lists.command("list")
def region_list_list() -> None:
    """Every imported region list with its provenance."""
    table = Table("regencies", "as of", "source", "sha256")
    table.add_column("name", no_wrap=True)
    for item in _run(lambda s: service.list_region_lists(s)):
        table.add_row(str(len(item.codes)), item.as_of.isoformat(), item.source, item.codes_sha256[:12], item.name)
    console.print(table)

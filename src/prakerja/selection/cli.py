"""Selection's commands: ``prakerja selection verify DIR`` (anyone can check a wave's published files) and the
lottery's steps of a wave, ``prakerja wave commit|seed|fairness|disqualify|kk-cap|announce`` (added to the wave
group by :mod:`prakerja.cli`, since waves never calls selection)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.cli import in_transaction
from prakerja.waves import service as waves

app = typer.Typer(help="The selection lottery's published files.", no_args_is_help=True)
wave_commands = typer.Typer(help="The lottery's steps of a wave.", no_args_is_help=True)
"""Its commands join ``prakerja wave`` (see :func:`add_wave_commands`)."""
console = Console()
err = Console(stderr=True)

T = TypeVar("T")

CLI_ACTOR = Actor(id=None, role="operator_cli")
"""Audit entries written from the command line name the operator's shell, not an account."""


def add_wave_commands(group: typer.Typer) -> None:
    """Adds the lottery's steps to the ``prakerja wave`` group, under the names they always had."""
    for command in wave_commands.registered_commands:
        group.registered_commands.append(command)


def _run(action: Callable[[Session], T]) -> T:
    """One transaction; a refusal prints its stable code and message on one line, exit code 2."""
    return in_transaction(unit_of_work, action)


def _wave_id(value: str) -> uuid.UUID:
    """A wave by its number or id (a refusal exits with code 2)."""
    return _run(lambda s: waves.wave_id_of(s, value))


WaveArg = Annotated[str, typer.Argument(help="Wave number or id.")]


@wave_commands.command("commit")
def commit(
    wave: WaveArg,
    source: Annotated[str, typer.Option(help="Public randomness source, e.g. a beacon's name.")],
    reference: Annotated[str, typer.Option(help="The future value's reference, e.g. a round number.")],
) -> None:
    """Write, sign and publish the commitment (eligible.csv, commitment.json/.sig, public-key.pem)."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    draw = _run(
        lambda s: service.commit(s, wave_id, randomness_source=source, randomness_reference=reference, actor=CLI_ACTOR)
    )
    console.print(f"committed {draw.eligible_count} entries, root {draw.merkle_root}; files in {draw.folder}")


@wave_commands.command("seed")
def seed(
    wave: WaveArg,
    reference: Annotated[str, typer.Option(help="Reference of the revealed value (must match the commitment).")],
    value: Annotated[str, typer.Option(help="The revealed public random value, hex.")],
) -> None:
    """Give the revealed random value; the draw runs and its results are stored (published at announcement)."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    draw = _run(lambda s: service.seed(s, wave_id, reference=reference, value=value, actor=CLI_ACTOR))
    state = "[green]pass[/green]" if draw.fairness_ok else "[red]FAIL[/red]"
    console.print(f"drawn: {draw.selected_count} selected; fairness {state}")


@wave_commands.command("fairness")
def fairness(wave: WaveArg) -> None:
    """Print the fairness report."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    report = _run(lambda s: service.fairness(s, waves.get_wave(s, wave_id)))
    console.print_json(json.dumps(report.to_json()))
    if not report.ok:
        raise typer.Exit(1)


@wave_commands.command("disqualify")
def disqualify(
    wave: WaveArg,
    entry_hash: Annotated[str, typer.Option(help="The selected entry's hash (hex).")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
) -> None:
    """A selected person found ineligible before the decree: replaced by the first on the stratum's waitlist."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    promoted = _run(lambda s: service.disqualify(s, wave_id, entry_hash, reason=reason, actor=CLI_ACTOR))
    console.print("promoted " + (promoted.entry_hash.hex() if promoted else "nobody (waitlist empty)"))


@wave_commands.command("kk-cap")
def kk_cap(wave: WaveArg) -> None:
    """Before the decree: replace members of one family card selected beyond the scheme's cap from the waitlist
    (the announcement does it too; this shows the changes first)."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    changes = _run(lambda s: service.apply_kk_cap(s, wave_id, actor=CLI_ACTOR))
    for change in changes:
        console.print(f"{change.action:12} {change.entry_hash.hex()} stratum {change.stratum}", highlight=False)
    console.print(
        f"{sum(1 for c in changes if c.action != 'promoted')} over the family-card cap, "
        f"{sum(1 for c in changes if c.action == 'promoted')} promoted"
    )


@wave_commands.command("announce")
def announce(
    wave: WaveArg,
    override_reason: Annotated[
        str | None, typer.Option(help="Publish despite a failed fairness check, because...")
    ] = None,
) -> None:
    """Publish results (after the fairness checks) and tell everyone; recipients are created by jobs."""
    from prakerja.selection import service  # lazy: the draw and its libraries (about 130 modules)

    wave_id = _wave_id(wave)
    _run(lambda s: service.announce(s, wave_id, actor=CLI_ACTOR, override_reason=override_reason))
    console.print("announced; outcomes are being sent by the worker")


# ---------------------------------------------------------------------------------------------- verify


@app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="A wave's publication folder.")],
    proof: Annotated[Path | None, typer.Option(help="An applicant's proof file.")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The program's published public key (PEM) to pin, instead of the folder's.")
    ] = None,
    require_draw: Annotated[bool, typer.Option(help="Fail when seed.json/results.csv are not published yet.")] = False,
) -> None:
    """Contract section 6: the signature, eligible.csv and its Merkle root, the seed's reference and results.csv
    byte for byte; with --proof, the entry's inclusion, ticket and outcome. Exit code 1 naming the first failure."""
    for path, what in ((folder, "folder"), (proof, "file"), (public_key, "file")):
        if path is None:
            continue
        if (what == "folder" and not path.is_dir()) or (what == "file" and not path.is_file()):
            err.print(f"FAIL missing: {path} is not a {what}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
    result = lottery.verify_folder(
        folder, proof, public_key=public_key.read_bytes() if public_key else None, require_draw=require_draw
    )
    if result.key_pinned:
        console.print("key  commitment.sig checked against the program's public key given with --public-key")
    else:
        console.print(
            "key  no --public-key given: trusted the folder's own public-key.pem (compare it with the program's "
            "published key)",
            highlight=False,
            soft_wrap=True,
        )
    for name in result.passed:
        console.print(f"ok   {name}", highlight=False)
    if not result.ok:
        err.print(f"FAIL {result.code}: {result.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if result.proof is not None:
        p = result.proof
        console.print(
            f"entry {p.entry_hash} is leaf {p.leaf_index} (stratum {p.stratum}, tier {p.tier})", highlight=False
        )
        if p.outcome is not None:
            console.print(
                f"ticket {p.ticket}, rank {p.rank}, outcome {p.outcome}, probability {p.probability}", highlight=False
            )
    console.print(f"OK: {result.message}", highlight=False)

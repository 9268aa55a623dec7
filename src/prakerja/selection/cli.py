"""``prakerja selection verify DIR [--proof FILE]``: anyone can check a wave's published files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The selection lottery's published files.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


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
    from prakerja.selection import lottery

    for path, what in ((folder, "folder"), (proof, "file"), (public_key, "file")):
        if path is None:
            continue
        if (what == "folder" and not path.is_dir()) or (what == "file" and not path.is_file()):
            err.print(f"FAIL missing: {path} is not a {what}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
    result = lottery.verify_folder(
        folder, proof, public_key=public_key.read_bytes() if public_key else None, require_draw=require_draw
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

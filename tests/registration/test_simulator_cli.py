"""``prakerja sim dukcapil``: the command exists, refuses bad options, and the population is deterministic."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from prakerja.cli import app
from prakerja.simulators import dukcapil


def test_help_and_bad_fault() -> None:
    assert "civil registry" in CliRunner().invoke(app, ["sim", "dukcapil", "--help"]).output
    refused = CliRunner().invoke(app, ["sim", "dukcapil", "--fault", "explode"])
    assert refused.exit_code == 2


def test_population_is_deterministic_and_synthetic(tmp_path: Path) -> None:
    first = dukcapil.generate_population(tmp_path / "a.jsonl", 50).read_bytes()
    second = dukcapil.generate_population(tmp_path / "b.jsonl", 50).read_bytes()
    assert first == second
    people = dukcapil.load_population(tmp_path / "a.jsonl")
    assert len(people) == 50 and all(len(nik) == 16 for nik in people)

"""``prakerja wave ...``: an operator's run, and refusals printed as one line with their code (exit 2)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from prakerja.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["wave", *args])
    return result.exit_code, result.output


def test_operator_run_and_refusals(clean_db: Engine, tmp_path: Path) -> None:
    code, out = run(
        "create",
        "--title", "Gelombang CLI",
        "--scheme", "2023-normal",
        "--opens-at", "2026-03-01T00:00:00+07:00",
        "--closes-at", "2026-03-08T00:00:00+07:00",
        "--total-quota", "10",
    )  # fmt: skip
    assert code == 0 and "wave 1 created" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("stratum,quota\n3201,-1\n9999,11\n")
    code, out = run("quotas", "1", "--csv", str(bad))
    assert code == 2 and "invalid_quotas" in out and "quota_negative" in out
    good = tmp_path / "good.csv"
    good.write_text("stratum,quota\n3201,6\n3273,4\n")
    assert run("quotas", "1", "--csv", str(good)) == (0, "2 strata, total 10\n")
    tiers = tmp_path / "tiers.json"
    tiers.write_text('[{"name": "PHK", "whitelist_types": ["laid_off"]}, {"name": "miskin", "regencies": ["9171"]}]')
    assert run("tiers", "1", str(tiers)) == (0, "2 priority tiers set\n")
    assert run("open", "1")[0] == 0
    code, out = run("seed", "1", "--reference", "r", "--value", "aa")
    assert code == 2 and "wave_not_committed" in out
    code, out = run("list")
    assert code == 0 and "open" in out
    assert run("open", "7")[0] == 2


def test_a_wave_is_named_by_its_number_or_id(clean_db: Engine) -> None:
    for unknown in ("7", "bukan-gelombang", "00000000-0000-0000-0000-000000000000"):
        code, out = run("open", unknown)
        assert code == 2 and "wave_not_found" in out, out
        code, out = run("commit", unknown, "--source", "drand", "--reference", "1")
        assert code == 2 and "wave_not_found" in out, out

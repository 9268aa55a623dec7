"""``prakerja ledger check`` and ``prakerja ledger totals``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.cli import app
from tests.ledger.conftest import Program


def test_check_passes_then_reports_a_tampered_row(session: Session, program: Program) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["ledger", "check"])
    assert ok.exit_code == 0 and "ledger consistent" in ok.output
    session.execute(text("SET session_replication_role = replica"))
    session.execute(text("UPDATE ledger_transfers SET ref_id = 'diubah' WHERE code = 'fund'"))
    session.execute(text("SET session_replication_role = origin"))
    session.commit()
    failed = runner.invoke(app, ["ledger", "check"])
    assert failed.exit_code == 1 and "row edited" in failed.output


def test_totals(session: Session, program: Program) -> None:
    result = CliRunner().invoke(app, ["ledger", "totals", "2023-normal", "2026"])
    assert result.exit_code == 0 and "Rp100.000.000" in result.output and "Rp3.500.000" in result.output

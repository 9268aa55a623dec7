"""``prakerja payouts reconcile``: exit code 0 when nothing is left unexplained, 1 while a difference is open (listed
in a table), 2 when a statement is refused or the command is misused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.service import Actor
from prakerja.cli import app
from prakerja.payouts.models import Difference, PayoutProvider
from prakerja.payouts.service import reconciliation
from tests.payouts.conftest import PaymentsSim
from tests.payouts.recon_factory import DAY, PAID_AT, counts, create_instruction, create_provider, pay_at_sim


@pytest.fixture
def bni(session: Session, payments_sim: PaymentsSim) -> PayoutProvider:
    provider = create_provider(
        session, code="bni", base_url=payments_sim.base("bni"), secret=payments_sim.secrets["bni"]
    )
    session.commit()
    return provider


def reconcile(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["payouts", "reconcile", *args])
    return result.exit_code, result.output


def test_a_statement_that_matches_exits_0(session: Session, payments_sim: PaymentsSim, bni: PayoutProvider) -> None:
    paid = create_instruction(session, bni)
    session.commit()
    pay_at_sim(payments_sim.simulator.partners["bni"], paid.end_to_end_id, paid.amount)
    code, output = reconcile("--provider", "bni", "--date", DAY.isoformat())
    assert code == 0, output
    assert "BNI-20260302: 1 entries" in output and "no open differences" in output


def test_an_open_difference_exits_1_until_it_is_resolved(
    session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
) -> None:
    missing = create_instruction(session, bni)
    session.commit()
    code, output = reconcile("--date", DAY.isoformat())  # every provider
    assert code == 1
    assert missing.end_to_end_id in output and "missing" in output and "Open differences" in output
    code, output = reconcile()  # just the report
    assert code == 1 and missing.end_to_end_id in output
    difference = session.scalars(select(Difference)).one()
    reconciliation.resolve_difference(
        session,
        difference_id=difference.id,
        reason="Partner confirmed it was booked under a batch reference.",
        actor=Actor.system(),
    )
    session.commit()
    assert reconcile()[0] == 0


def test_a_statement_file(session: Session, payments_sim: PaymentsSim, bni: PayoutProvider, tmp_path: Path) -> None:
    paid = create_instruction(session, bni)
    session.commit()
    pay_at_sim(payments_sim.simulator.partners["bni"], paid.end_to_end_id, 1_000, at=PAID_AT + timedelta(minutes=5))
    path = tmp_path / "bni.csv"
    path.write_text(
        "statement_id,booked_on,end_to_end_id,amount,direction,reversal\n"
        f"BNI-X1,2026-03-02,{paid.end_to_end_id},1000,debit,false\n#total,1,1000\n"
    )
    code, output = reconcile("--provider", "bni", "--file", str(path))
    assert code == 1 and "amount_mismatch" in output


def test_refused_statements_and_misuse_exit_2(
    session: Session, payments_sim: PaymentsSim, bni: PayoutProvider, tmp_path: Path
) -> None:
    httpx.post(f"{payments_sim.base('bni')}/sim/statements", json={"corrupt": True}).raise_for_status()
    before = counts(session)
    code, output = reconcile("--provider", "bni", "--date", DAY.isoformat())
    assert code == 2 and "statement_control_mismatch" in output
    assert counts(session) == before
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Document><not-closed>")
    code, output = reconcile("--provider", "bni", "--file", str(bad))
    assert code == 2 and "statement_malformed" in output
    assert reconcile("--provider", "bca", "--file", str(bad))[0] == 2
    assert "unknown_provider" in reconcile("--provider", "bca")[1]
    assert reconcile("--file", str(bad))[0] == 2
    assert reconcile("--date", "kemarin")[0] == 2
    assert reconcile("--date", DAY.isoformat(), "--file", str(bad), "--provider", "bni")[0] == 2
    assert counts(session) == before

"""``results.apply_reports``: a status file's lines applied set-wise give the outcome each line gets one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerTransfer
from prakerja.payouts.models import (
    Entitlement,
    EntitlementStatus,
    InstructionStatus,
    PayoutInstruction,
    PayoutProvider,
    PayoutResult,
    ResultSource,
)
from prakerja.payouts.providers.paying import Report
from prakerja.payouts.service import results, runs
from tests.payouts.conftest import PaymentsSim
from tests.payouts.test_run_paying import participants, start


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=clean_db, expire_on_commit=False)


@pytest.fixture
def sent(session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim) -> list[PayoutInstruction]:
    """Three instructions with the partner (ovo), no result recorded yet."""
    participants(session, payments_sim, {"ovo": 3})
    run_id = start(factory)
    runs.execute(factory, run_id, check_after=timedelta(hours=1))
    rows = list(session.scalars(select(PayoutInstruction).order_by(PayoutInstruction.id)))
    assert [r.status for r in rows] == [InstructionStatus.sent] * 3
    return rows


def report(instruction: PayoutInstruction, status: str = "succeeded", **changes: object) -> Report:
    values: dict[str, object] = {
        "end_to_end_id": instruction.end_to_end_id,
        "status": status,
        "reason": None,
        "amount": instruction.amount,
        "occurred_at": datetime.now(UTC),
    }
    values.update(changes)
    return Report(**values)  # type: ignore[arg-type]


def apply(session: Session, lines: list[tuple[Report, str]]) -> int:
    provider = session.scalars(select(PayoutProvider).where(PayoutProvider.code == "ovo")).one()
    applied = results.apply_reports(session, provider, lines, source=ResultSource.status_file, now=datetime.now(UTC))
    session.commit()
    return applied


def transfers(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0)


def statuses(session: Session, rows: list[PayoutInstruction]) -> list[InstructionStatus]:
    session.expire_all()
    return [session.get(PayoutInstruction, r.id).status for r in rows]  # type: ignore[union-attr]


def test_successes_are_applied_once_and_a_replayed_file_changes_nothing(
    session: Session, sent: list[PayoutInstruction]
) -> None:
    lines = [(report(r), f"FILE1:{r.end_to_end_id}:succeeded:") for r in sent]
    before = transfers(session)
    assert apply(session, lines) == 3
    assert statuses(session, sent) == [InstructionStatus.succeeded] * 3
    assert transfers(session) == before + 3
    assert ledger.disbursed(session).balance == sum(r.amount for r in sent)
    for row in sent:
        entitlement = session.get(Entitlement, row.entitlement_id)
        assert entitlement is not None and entitlement.status is EntitlementStatus.paid
    assert apply(session, lines) == 0  # the same file read again
    again = [(report(r), f"FILE2:{r.end_to_end_id}:succeeded:") for r in sent]  # the same news in another file
    assert apply(session, again) == 0
    assert transfers(session) == before + 3
    rejections = sorted(r.rejection or "" for r in session.scalars(select(PayoutResult)))
    assert rejections == ["", "", "", "duplicate", "duplicate", "duplicate"]
    assert ledger.check(session).ok


def test_each_line_of_a_mixed_file_gets_its_own_outcome(session: Session, sent: list[PayoutInstruction]) -> None:
    lines = [
        (report(sent[0]), "F:0"),
        (report(sent[1], amount=sent[1].amount + 1), "F:1"),
        (report(sent[2], "failed", reason="account_closed"), "F:2"),
        (Report("PKJUNKNOWN", "succeeded", None, 1, None), "F:3"),
    ]
    assert apply(session, lines) == 2
    assert statuses(session, sent) == [InstructionStatus.succeeded, InstructionStatus.sent, InstructionStatus.failed]
    decided = {r.event_id: (r.applied, r.rejection) for r in session.scalars(select(PayoutResult))}
    assert decided == {
        "F:0": (True, None),
        "F:1": (False, "amount_mismatch"),
        "F:2": (True, None),
        "F:3": (False, "unknown_instruction"),
    }
    failed = session.get(Entitlement, sent[2].entitlement_id)
    assert failed is not None and failed.status is EntitlementStatus.needs_action
    assert ledger.disbursed(session).balance == sent[0].amount
    assert ledger.check(session).ok


def test_two_lines_of_one_id_are_applied_in_their_order(session: Session, sent: list[PayoutInstruction]) -> None:
    lines = [(report(sent[0]), "F:a"), (report(sent[0], "reversed", reason="account_closed"), "F:b")]
    assert apply(session, lines) == 2
    assert statuses(session, sent[:1]) == [InstructionStatus.reversed]
    assert ledger.disbursed(session).balance == 0
    assert ledger.check(session).ok

"""What a payout instruction costs the database (ADR 0027): the ids a run writes are the ones it always wrote, a
send is counted in place (a HOT update, no index touched), and an entitlement still has at most one open
instruction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from prakerja.payouts import rules
from prakerja.payouts.models import InstructionStatus, PayoutInstruction
from prakerja.payouts.repository import runs as repository
from prakerja.payouts.service import results
from tests.payouts.conftest import PaymentsSim
from tests.payouts.test_run_paying import participants, start


@pytest.mark.parametrize(
    ("reference", "attempt", "expected"),
    [
        (uuid.UUID("00000000-0000-0000-0000-000000000000"), 1, "PKJQA7GEPZ1ECAF754P8854HMYEAE"),
        (uuid.UUID("0190c1a2-7b3c-7d4e-8f50-61728394a5b6"), 3, "PKJBQ9QR0WGAF30ZNBWHEP64HP1E6"),
        ("PKJS-202612-bank", 12, "PKJ27T63HQR5XG5YETX1AZ04Y7GBN"),
    ],
)
def test_end_to_end_ids_are_the_ones_partners_already_hold(
    reference: uuid.UUID | str, attempt: int, expected: str
) -> None:
    """Values made by the first implementation: an instruction re-created after a crash must carry the same id."""
    assert rules.end_to_end_id(reference, attempt) == expected


@given(st.lists(st.text(min_size=1, max_size=35), max_size=5), st.sampled_from(["out", "settled", "failed"]))
def test_step_ids_are_the_system_ids(end_to_end_ids: list[str], step: str) -> None:
    assert results.step_ids(step, end_to_end_ids) == [results.system_id("payouts", step, e) for e in end_to_end_ids]
    assert all(i.version == 5 for i in results.step_ids(step, end_to_end_ids))


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=clean_db, expire_on_commit=False)


@pytest.fixture
def ready(session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim) -> list[PayoutInstruction]:
    participants(session, payments_sim, {"ovo": 4})
    start(factory)
    rows = list(session.scalars(select(PayoutInstruction).order_by(PayoutInstruction.id)))
    assert [r.status for r in rows] == [InstructionStatus.ready] * 4
    session.commit()
    return rows


def test_a_run_writes_each_instruction_with_its_transfer_id_and_ids_in_order(ready: list[PayoutInstruction]) -> None:
    for row in ready:
        assert row.end_to_end_id == rules.end_to_end_id(row.entitlement_id, row.attempt)  # type: ignore[arg-type]
        assert row.pending_transfer_id == results.transfer_ids(row.end_to_end_id)["out"]
        assert row.id.version == 7
    assert len({r.id for r in ready}) == len(ready)


def test_counting_a_send_updates_the_rows_in_place(session: Session, ready: list[PayoutInstruction]) -> None:
    """``sends``, ``next_check_at`` and ``provider_reference`` are in no index and the pages have room: every row's
    update is HOT (the transaction's own statistics count them)."""
    repository.mark_sending(session, [r.id for r in ready], reference="PKJFILE1", retry_at=datetime.now(UTC))
    updated, hot = session.execute(
        text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'payouts_instructions'")
    ).one()
    assert (updated, hot) == (len(ready), len(ready))
    session.expire_all()
    assert {(r.sends, r.provider_reference) for r in session.scalars(select(PayoutInstruction))} == {(1, "PKJFILE1")}


def test_an_entitlement_still_has_one_open_instruction(session: Session, ready: list[PayoutInstruction]) -> None:
    row = ready[0]
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO payouts_instructions (id, created_at, end_to_end_id, run_id, batch_id, provider_id, "
                "beneficiary_type, beneficiary_id, entitlement_id, payout_account_id, amount, attempt, "
                "pending_transfer_id, status, sends) SELECT gen_random_uuid(), created_at, 'PKJDUPLICATE', run_id, "
                "batch_id, provider_id, beneficiary_type, beneficiary_id, entitlement_id, payout_account_id, amount, "
                "attempt + 1, gen_random_uuid(), 'sent', 0 FROM payouts_instructions WHERE id = :id"
            ),
            {"id": row.id},
        )
    session.rollback()

"""The ledger's provider settlement accounts (ADR 0016): an institution's payable and a platform's commission are
paid on the training ledger, payable -> settlement in flight (one per batch) -> settled, a failure back to the
payable; the payable can never be paid beyond what it holds, no settlement crosses into the cash ledger, and the
books balance (``ledger check``)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode
from prakerja.ledger.schemas import BatchTransfer, TransferCreate
from tests.ledger.conftest import OFFICER, Program
from tests.ledger.test_service import authorise

PLATFORM = uuid.UUID("00000000-0000-7000-8000-000000000007")


def captured(session: Session, program: Program) -> tuple[uuid.UUID, uuid.UUID]:
    """Rp1.000.000 captured for the institution, Rp75.000 of it the platform's commission."""
    service.capture_purchase(
        session,
        transfer_id=new_id(),
        pending_id=authorise(session, program),
        actor=OFFICER,
        platform_id=PLATFORM,
        commission=75_000,
    )
    payable = service.organisation_payable(session, program.institution, platform=False)
    commission = service.organisation_payable(session, PLATFORM, platform=True)
    assert (payable.balance, commission.balance) == (925_000, 75_000)
    return payable.id, commission.id


def move(session: Session, debit: uuid.UUID, credit: uuid.UUID, amount: int, code: TransferCode) -> None:
    service.create_transfers(
        session,
        [TransferCreate(id=new_id(), debit_account_id=debit, credit_account_id=credit, amount=amount, code=code)],
    )


def test_payables_are_paid_through_settlement_in_flight_and_the_books_balance(
    session: Session, program: Program
) -> None:
    payable, commission = captured(session, program)
    batch = new_id()
    in_flight = service.settlement_in_flight(session, batch)
    assert (in_flight.kind, in_flight.ledger) == (AccountKind.settlement_in_flight, LedgerCode.training)
    out = [
        BatchTransfer(new_id(), payable, in_flight.id, 925_000, TransferCode.settlement, "payout_batch", str(batch)),
        BatchTransfer(new_id(), commission, in_flight.id, 75_000, TransferCode.settlement, "payout_batch", str(batch)),
    ]
    assert service.post_batch(session, out).created == 2
    assert service.get_account(session, in_flight.id).balance == 1_000_000
    move(session, in_flight.id, service.settled(session).id, 925_000, TransferCode.settlement_paid)
    move(session, in_flight.id, commission, 75_000, TransferCode.settlement_failed)  # refused: back to the payable
    session.commit()
    assert service.get_account(session, payable).balance == 0
    assert service.get_account(session, commission).balance == 75_000
    assert service.get_account(session, in_flight.id).balance == 0
    assert service.settled(session).balance == 925_000
    report = service.check(session)
    assert report.ok, report.problems
    sums = session.execute(
        text("SELECT ledger, sum(credits_posted - debits_posted) FROM ledger_accounts GROUP BY ledger ORDER BY ledger")
    ).all()
    assert all(total == 0 for _ledger, total in sums)


def test_a_payable_is_never_paid_beyond_what_it_holds(session: Session, program: Program) -> None:
    payable, _commission = captured(session, program)
    in_flight = service.settlement_in_flight(session, new_id()).id
    session.commit()
    with pytest.raises(DomainError) as refused:
        service.post_batch(session, [BatchTransfer(new_id(), payable, in_flight, 925_001, TransferCode.settlement)])
    assert refused.value.code == "insufficient_funds"
    session.rollback()
    assert service.get_account(session, payable).balance == 925_000


def test_a_settlement_never_crosses_into_the_cash_ledger(session: Session, program: Program) -> None:
    payable, _commission = captured(session, program)
    cash_in_flight = service.payouts_in_flight(session, new_id()).id
    with pytest.raises(DomainError) as refused:
        move(session, payable, cash_in_flight, 1_000, TransferCode.settlement)
    assert refused.value.code == "ledger_mismatch"

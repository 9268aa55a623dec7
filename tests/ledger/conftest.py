"""Ledger test helpers: keyword-only factories with sensible defaults."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.models import AccountKind, LedgerCode
from prakerja.ledger.schemas import Account

SCHEME = "2023-normal"
YEAR = 2026
OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-000000000001"), role="pmo_officer")


def allocate(session: Session, *, amount: int = 100_000_000, ledger: LedgerCode = LedgerCode.training) -> None:
    service.allocate_budget(
        session, transfer_id=new_id(), scheme=SCHEME, year=YEAR, amount=amount, actor=OFFICER, ledger=ledger
    )


def funded_wallet(session: Session, *, participant: uuid.UUID | None = None, amount: int | None = None) -> Account:
    participant = participant or new_id()
    service.fund_wallet(
        session,
        transfer_id=new_id(),
        participant_id=participant,
        scheme=SCHEME,
        year=YEAR,
        actor=OFFICER,
        amount=amount,
    )
    found = service.wallet(session, participant)
    assert found is not None
    return found


def plain_account(
    session: Session,
    *,
    ledger: int = LedgerCode.training,
    kind: AccountKind = AccountKind.training_wallet,
    owner: str | None = None,
) -> Account:
    return service.chart_account(session, kind, "participant", owner or str(new_id()), ledger=LedgerCode(ledger))


@dataclass
class Program:
    """A budget of Rp100.000.000 and one funded wallet of Rp3.500.000."""

    participant: uuid.UUID
    wallet: Account
    institution: uuid.UUID


@pytest.fixture
def program(session: Session) -> Program:
    allocate(session)
    participant = new_id()
    wallet = funded_wallet(session, participant=participant)
    session.commit()
    return Program(participant=participant, wallet=wallet, institution=new_id())

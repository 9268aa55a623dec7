"""Queries on provider settlement: organisations' settlement bank accounts and their payables per period
(``payouts_settlements``), with the instructions that paid them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from prakerja.payouts.models import (
    PayoutInstruction,
    PayoutProvider,
    Receivable,
    ReceivableStatus,
    Settlement,
    SettlementAccount,
    SettlementAccountFailure,
    SettlementAccountStatus,
    SettlementStatus,
)

# settlement accounts ------------------------------------------------------------------------------------------


def verified_account(session: Session, organisation_id: uuid.UUID, *, lock: bool = False) -> SettlementAccount | None:
    query = select(SettlementAccount).where(
        SettlementAccount.organisation_id == organisation_id,
        SettlementAccount.status == SettlementAccountStatus.verified,
    )
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def accounts_of(session: Session, organisation_id: uuid.UUID) -> list[SettlementAccount]:
    """Newest first."""
    return list(
        session.scalars(
            select(SettlementAccount)
            .where(SettlementAccount.organisation_id == organisation_id)
            .order_by(SettlementAccount.created_at.desc(), SettlementAccount.id)
        )
    )


def latest_accounts(session: Session) -> dict[uuid.UUID, SettlementAccount]:
    """Each organisation's newest settlement account (what officers see next to its payables)."""
    rows = session.scalars(
        select(SettlementAccount)
        .ext(distinct_on(SettlementAccount.organisation_id))
        .order_by(SettlementAccount.organisation_id, SettlementAccount.created_at.desc())
    ).all()
    return {r.organisation_id: r for r in rows}


def account(session: Session, account_id: uuid.UUID) -> SettlementAccount | None:
    return session.get(SettlementAccount, account_id)


def replace_verified(session: Session, organisation_id: uuid.UUID) -> None:
    session.execute(
        update(SettlementAccount)
        .where(
            SettlementAccount.organisation_id == organisation_id,
            SettlementAccount.status == SettlementAccountStatus.verified,
        )
        .values(status=SettlementAccountStatus.replaced)
    )


def account_failed(session: Session, account_id: uuid.UUID) -> None:
    """A settlement payment to a verified account failed for an account reason: it must be recorded again."""
    session.execute(
        update(SettlementAccount)
        .where(SettlementAccount.id == account_id, SettlementAccount.status == SettlementAccountStatus.verified)
        .values(status=SettlementAccountStatus.rejected, failure_reason=SettlementAccountFailure.closed_after_link)
    )


# settlements --------------------------------------------------------------------------------------------------


def insert_if_absent(session: Session, values: dict[str, Any]) -> bool:
    """One row per (organisation, period): True when this call created it."""
    created = session.execute(
        insert(Settlement)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=["organisation_id", "period"])
        .returning(Settlement.id)
    ).first()
    return created is not None


def settlement(session: Session, settlement_id: uuid.UUID, *, lock: bool = False) -> Settlement | None:
    return session.get(Settlement, settlement_id, with_for_update=lock)


def of_period(session: Session, period: str) -> list[Settlement]:
    return list(session.scalars(select(Settlement).where(Settlement.period == period).order_by(Settlement.id)))


def of_organisation(session: Session, organisation_id: uuid.UUID) -> list[Settlement]:
    """Newest period first."""
    return list(
        session.scalars(
            select(Settlement).where(Settlement.organisation_id == organisation_id).order_by(Settlement.period.desc())
        )
    )


def recent(session: Session, limit: int = 200) -> list[Settlement]:
    return list(
        session.scalars(select(Settlement).order_by(Settlement.period.desc(), Settlement.organisation_id).limit(limit))
    )


def open_amount(session: Session, organisation_id: uuid.UUID) -> int:
    """What earlier periods' settlements still owe from the organisation's payable: not paid and not in flight (the
    money of a settlement in flight has left the payable already)."""
    rows = session.scalars(
        select(Settlement.amount).where(
            Settlement.organisation_id == organisation_id,
            Settlement.status.in_(
                [SettlementStatus.blocked, SettlementStatus.scheduled, SettlementStatus.needs_action]
            ),
        )
    ).all()
    return int(sum(rows))


def waiting_for_account(session: Session, organisation_id: uuid.UUID) -> Sequence[Settlement]:
    """The organisation's settlements held back for want of a verified account, locked."""
    return session.scalars(
        select(Settlement)
        .where(
            Settlement.organisation_id == organisation_id,
            Settlement.status.in_([SettlementStatus.blocked, SettlementStatus.needs_action]),
        )
        .order_by(Settlement.id)
        .with_for_update()
    ).all()


def due(session: Session) -> list[tuple[Settlement, SettlementAccount]]:
    """Scheduled settlements whose organisation has a verified account at an active provider, locked (rows another
    worker holds are skipped: they are in its run)."""
    rows = session.execute(
        select(Settlement, SettlementAccount)
        .join(
            SettlementAccount,
            and_(
                SettlementAccount.organisation_id == Settlement.organisation_id,
                SettlementAccount.status == SettlementAccountStatus.verified,
            ),
        )
        .join(PayoutProvider, and_(PayoutProvider.id == SettlementAccount.provider_id, PayoutProvider.active))
        .where(Settlement.status == SettlementStatus.scheduled)
        .order_by(Settlement.id)
        .with_for_update(of=Settlement, skip_locked=True)
    ).all()
    return [(s, a) for s, a in rows]


def attempts_made(session: Session, settlement_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(PayoutInstruction.settlement_id, func.max(PayoutInstruction.attempt))
        .where(PayoutInstruction.settlement_id.in_(list(settlement_ids)))
        .group_by(PayoutInstruction.settlement_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows if r[0] is not None}


def instructions_of(session: Session, settlement_ids: Sequence[uuid.UUID]) -> list[PayoutInstruction]:
    """Every instruction that paid (or tried to pay) these settlements, oldest first."""
    if not settlement_ids:
        return []
    return list(
        session.scalars(
            select(PayoutInstruction)
            .where(PayoutInstruction.settlement_id.in_(list(settlement_ids)))
            .order_by(PayoutInstruction.attempt, PayoutInstruction.created_at)
        )
    )


def mark_paid(session: Session, settlement_id: uuid.UUID, *, now: datetime) -> None:
    session.execute(
        update(Settlement).where(Settlement.id == settlement_id).values(status=SettlementStatus.paid, paid_at=now)
    )


def any_due(session: Session) -> bool:
    """Is any settlement scheduled with a verified account (a settlement run would pay it)?"""
    found = session.execute(
        select(Settlement.id)
        .join(
            SettlementAccount,
            and_(
                SettlementAccount.organisation_id == Settlement.organisation_id,
                SettlementAccount.status == SettlementAccountStatus.verified,
            ),
        )
        .where(Settlement.status == SettlementStatus.scheduled)
        .limit(1)
    ).first()
    return found is not None


def hold_scheduled(session: Session, organisation_id: uuid.UUID, reason: str) -> None:
    """The organisation's account failed: its other scheduled settlements wait (with the reason) for a new one."""
    session.execute(
        update(Settlement)
        .where(Settlement.organisation_id == organisation_id, Settlement.status == SettlementStatus.scheduled)
        .values(status=SettlementStatus.blocked, blocked_reason=reason)
    )


# receivables (ADR 0026) -------------------------------------------------------------------------------------------


def purchase_claimed(session: Session, purchase_id: uuid.UUID) -> bool:
    """Whether a refund of the purchase was already claimed back (from its institution, and its platform)."""
    return bool(session.scalar(select(exists().where(Receivable.purchase_id == purchase_id))))


def open_receivables(session: Session, organisation_id: uuid.UUID, *, lock: bool = False) -> list[Receivable]:
    """The organisation's receivables still owed, oldest first (the order deductions take them)."""
    query = (
        select(Receivable)
        .where(Receivable.organisation_id == organisation_id, Receivable.status == ReceivableStatus.open)
        .order_by(Receivable.created_at, Receivable.id)
    )
    return list(session.scalars(query.with_for_update() if lock else query))


def receivables_of(session: Session, organisation_id: uuid.UUID) -> list[Receivable]:
    return list(
        session.scalars(
            select(Receivable)
            .where(Receivable.organisation_id == organisation_id)
            .order_by(Receivable.created_at.desc(), Receivable.id)
        )
    )


def recent_receivables(session: Session, limit: int = 200) -> list[Receivable]:
    return list(session.scalars(select(Receivable).order_by(Receivable.created_at.desc(), Receivable.id).limit(limit)))


def settlement_of(
    session: Session, organisation_id: uuid.UUID, period: str, *, lock: bool = False
) -> Settlement | None:
    query = select(Settlement).where(Settlement.organisation_id == organisation_id, Settlement.period == period)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def pending_account(session: Session, organisation_id: uuid.UUID, *, lock: bool = False) -> SettlementAccount | None:
    """The organisation's account awaiting the bank's OTP (at most one: recording another replaces it)."""
    query = (
        select(SettlementAccount)
        .where(
            SettlementAccount.organisation_id == organisation_id,
            SettlementAccount.status == SettlementAccountStatus.otp_sent,
        )
        .order_by(SettlementAccount.created_at.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def replace_pending(session: Session, organisation_id: uuid.UUID) -> None:
    session.execute(
        update(SettlementAccount)
        .where(
            SettlementAccount.organisation_id == organisation_id,
            SettlementAccount.status == SettlementAccountStatus.otp_sent,
        )
        .values(status=SettlementAccountStatus.replaced)
    )

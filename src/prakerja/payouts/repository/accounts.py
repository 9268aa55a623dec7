"""Queries on payment providers and participants' payout accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from prakerja.payouts.models import AccountFailure, AccountStatus, PayoutAccount, PayoutProvider


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def provider(session: Session, provider_id: uuid.UUID) -> PayoutProvider | None:
    return session.get(PayoutProvider, provider_id)


def provider_by_code(session: Session, code: str) -> PayoutProvider | None:
    return session.scalars(select(PayoutProvider).where(PayoutProvider.code == code)).first()


def active_providers(session: Session) -> list[PayoutProvider]:
    return list(
        session.scalars(select(PayoutProvider).where(PayoutProvider.active.is_(True)).order_by(PayoutProvider.name))
    )


def account(session: Session, account_id: uuid.UUID, *, lock: bool = False) -> PayoutAccount | None:
    query = select(PayoutAccount).where(PayoutAccount.id == account_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def accounts_of(session: Session, recipient_id: uuid.UUID) -> list[PayoutAccount]:
    """Newest first."""
    return list(
        session.scalars(
            select(PayoutAccount)
            .where(PayoutAccount.recipient_id == recipient_id)
            .order_by(PayoutAccount.created_at.desc(), PayoutAccount.id.desc())
        )
    )


def active_account(session: Session, recipient_id: uuid.UUID, *, lock: bool = False) -> PayoutAccount | None:
    query = select(PayoutAccount).where(
        PayoutAccount.recipient_id == recipient_id, PayoutAccount.status == AccountStatus.active
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def latest_accounts(session: Session, recipient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PayoutAccount]:
    """Per recipient, the active account if any, else the newest one (one query for the set)."""
    if not recipient_ids:
        return {}
    rows = session.scalars(
        select(PayoutAccount)
        .where(PayoutAccount.recipient_id.in_(list(recipient_ids)))
        .order_by(
            PayoutAccount.recipient_id,
            (PayoutAccount.status == AccountStatus.active).desc(),
            PayoutAccount.created_at.desc(),
            PayoutAccount.id.desc(),
        )
        .ext(distinct_on(PayoutAccount.recipient_id))
    )
    return {row.recipient_id: row for row in rows}


def links_since(session: Session, recipient_id: uuid.UUID, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(PayoutAccount.recipient_id == recipient_id, PayoutAccount.created_at >= since)
        )
        or 0
    )


def recipients_linked_since(session: Session, since: datetime) -> list[uuid.UUID]:
    return list(session.scalars(select(PayoutAccount.recipient_id).where(PayoutAccount.created_at >= since).distinct()))


def expire_waiting_links(session: Session, *, sent_before: datetime, recipient_id: uuid.UUID | None = None) -> int:
    """Links still waiting for their OTP, sent before ``sent_before`` (of one recipient, or everyone's): rejected
    as ``otp_expired``, in one statement. Returns how many."""
    statement = (
        update(PayoutAccount)
        .where(PayoutAccount.status == AccountStatus.otp_sent, PayoutAccount.created_at < sent_before)
        .values(status=AccountStatus.rejected, failure_reason=AccountFailure.otp_expired)
        .execution_options(synchronize_session="fetch")
    )
    if recipient_id is not None:
        statement = statement.where(PayoutAccount.recipient_id == recipient_id)
    return session.execute(statement).rowcount  # type: ignore[attr-defined]

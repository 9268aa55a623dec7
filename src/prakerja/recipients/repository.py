"""Every query on the recipient register."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.recipients.models import Recipient, RecipientStatus


def add(session: Session, recipient: Recipient) -> None:
    session.add(recipient)
    session.flush()


def card_holder_sql(index: str) -> str:
    """The facts checkout needs of the recipient whose card number's blind index is the SQL expression ``index``
    (no personal data read): id, applicant_id, account_id, status, funded_at, first_purchase_deadline; at most one
    row (the index is unique). A row source another domain composes into its statement (ADR 0031)."""
    return (
        "SELECT id, applicant_id, account_id, status, funded_at, first_purchase_deadline FROM selection_recipients"
        " WHERE card_number_index = " + index
    )


def by_applicant(session: Session, applicant_id: uuid.UUID) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.applicant_id == applicant_id)).first()


def by_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.account_id == account_id)).first()


def by_card_index(session: Session, index: bytes) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.card_number_index == index)).first()


def by_id(session: Session, recipient_id: uuid.UUID, *, lock: bool = False) -> Recipient | None:
    query = select(Recipient).where(Recipient.id == recipient_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def card_index_taken(session: Session, index: bytes) -> bool:
    return session.scalar(select(Recipient.id).where(Recipient.card_number_index == index)) is not None


def per_kk(session: Session, kk_indexes: Sequence[bytes]) -> dict[bytes, int]:
    if not kk_indexes:
        return {}
    rows = session.execute(
        select(Recipient.kk_index, func.count())
        .where(Recipient.kk_index.in_([bytes(k) for k in kk_indexes]))
        .group_by(Recipient.kk_index)
    )
    return {bytes(row[0]): int(row[1]) for row in rows if row[0] is not None}


def statuses(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not applicant_ids:
        return {}
    rows = session.execute(
        select(Recipient.applicant_id, Recipient.status).where(Recipient.applicant_id.in_(list(applicant_ids)))
    )
    return {row[0]: row[1].value for row in rows}


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Recipient)) or 0)


def active_past_deadline(session: Session, now: datetime, after: uuid.UUID | None, limit: int) -> list[Recipient]:
    query = select(Recipient).where(Recipient.status == RecipientStatus.active, Recipient.first_purchase_deadline < now)
    if after is not None:
        query = query.where(Recipient.id > after)
    return list(session.scalars(query.order_by(Recipient.id).limit(limit)))


def by_ids(session: Session, recipient_ids: Sequence[uuid.UUID]) -> list[Recipient]:
    if not recipient_ids:
        return []
    return list(session.scalars(select(Recipient).where(Recipient.id.in_(list(recipient_ids)))))

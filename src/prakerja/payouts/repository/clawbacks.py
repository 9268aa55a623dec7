"""Queries on clawbacks and their repayments."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from prakerja.payouts.models import Clawback, ClawbackRepayment, ClawbackStatus


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def clawback(session: Session, clawback_id: uuid.UUID, *, lock: bool = False) -> Clawback | None:
    query = select(Clawback).where(Clawback.id == clawback_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def of_recipient(session: Session, recipient_id: uuid.UUID) -> list[Clawback]:
    return list(
        session.scalars(
            select(Clawback).where(Clawback.recipient_id == recipient_id).order_by(Clawback.created_at.desc())
        )
    )


def open_of_recipient(session: Session, recipient_id: uuid.UUID) -> Clawback | None:
    return session.scalars(
        select(Clawback).where(
            Clawback.recipient_id == recipient_id,
            Clawback.status.in_([ClawbackStatus.open, ClawbackStatus.overdue]),
        )
    ).first()


def latest(session: Session, limit: int = 100) -> list[Clawback]:
    return list(session.scalars(select(Clawback).order_by(Clawback.created_at.desc()).limit(limit)))


def repayment(session: Session, clawback_id: uuid.UUID, reference: str) -> ClawbackRepayment | None:
    return session.scalars(
        select(ClawbackRepayment).where(
            ClawbackRepayment.clawback_id == clawback_id, ClawbackRepayment.reference == reference
        )
    ).first()


def repayments(session: Session, clawback_id: uuid.UUID) -> list[ClawbackRepayment]:
    return list(
        session.scalars(
            select(ClawbackRepayment)
            .where(ClawbackRepayment.clawback_id == clawback_id)
            .order_by(ClawbackRepayment.created_at)
        )
    )


def mark_overdue(session: Session, today: date) -> int:
    """Set-based: open demands past their due date become overdue."""
    result = session.execute(
        update(Clawback)
        .where(Clawback.status == ClawbackStatus.open, Clawback.due_on < today)
        .values(status=ClawbackStatus.overdue)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recipients_with_open_clawback(session: Session, recipient_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not recipient_ids:
        return set()
    return set(
        session.scalars(
            select(Clawback.recipient_id).where(
                Clawback.recipient_id.in_(recipient_ids),
                Clawback.status.in_([ClawbackStatus.open, ClawbackStatus.overdue, ClawbackStatus.repaid]),
            )
        )
    )

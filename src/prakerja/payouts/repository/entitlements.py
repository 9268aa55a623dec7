"""Queries on entitlements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import Session

from prakerja.payouts.models import Entitlement, EntitlementKind, EntitlementStatus


def lock_recipients(session: Session, recipient_ids: Sequence[uuid.UUID]) -> None:
    """Transaction-scoped advisory locks, in id order: two refreshes of one person never interleave."""
    for recipient_id in sorted(set(recipient_ids)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"payouts:{recipient_id}"}
        )


def of_recipients(session: Session, recipient_ids: Sequence[uuid.UUID]) -> list[Entitlement]:
    if not recipient_ids:
        return []
    return list(
        session.scalars(
            select(Entitlement)
            .where(Entitlement.recipient_id.in_(list(recipient_ids)))
            .order_by(Entitlement.recipient_id, Entitlement.kind, Entitlement.instalment)
        )
    )


def of_recipient(session: Session, recipient_id: uuid.UUID) -> list[Entitlement]:
    return of_recipients(session, [recipient_id])


def by_source(session: Session, recipient_id: uuid.UUID, kind: EntitlementKind, source_ref: str) -> Entitlement | None:
    return session.scalars(
        select(Entitlement).where(
            Entitlement.recipient_id == recipient_id, Entitlement.kind == kind, Entitlement.source_ref == source_ref
        )
    ).first()


def count_kind(session: Session, recipient_id: uuid.UUID, kind: EntitlementKind) -> int:
    return int(
        session.scalar(select(func.count()).where(Entitlement.recipient_id == recipient_id, Entitlement.kind == kind))
        or 0
    )


def paid_total(session: Session, recipient_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Entitlement.amount), 0)).where(
                Entitlement.recipient_id == recipient_id, Entitlement.status == EntitlementStatus.paid
            )
        )
        or 0
    )


def add_all(session: Session, rows: Sequence[Entitlement]) -> None:
    session.add_all(rows)
    session.flush()


def recipients_blocked(session: Session, limit: int = 10_000) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Entitlement.recipient_id)
            .where(Entitlement.status == EntitlementStatus.blocked)
            .distinct()
            .limit(limit)
        )
    )


def recipients_without_incentive(session: Session, accepted: Select[Any], limit: int = 10_000) -> list[uuid.UUID]:
    """Of ``accepted`` (a query of recipient ids with an accepted completion, from the marketplace), those with no
    incentive entitlement row at all: one statement, whatever the age of the completion."""
    found = accepted.subquery()
    return list(
        session.scalars(
            select(found.c.recipient_id)
            .where(
                ~exists().where(
                    Entitlement.recipient_id == found.c.recipient_id,
                    Entitlement.kind == EntitlementKind.incentive,
                )
            )
            .limit(limit)
        )
    )

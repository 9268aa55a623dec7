"""Every query on the eligibility tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from prakerja.eligibility.models import StoredDecisionRow


def add_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row INSERT per batch (wave closing decides for many applicants at once)."""
    for start in range(0, len(rows), 5000):
        session.execute(insert(StoredDecisionRow), list(rows[start : start + 5000]))


def for_applicant(session: Session, applicant_id: uuid.UUID, limit: int = 50) -> list[StoredDecisionRow]:
    query = (
        select(StoredDecisionRow)
        .where(StoredDecisionRow.applicant_id == applicant_id)
        .order_by(StoredDecisionRow.decided_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def get(session: Session, decision_id: uuid.UUID) -> StoredDecisionRow | None:
    return session.get(StoredDecisionRow, decision_id)

"""Certificate test helpers: keyword-only factories with sensible defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.certificates import service
from prakerja.certificates.models import Certificate
from prakerja.kit.ids import new_id

OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-000000000002"), role="pmo_officer")
HOLDER = "Ni Made Dewi Lestari"


def issue_certificate(
    session: Session,
    *,
    completion_id: uuid.UUID | None = None,
    recipient_id: uuid.UUID | None = None,
    holder_name: str = HOLDER,
    course_title: str = "Pemasaran Digital untuk UMKM",
    institution_name: str = "LPK Maju Bersama",
    completed_at: datetime | None = None,
    score: int = 87,
) -> Certificate:
    return service.issue(
        session,
        completion_id=completion_id or new_id(),
        recipient_id=recipient_id or new_id(),
        account_id=None,
        holder_name=holder_name,
        course_title=course_title,
        institution_name=institution_name,
        completed_at=completed_at or datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        score=score,
    )

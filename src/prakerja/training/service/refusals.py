"""The log of refused partner calls on the marketplace endpoints, kept for review (partner abuse: brute force,
other institutions' codes, impossible completions). Written on a transaction of its own by the caller."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.training import repository
from prakerja.training.models import PartnerRefusal


def record(
    session: Session, *, partner_id: uuid.UUID, credential_id: uuid.UUID, endpoint: str, code: str, status: int
) -> None:
    repository.add_refusal(
        session,
        PartnerRefusal(
            partner_id=partner_id, credential_id=credential_id, endpoint=endpoint[:100], code=code[:64], status=status
        ),
    )


def latest(session: Session, limit: int = 200) -> list[PartnerRefusal]:
    return repository.refusals(session, limit)

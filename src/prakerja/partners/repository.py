from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.partners.models import SeenSignature


def remember(session: Session, credential_id: uuid.UUID, signature: bytes, expires_at: datetime) -> bool:
    """True when the signature is new; False when another request already brought it (any process)."""
    inserted = session.execute(
        insert(SeenSignature)
        .values(credential_id=credential_id, signature=signature, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(SeenSignature.credential_id)
    ).first()
    return inserted is not None


def purge(session: Session, now: datetime) -> int:
    result = session.execute(delete(SeenSignature).where(SeenSignature.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)

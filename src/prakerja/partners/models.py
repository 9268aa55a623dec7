from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base


class SeenSignature(Base):
    """A signature accepted in the last 300 seconds: the same one again is a replay. Kept in PostgreSQL so every
    web process sees every other's; rows past ``expires_at`` are purged by ``partners.purge_signatures``."""

    __tablename__ = "partner_seen_signatures"
    __table_args__ = (Index(None, "expires_at"),)

    credential_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime]
    """The request's timestamp plus the window: after it, the request is refused as stale anyway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base


class IdempotencyRecord(Base):
    """The first response to a request made with an idempotency key, replayed for 24 hours. Written in the
    same transaction as the request's effect: both commit or neither does."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index(None, "expires_at"),)

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    """Who sent the key (an account or partner credential id): keys of different callers never collide."""
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256 of method, path and body (kit.idempotency.fingerprint)."""
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    """The first response's body, byte for byte (a replay sends exactly these bytes)."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

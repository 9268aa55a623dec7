from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, Sequence, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base


class AuditEntry(Base):
    """One recorded action. A row is written in the caller's transaction without its chain link; a deferred
    trigger (``prakerja_audit_link``, migration 0021) links it right before that transaction commits, so every
    committed row has ``seq``, ``prev_hash`` and ``hash``. Linked rows are never updated or deleted (a trigger
    refuses it). docs/adr/0012."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index(None, "object_type", "object_id"),
        Index(None, "actor_id"),
        Index("uq_audit_entries_seq", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Sequence("audit_entries_id_seq"), primary_key=True)
    """Insertion order (not the chain's order: a transaction that commits later is linked later)."""
    seq: Mapped[int | None] = mapped_column(BigInteger)
    """Position in the chain, 1, 2, 3... without gaps, in commit order; empty until the commit links the row."""
    occurred_at: Mapped[datetime]
    """When it happened (injected clock)."""
    actor_id: Mapped[uuid.UUID | None]
    """The account that acted; empty for the system itself."""
    actor_role: Mapped[str] = mapped_column(String(32))
    """The role the actor acted in (``system`` for jobs)."""
    action: Mapped[str] = mapped_column(String(64))
    """What was done, ``domain.verb``."""
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why, in the actor's words or a reason code."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Non-personal details of the change."""
    request_id: Mapped[str | None] = mapped_column(String(64))
    body_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """SHA-256 of the canonical form of the row's content without ``seq`` (entries written since 0021; empty on
    older ones, whose hash covers the canonical form with ``seq``)."""
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Since 0021: SHA-256 over ``prev_hash``, ``seq`` (8 bytes, big-endian) and ``body_digest``; before: SHA-256
    over ``prev_hash`` and the canonical form of this row with ``seq``."""


class AuditHead(Base):
    """The chain's latest position: deleting the newest rows is detected against it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

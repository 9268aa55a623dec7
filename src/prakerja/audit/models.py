from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, Sequence, String, Text, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, column_property, mapped_column

from prakerja.kit.orm import Base


class AuditLink(Base):
    """An entry's place in the chain: written by the database's deferred trigger (``prakerja_audit_link``) right
    before the entry's transaction commits, never changed (a trigger refuses UPDATE, DELETE and TRUNCATE).
    docs/adr/0039 (the link was columns of the entry, UPDATEd at commit, until migration 0039)."""

    __tablename__ = "audit_links"
    __table_args__ = (UniqueConstraint("entry_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    """Position in the chain, 1, 2, 3... without gaps, in commit order."""
    entry_id: Mapped[int] = mapped_column(BigInteger)
    """The linked entry (``audit_entries.id``); each entry is linked once."""
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """Entries with a ``body_digest`` (since 0021): SHA-256 over ``prev_hash``, ``seq`` (8 bytes, big-endian) and
    ``body_digest``; before: SHA-256 over ``prev_hash`` and the canonical form of the entry with ``seq``."""


class AuditEntry(Base):
    """One recorded action, written once in the caller's transaction and never changed (a trigger refuses UPDATE,
    DELETE and TRUNCATE). Its place in the chain is an :class:`AuditLink` the database writes right before that
    transaction commits. docs/adr/0012, docs/adr/0039."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index(None, "object_type", "object_id"),
        Index(None, "actor_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Sequence("audit_entries_id_seq"), primary_key=True)
    """Insertion order (not the chain's order: a transaction that commits later is linked later)."""
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
    """SHA-256 of the canonical form of the row's content without its position (entries written since 0021; empty
    on older ones, whose link's hash covers the canonical form with ``seq``)."""

    seq: Mapped[int | None] = column_property(
        select(AuditLink.seq).where(AuditLink.entry_id == id).correlate_except(AuditLink).scalar_subquery(),
        deferred=True,
    )
    """Position in the chain, read from its link (the unique index on ``entry_id``) when asked for or ordered by;
    empty until the commit."""


class AuditHead(Base):
    """The chain's latest position: deleting the newest rows is detected against it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

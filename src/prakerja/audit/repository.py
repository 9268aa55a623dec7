from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry, AuditHead

# One chain for the whole program: appends are serialised by a transaction-scoped advisory lock.
_CHAIN_LOCK = 7_301_001


def lock_chain(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, 1)


def add(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    current = session.get(AuditHead, 1)
    if current is None:
        session.add(AuditHead(id=1, seq=entry.seq, hash=entry.hash))
    else:
        current.seq = entry.seq
        current.hash = entry.hash
    session.flush()


def iterate(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def recent(session: Session, *, limit: int, before: int | None = None) -> list[AuditEntry]:
    """Newest first; ``before`` pages back from a position in the chain."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return list(session.scalars(query))

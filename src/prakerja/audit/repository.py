from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry, AuditHead, AuditLink
from prakerja.db import SqlPart, arguments, positional

# The chain lock (the head row's) is taken by the database's link trigger at commit, which writes the entry's
# ``audit_links`` row (migrations 0021_mperf, 0036_mpg, 0039_maudit); nothing here takes it.


def head(session: Session) -> AuditHead | None:
    return session.get(AuditHead, 1)


def append(session: Session, values: dict[str, Any]) -> None:
    """One INSERT; the row is linked into the chain when the transaction commits."""
    session.execute(insert(AuditEntry).values(**values))


_APPEND_SQL = (
    "INSERT INTO audit_entries (occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data,"
    " request_id, body_digest) VALUES (%(occurred_at)s, %(actor_id)s, %(actor_role)s, %(action)s, %(object_type)s,"
    " %(object_id)s, %(reason)s, %(data)s::jsonb, %(request_id)s, %(body_digest)s)"
)
_APPEND_ON_LOOP, _APPEND_NAMES = positional(_APPEND_SQL)


async def append_on_loop(conn: asyncpg.Connection, values: dict[str, Any]) -> None:
    """:func:`append` on a loop connection (``db.on_loop``, ADR 0014), in the transaction the caller opened on it;
    ``data`` as JSON text. No result is read."""
    await conn.execute(_APPEND_ON_LOOP, *arguments(_APPEND_NAMES, values))


_APPEND_MANY_TEMPLATE = (
    "INSERT INTO audit_entries (occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data,"
    " request_id, body_digest) SELECT e.occurred_at, e.actor_id, e.actor_role, e.action, e.object_type, e.object_id,"
    " e.reason, e.data::jsonb, e.request_id, e.body_digest FROM unnest(%(audit_occurred_at)s::timestamptz[],"
    " %(audit_actor_id)s::uuid[], %(audit_actor_role)s::text[], %(audit_action)s::text[],"
    " %(audit_object_type)s::text[], %(audit_object_id)s::text[], %(audit_reason)s::text[], %(audit_data)s::text[],"
    " %(audit_request_id)s::text[], %(audit_body_digest)s::bytea[]) WITH ORDINALITY AS e(occurred_at, actor_id,"
    " actor_role, action, object_type, object_id, reason, data, request_id, body_digest, n) WHERE {gate} ORDER BY e.n"
)

APPEND_MANY_SQL = _APPEND_MANY_TEMPLATE.format(gate="true")
"""Several rows of :func:`append` in one INSERT, in the order given (so linked in that order at commit), with
names prefixed ``audit_`` for a statement another domain composes (ADR 0031); ``data`` as JSON text."""

_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "reason",
    "data",
    "request_id",
    "body_digest",
)


def append_many_params(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of :data:`APPEND_MANY_SQL` for these rows (the values :func:`append_on_loop` takes)."""
    return {f"audit_{column}": [row[column] for row in rows] for column in _COLUMNS}


def append_part(rows: Sequence[dict[str, Any]], *, gate: str) -> SqlPart:
    """:data:`APPEND_MANY_SQL` as the common table expression ``au`` of a statement another domain composes
    (ADR 0032), written only when ``gate`` (an SQL condition of the composing statement) holds; linked at commit by
    the same trigger."""
    return SqlPart(f"au AS ({_APPEND_MANY_TEMPLATE.format(gate=gate)})", append_many_params(rows))


def iterate(session: Session, batch: int = 5000) -> Iterator[tuple[AuditLink, AuditEntry | None]]:
    """Links in chain order, each with its entry (None when no entry has the link's entry id)."""
    last = 0
    while True:
        rows = session.execute(
            select(AuditLink, AuditEntry)
            .outerjoin(AuditEntry, AuditEntry.id == AuditLink.entry_id)
            .where(AuditLink.seq > last)
            .order_by(AuditLink.seq)
            .limit(batch)
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return
        yield from ((link, found) for link, found in rows)
        last = rows[-1][0].seq
        session.expunge_all()


def unlinked(session: Session) -> list[int]:
    """Insertion ids of entries without a link (at most 20). Committed, such an entry was written with the link
    trigger bypassed, or its link was removed; in the reading transaction's own uncommitted writes it is simply not
    linked yet."""
    return list(
        session.scalars(
            select(AuditEntry.id)
            .where(~select(AuditLink.seq).where(AuditLink.entry_id == AuditEntry.id).exists())
            .order_by(AuditEntry.id)
            .limit(20)
        )
    )


def recent(session: Session, *, limit: int, before: int | None = None) -> list[tuple[AuditLink, AuditEntry]]:
    """Newest first; ``before`` pages back from a position in the chain. Only linked (committed) entries."""
    query = (
        select(AuditLink, AuditEntry)
        .join(AuditEntry, AuditEntry.id == AuditLink.entry_id)
        .order_by(AuditLink.seq.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(AuditLink.seq < before)
    return [(link, entry) for link, entry in session.execute(query).all()]

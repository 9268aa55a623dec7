from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from prakerja.idempotency.models import IdempotencyRecord


def try_lock(session: Session, lock_id: int) -> bool:
    """Transaction-scoped: released when the request commits or rolls back."""
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_id}).scalar_one())


@dataclass(frozen=True)
class Stored:
    fingerprint: bytes
    status_code: int
    response_body: bytes
    expires_at: datetime


def claim(session: Session, lock_id: int, scope: str, key: str) -> tuple[bool, Stored | None]:
    """:func:`try_lock` and :func:`get` in one round trip (the ``idempotency_claim`` function, migration
    ``0029_mfast``): whether the lock was granted and, if so, the stored record read after it was granted."""
    row = session.execute(
        text("SELECT * FROM idempotency_claim(:k, :scope, :key)"), {"k": lock_id, "scope": scope, "key": key}
    ).one()
    if not row.locked:
        return False, None
    if row.fingerprint is None:
        return True, None
    return True, Stored(bytes(row.fingerprint), row.status_code, bytes(row.response_body), row.expires_at)


def remove_expired(session: Session, scope: str, key: str, now: datetime) -> None:
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key, IdempotencyRecord.expires_at <= now
        )
    )


def get(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    ).first()


def remove(session: Session, record: IdempotencyRecord) -> None:
    session.delete(record)
    session.flush()


def add(session: Session, record: IdempotencyRecord) -> None:
    """One INSERT (Core: no unit-of-work flush for a row nothing else in the request reads)."""
    session.execute(
        insert(IdempotencyRecord).values(
            scope=record.scope,
            key=record.key,
            fingerprint=record.fingerprint,
            method=record.method,
            path=record.path,
            status_code=record.status_code,
            response_body=record.response_body,
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
    )


def purge(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


# --- on a loop connection (ADR 0014, 0021): the same statements, inside the caller's ``conn.transaction()`` ---------


async def claim_on_loop(conn: asyncpg.Connection, lock_id: int, scope: str, key: str) -> tuple[bool, Stored | None]:
    """:func:`claim` on a loop connection, inside the request's transaction (the advisory lock is held until it
    ends)."""
    row = await conn.fetchrow(
        "SELECT locked, fingerprint, status_code, response_body, expires_at FROM idempotency_claim($1, $2, $3)",
        lock_id,
        scope,
        key,
    )
    assert row is not None
    locked, fingerprint, status_code, response_body, expires_at = row
    if not locked:
        return False, None
    if fingerprint is None:
        return True, None
    return True, Stored(bytes(fingerprint), status_code, bytes(response_body), expires_at)


async def remove_expired_on_loop(conn: asyncpg.Connection, scope: str, key: str, now: datetime) -> None:
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at <= $3", scope, key, now
    )


async def add_on_loop(
    conn: asyncpg.Connection,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    method: str,
    path: str,
    status_code: int,
    response_body: bytes,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """:func:`add` on a loop connection: one INSERT of the same row."""
    await conn.execute(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at,"
        " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        scope,
        key,
        fingerprint,
        method,
        path,
        status_code,
        response_body,
        created_at,
        expires_at,
    )


# --- folded into a signed call's own statements (ADR 0043) ----------------------------------------------------------
#
# The claim as a common table expression of the handler's first read (the read gated on it: it runs only when the
# lock was granted and nothing unexpired is stored), and the stored answer as one of its write's: one round trip
# each fewer. Parameters prefixed ``idem_`` and ``ia_``, names no other part uses.

CLAIM_CTE = (
    "idem AS (SELECT locked, fingerprint, status_code, response_body, expires_at"
    " FROM idempotency_claim(%(idem_lock)s, %(idem_scope)s, %(idem_key)s))"
)
"""The claim (migration ``0029_mfast``'s function: the transaction's advisory lock, then the stored record read in
a snapshot of its own, taken after the lock was granted) as a CTE named ``idem``."""

CLAIM_COLUMNS = (
    "idem.locked AS idem_locked, idem.fingerprint AS idem_fingerprint, idem.status_code AS idem_status_code,"
    " idem.response_body AS idem_response_body, idem.expires_at AS idem_expires_at"
)
"""What the composed read returns of the claim first, in :func:`claim_of`'s order."""
CLAIM_WIDTH = 5

CLAIM_GATE = "(SELECT locked AND (fingerprint IS NULL OR expires_at <= %(idem_now)s::timestamptz) FROM idem)"
"""True when the call's own work is to run: the lock granted and no stored answer but an expired one (removed by
the caller before it writes)."""


def claim_of(values: Any) -> tuple[bool, Stored | None]:
    """:func:`claim_on_loop`'s answer from the claim's columns of a composed read."""
    locked, fingerprint, status_code, response_body, expires_at = values
    if not locked:
        return False, None
    if fingerprint is None:
        return True, None
    return True, Stored(bytes(fingerprint), status_code, bytes(response_body), expires_at)


ANSWER_CTE = (
    "idem_answer AS (INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code,"
    " response_body, created_at, expires_at) SELECT %(ia_scope)s::text, %(ia_key)s::text, %(ia_fingerprint)s::bytea,"
    " %(ia_method)s::text, %(ia_path)s::text, %(ia_status_code)s::int, %(ia_response_body)s::bytea,"
    " %(ia_created_at)s::timestamptz, %(ia_expires_at)s::timestamptz WHERE {gate})"
)
""":func:`add_on_loop`'s INSERT as a CTE named ``idem_answer``, written only when ``{gate}`` (an SQL condition of the
composing statement) holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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

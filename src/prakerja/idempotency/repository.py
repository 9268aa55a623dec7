from __future__ import annotations

import contextlib
import re
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


# --- on a loop connection (ADR 0014, 0021, 0033): the request's transaction opened and committed here --------------

IN_USE = "IK409"
"""``idempotency_begin``'s SQLSTATE when another request holds the key's lock (migration ``0039_mframe``)."""
STORED = "IK200"
"""``idempotency_begin``'s SQLSTATE when a record is stored under the key and has not expired."""

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}")


def _text(value: str) -> str:
    """A text value written into a statement of the simple query protocol (which takes no parameters): its UTF-8
    bytes in hex, so no character of it can end the literal, whatever the server's string settings."""
    return f"convert_from(decode('{value.encode().hex()}', 'hex'), 'UTF8')"


def _bytes(value: bytes) -> str:
    return f"decode('{bytes(value).hex()}', 'hex')"


def _time(value: datetime) -> str:
    written = value.isoformat()
    if value.tzinfo is None or not _TIME.fullmatch(written):
        raise ValueError("an aware datetime is expected")
    return f"'{written}'::timestamptz"


async def begin_on_loop(conn: asyncpg.Connection, lock_id: int, scope: str, key: str, now: datetime) -> str:
    """``BEGIN`` and ``idempotency_begin`` in one round trip (one message of the simple query protocol, ADR 0033) on
    a loop connection outside any transaction block. Answers ``"run"`` with the transaction open and the key's
    lock held (an expired record deleted in it), or, with the transaction rolled back, ``"in_use"`` (another request
    holds the lock) or ``"stored"`` (an unexpired record: :func:`stored_on_loop` reads it)."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    statement = f"BEGIN; SELECT idempotency_begin({int(lock_id)}, {_text(scope)}, {_text(key)}, {_time(now)})"
    try:
        await conn.execute(statement)
    except asyncpg.PostgresError as error:
        await rollback_on_loop(conn)
        if error.sqlstate == IN_USE:
            return "in_use"
        if error.sqlstate == STORED:
            return "stored"
        raise
    return "run"


async def stored_on_loop(conn: asyncpg.Connection, scope: str, key: str) -> Stored | None:
    """The record stored under the key (one read, committed at once outside a transaction block), or None."""
    row = await conn.fetchrow(
        "SELECT fingerprint, status_code, response_body, expires_at FROM idempotency_keys"
        " WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    if row is None:
        return None
    fingerprint, status_code, response_body, expires_at = row
    return Stored(bytes(fingerprint), status_code, bytes(response_body), expires_at)


async def commit_on_loop(
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
    """:func:`add`'s row and ``COMMIT`` in one round trip (one message of the simple query protocol, ADR 0033), in
    the transaction :func:`begin_on_loop` opened. If the INSERT fails, the COMMIT is not run and the transaction is
    left for the caller to roll back; if the COMMIT fails, the server has rolled it back."""
    values = ", ".join(
        (
            _text(scope),
            _text(key),
            _bytes(fingerprint),
            _text(method),
            _text(path),
            str(int(status_code)),
            _bytes(response_body),
            _time(created_at),
            _time(expires_at),
        )
    )
    await conn.execute(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at,"
        f" expires_at) VALUES ({values}); COMMIT"
    )


async def rollback_on_loop(conn: asyncpg.Connection) -> None:
    """Roll back the transaction left open on ``conn``, if any; a connection that cannot is closed at its check-in
    (``db.on_loop`` never reuses one left inside a transaction block)."""
    if conn.is_closed() or not conn.is_in_transaction():
        return
    with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        await conn.execute("ROLLBACK")

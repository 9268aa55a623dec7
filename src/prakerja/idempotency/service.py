"""Running a request at most once per idempotency key. Takes the request's session; never commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from sqlalchemy.orm import Session

from prakerja.idempotency import repository
from prakerja.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, IdempotencyKeyRequired
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit import idempotency as rules
from prakerja.kit.clock import utcnow


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: bytes
    """The response body as first sent (a replay gets the same bytes)."""
    replayed: bool


def run(
    session: Session,
    *,
    scope: str,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    handler: Callable[[], tuple[int, bytes]],
) -> Outcome:
    """Replay the stored response for a repeated request, or run ``handler`` (returning the status and the
    rendered body) and store its response, byte for byte, in the same transaction. A handler that raises stores
    nothing."""
    if not rules.valid_key(key):
        raise IdempotencyKeyRequired()
    assert key is not None
    locked, found = repository.claim(session, rules.lock_id(scope, key), scope, key)  # one round trip
    if not locked:
        raise IdempotencyKeyInUse()
    fingerprint = rules.fingerprint(method, path, body)
    now = utcnow()
    if found is not None and found.expires_at <= now:
        repository.remove_expired(session, scope, key, now)
        found = None
    if found is not None:
        if found.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch()
        return Outcome(found.status_code, found.response_body, replayed=True)
    status_code, payload = handler()
    repository.add(
        session,
        IdempotencyRecord(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            method=method.upper()[:8],
            path=path[:500],
            status_code=status_code,
            response_body=payload,
            created_at=now,
            expires_at=now + rules.TTL,
        ),
    )
    return Outcome(status_code, payload, replayed=False)


_CLAIMS = 4
"""How many times a stored record that went away between the claim and its read (expired and deleted by another
request with the same key) is claimed again before the key is answered as in use."""


async def run_on_loop(
    conn: asyncpg.Connection,
    *,
    scope: str,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    handler: Callable[[], Awaitable[tuple[int, bytes]]],
) -> Outcome:
    """:func:`run` on a loop connection outside any transaction block (``db.on_loop``, ADR 0021 and 0033), in a
    transaction it opens and commits itself: ``BEGIN`` and the claim in one round trip, then ``handler`` (which runs
    its statements on ``conn``, in the transaction), then the stored response and ``COMMIT`` in one round trip. The
    lock, the handler's writes and the record commit or roll back together; the same lock, the same record, the same
    refusals, the same bytes replayed as :func:`run`. A handler that raises stores nothing (everything rolled back)."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    if not rules.valid_key(key):
        raise IdempotencyKeyRequired()
    assert key is not None
    lock_id = rules.lock_id(scope, key)
    fingerprint = rules.fingerprint(method, path, body)
    for _ in range(_CLAIMS):
        now = utcnow()
        claimed = await repository.begin_on_loop(conn, lock_id, scope, key, now)
        if claimed == "in_use":
            raise IdempotencyKeyInUse()
        if claimed == "stored":
            found = await repository.stored_on_loop(conn, scope, key)
            if found is None:
                continue  # expired and removed since: claim again
            if found.fingerprint != fingerprint:
                raise IdempotencyKeyMismatch()
            return Outcome(found.status_code, found.response_body, replayed=True)
        try:
            status_code, payload = await handler()
            await repository.commit_on_loop(
                conn,
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                method=method.upper()[:8],
                path=path[:500],
                status_code=status_code,
                response_body=payload,
                created_at=now,
                expires_at=now + rules.TTL,
            )
        except BaseException:
            await repository.rollback_on_loop(conn)
            raise
        return Outcome(status_code, payload, replayed=False)
    raise IdempotencyKeyInUse()


def purge_expired(session: Session) -> int:
    return repository.purge(session, utcnow())

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
    """:func:`run` on a loop connection (``db.on_loop``, ADR 0021), inside the request's own
    ``async with conn.transaction():`` (the advisory lock, the handler's writes and the stored response commit or
    roll back together): the same lock, the same record, the same refusals, the same bytes replayed."""
    if not conn.is_in_transaction():
        raise ValueError("expects a loop connection inside conn.transaction()")
    if not rules.valid_key(key):
        raise IdempotencyKeyRequired()
    assert key is not None
    locked, found = await repository.claim_on_loop(conn, rules.lock_id(scope, key), scope, key)
    if not locked:
        raise IdempotencyKeyInUse()
    fingerprint = rules.fingerprint(method, path, body)
    now = utcnow()
    if found is not None and found.expires_at <= now:
        await repository.remove_expired_on_loop(conn, scope, key, now)
        found = None
    if found is not None:
        if found.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch()
        return Outcome(found.status_code, found.response_body, replayed=True)
    status_code, payload = await handler()
    await repository.add_on_loop(
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
    return Outcome(status_code, payload, replayed=False)


def purge_expired(session: Session) -> int:
    return repository.purge(session, utcnow())

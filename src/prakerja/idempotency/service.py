"""Running a request at most once per idempotency key. Takes the request's session; never commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy.orm import Session

from prakerja.db import SqlPart, arguments, positional
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


# --- the claim and the stored answer folded into a signed call's own statements (ADR 0043) ---------------------------


class Replayed(Exception):
    """Raised through the handler by :meth:`Frame.read` when the key's answer is stored: the frame answers it."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__("replayed")
        self.outcome = outcome


@dataclass(frozen=True)
class FramePart:
    """Something a frame runs in its handler's first read before the claim (the partners' admission, ADR 0043):
    ``ctes`` (``name AS (...)``, comma-separated, parameters prefixed as its own), the ``columns`` the read returns
    of it first (``width`` of them), ``gate`` (the claim and the handler's read run only when it holds), ``params``,
    and ``check``, called with its columns' values before anything else is looked at (it raises its refusals)."""

    ctes: str
    columns: str
    width: int
    gate: str
    params: Mapping[str, Any]
    check: Callable[[Sequence[Any]], None]


@dataclass(eq=False)
class Frame:
    """One signed call's idempotency, folded into its handler's statements (ADR 0043) instead of statements of its
    own: the claim (:func:`run_on_loop`'s lock and stored-answer read) is a CTE of the handler's first read
    (:meth:`read`), which is gated on it; the stored answer an INSERT of the handler's write (:meth:`answer_part`),
    its bytes rendered before the write. The same lock, record, refusals and bytes as :func:`run_on_loop`.

    ``fold`` False: the claim is its own statement, sent by :meth:`read` before the handler's read, and the answer
    is stored by the caller after the handler returned (what :func:`run_on_loop` does; for measuring)."""

    scope: str
    key: str
    method: str
    path: str
    body: bytes
    status_code: int
    render: Callable[[Any], bytes]
    fold: bool = True
    before: FramePart | None = None
    now: datetime = field(default_factory=utcnow)
    claimed: bool = False
    """Whether :meth:`read` claimed the key (a handler that never read through the frame is a bug)."""
    answered: bytes | None = None
    """The answer's bytes as the handler's write stores them (None: the caller stores the answer)."""
    rolled_back: bool = False
    """Whether the caller rolled the call's transaction back (what was folded into it is to be written again)."""

    def __post_init__(self) -> None:
        self.fingerprint = rules.fingerprint(self.method, self.path, self.body)

    async def read(self, conn: asyncpg.Connection, source: str, marker: str, params: Mapping[str, Any]) -> Any:
        """The handler's first read, ``source`` (a statement with ``%(name)s`` parameters and ``marker`` once in its
        condition), with the claim folded in: one round trip. Raises the claim's refusals (409
        ``idempotency_key_in_use``, 422 ``idempotency_key_mismatch``) and :class:`Replayed` for a stored answer
        before the handler looks at what it read; removes an expired record. Returns the row, the claim's columns
        (:attr:`width`) first; the handler's columns NULL when its read found nothing."""
        if not conn.is_in_transaction():
            raise ValueError("expects a loop connection inside conn.transaction()")
        if not rules.valid_key(self.key):
            raise IdempotencyKeyRequired()
        self.claimed = True
        lock = rules.lock_id(self.scope, self.key)
        if not self.fold:
            await self._settle(conn, *await repository.claim_on_loop(conn, lock, self.scope, self.key))
            sql, names = _plain(source, marker)
            return await conn.fetchrow(sql, *arguments(names, params))
        before = self.before
        sql, names = _folded(
            source,
            marker,
            before.ctes if before else "",
            before.columns if before else "",
            before.gate if before else "",
        )
        values = {
            **params,
            **(before.params if before else {}),
            "idem_lock": lock,
            "idem_scope": self.scope,
            "idem_key": self.key,
            "idem_now": self.now,
        }
        row = await conn.fetchrow(sql, *arguments(names, values))
        assert row is not None
        skip = 0
        if before is not None:
            before.check(tuple(row)[: before.width])
            skip = before.width
        await self._settle(conn, *repository.claim_of(tuple(row)[skip : skip + repository.CLAIM_WIDTH]))
        return row

    @property
    def width(self) -> int:
        """How many columns of :meth:`read`'s row are the frame's."""
        if not self.fold:
            return 0
        return repository.CLAIM_WIDTH + (self.before.width if self.before else 0)

    async def _settle(self, conn: asyncpg.Connection, locked: bool, found: repository.Stored | None) -> None:
        if not locked:
            raise IdempotencyKeyInUse()
        if found is not None and found.expires_at <= self.now:
            await repository.remove_expired_on_loop(conn, self.scope, self.key, self.now)
            found = None
        if found is not None:
            if found.fingerprint != self.fingerprint:
                raise IdempotencyKeyMismatch()
            raise Replayed(Outcome(found.status_code, found.response_body, replayed=True))

    def answer_part(self, answer: Any, gate: str = "true") -> SqlPart | None:
        """The stored answer for ``answer`` (rendered now, as the caller renders it) as a part of the handler's
        write, written only when ``gate`` holds there; None when the frame does not fold (the caller stores it)."""
        if not self.fold:
            return None
        self.answered = self.render(answer)
        return SqlPart(answer_sql(gate), self.answer_params(self.answered))

    def record(self, payload: bytes) -> dict[str, Any]:
        """The stored answer's row for ``payload``: the columns :func:`run_on_loop` stores."""
        return {
            "scope": self.scope,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "method": self.method.upper()[:8],
            "path": self.path[:500],
            "status_code": self.status_code,
            "response_body": payload,
            "created_at": self.now,
            "expires_at": self.now + rules.TTL,
        }

    def answer_params(self, payload: bytes) -> dict[str, Any]:
        """:meth:`record` as the parameters of :func:`answer_sql`'s CTE (``ia_`` prefixed)."""
        return {f"ia_{name}": value for name, value in self.record(payload).items()}

    async def store(self, conn: asyncpg.Connection, payload: bytes) -> None:
        """The answer stored by a statement of its own (a handler without a write of its own: the inquiry)."""
        await repository.add_on_loop(conn, **self.record(payload))


def answer_sql(gate: str = "true") -> str:
    """The stored answer's INSERT as a CTE (``idem_answer``), for a statement composed at import."""
    return repository.ANSWER_CTE.format(gate=gate)


@lru_cache(maxsize=64)
def _plain(source: str, marker: str) -> tuple[str, tuple[str, ...]]:
    return positional(source.replace(marker, "true"))


@lru_cache(maxsize=64)
def _folded(source: str, marker: str, ctes: str, columns: str, gate: str) -> tuple[str, tuple[str, ...]]:
    """``source`` with the claim (and what runs before it) folded in: ``WITH`` the frame's CTEs, their columns, then
    the read's own columns (NULL when it found nothing), the read gated on the claim."""
    if source.count(marker) != 1:
        raise ValueError("the read names the frame's gate once")
    claim_gate = repository.CLAIM_GATE
    claim = repository.CLAIM_CTE
    if gate:  # the claim, and so the handler's read, only when what runs before it let the call in
        claim = claim[: -len(")")] + f" WHERE {gate})"
        claim_gate = f"({gate} AND {claim_gate})"
    sql = (
        f"WITH {ctes + ', ' if ctes else ''}{claim}"
        f" SELECT {columns + ', ' if columns else ''}{repository.CLAIM_COLUMNS}, r.*"
        f" FROM (SELECT) frame LEFT JOIN idem ON true LEFT JOIN ({source.replace(marker, claim_gate)}) r ON true"
    )
    return positional(sql)


_FRAME: ContextVar[Frame | None] = ContextVar("prakerja_idempotency_frame", default=None)


def current_frame() -> Frame | None:
    """The frame of the signed call being served, when its handler is to read and write through it (ADR 0043)."""
    return _FRAME.get()


def set_frame(frame: Frame | None) -> Any:
    """Make ``frame`` the current one; returns the token :func:`reset_frame` takes."""
    return _FRAME.set(frame)


def reset_frame(token: Any) -> None:
    _FRAME.reset(token)


def purge_expired(session: Session) -> int:
    return repository.purge(session, utcnow())

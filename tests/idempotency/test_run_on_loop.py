"""``idempotency.service.run_on_loop`` (ADR 0021, 0033) answers as ``run`` does: the same record, the same bytes
replayed, the same refusals; the record commits or rolls back with the request's transaction, which it opens (with
the claim, in one round trip) and commits (with the stored response, in one round trip) itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.idempotency import service
from prakerja.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit import idempotency as rules
from prakerja.kit.clock import clock
from tests.conftest import run_async

SCOPE, KEY = "partner:loop", "key-1"


def on_loop(work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with db.on_loop() as conn:
            return await work(conn)

    return run_async(go())


def run(body: bytes = b"{}", answer: bytes = b'{"n":1}', key: str = KEY) -> service.Outcome:
    async def handler() -> tuple[int, bytes]:
        return 201, answer

    return on_loop(
        lambda conn: service.run_on_loop(
            conn, scope=SCOPE, key=key, method="POST", path="/x", body=body, handler=handler
        )
    )


def records(session: Session) -> list[IdempotencyRecord]:
    session.rollback()
    return list(session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.key)))


def test_first_call_runs_and_a_repeat_replays_the_same_bytes(session: Session) -> None:
    first = run()
    again = run(answer=b'{"n":2}')
    assert (first.status_code, first.body, first.replayed) == (201, b'{"n":1}', False)
    assert (again.status_code, again.body, again.replayed) == (201, b'{"n":1}', True)


def test_the_record_is_the_one_the_session_twin_writes(session: Session, frozen_clock: object) -> None:
    run(key="on-loop")
    service.run(
        session, scope=SCOPE, key="on-session", method="POST", path="/x", body=b"{}", handler=lambda: (201, b'{"n":1}')
    )
    session.commit()
    loop, sync = records(session)
    columns = ("scope", "fingerprint", "method", "path", "status_code", "response_body", "created_at", "expires_at")
    assert [getattr(loop, c) for c in columns] == [getattr(sync, c) for c in columns]
    # and each replays the other's way
    assert run(key="on-session").body == b'{"n":1}'
    assert service.run(
        session, scope=SCOPE, key="on-loop", method="POST", path="/x", body=b"{}", handler=lambda: (500, b"")
    ).replayed


def test_same_key_other_request_is_refused(session: Session) -> None:
    run()
    with pytest.raises(IdempotencyKeyMismatch):
        run(body=b'{"other":1}')


def test_a_handler_that_raises_stores_nothing(session: Session) -> None:
    async def failing() -> tuple[int, bytes]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        on_loop(
            lambda conn: service.run_on_loop(
                conn, scope=SCOPE, key=KEY, method="POST", path="/x", body=b"{}", handler=failing
            )
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_inside_a_transaction_is_refused() -> None:
    async def go() -> None:
        async with db.on_loop() as conn, conn.transaction():
            await service.run_on_loop(
                conn,
                scope=SCOPE,
                key=KEY,
                method="POST",
                path="/x",
                body=b"{}",
                handler=lambda: None,  # type: ignore[arg-type,return-value]
            )

    with pytest.raises(ValueError):
        run_async(go())


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement sent on a loop connection (asyncpg: one round trip each)."""
    seen: list[str] = []

    def logged(name: str) -> Any:
        original = getattr(asyncpg.Connection, name)

        async def log(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(str(query))
            return await original(self, query, *args, **kwargs)

        return log

    for name in ("execute", "fetch", "fetchrow", "fetchval"):
        monkeypatch.setattr(asyncpg.Connection, name, logged(name))
    return seen


def test_the_claim_travels_with_begin_and_the_record_with_commit(session: Session, sent: list[str]) -> None:
    """ADR 0033: a first request costs two round trips of the frame's own (was four: BEGIN, the claim, the INSERT,
    COMMIT); the handler's statements run in between, in the transaction."""

    async def handler_on(conn: asyncpg.Connection) -> service.Outcome:
        async def handler() -> tuple[int, bytes]:
            assert conn.is_in_transaction()
            await conn.execute("SELECT 1")
            return 201, b'{"n":1}'

        outcome = await service.run_on_loop(
            conn, scope=SCOPE, key=KEY, method="POST", path="/x", body=b"{}", handler=handler
        )
        assert not conn.is_in_transaction()
        return outcome

    sent.clear()
    outcome = on_loop(handler_on)
    assert not outcome.replayed
    assert len(sent) == 3, sent
    assert sent[0].startswith("BEGIN;") and "idempotency_begin(" in sent[0]
    assert sent[1] == "SELECT 1"
    assert sent[2].startswith("INSERT INTO idempotency_keys") and sent[2].endswith("; COMMIT")
    assert [r.key for r in records(session)] == [KEY]


def test_a_key_held_by_another_request_is_in_use_and_nothing_is_written(session: Session) -> None:
    async def go() -> None:
        async with db.on_loop() as holder, db.on_loop() as conn, holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", rules.lock_id(SCOPE, KEY))

            async def handler() -> tuple[int, bytes]:
                raise AssertionError("must not run")

            with pytest.raises(IdempotencyKeyInUse):
                await service.run_on_loop(
                    conn, scope=SCOPE, key=KEY, method="POST", path="/x", body=b"{}", handler=handler
                )
            assert not conn.is_in_transaction()  # rolled back: the connection is reusable
            assert await conn.fetchval("SELECT 1") == 1

    run_async(go())
    assert records(session) == []


def test_an_expired_record_is_removed_and_the_request_runs_again(session: Session, frozen_clock: object) -> None:
    first = run()
    clock.advance(rules.TTL + timedelta(seconds=1))
    again = run(body=b'{"other":1}', answer=b'{"n":2}')
    assert (again.body, again.replayed) == (b'{"n":2}', False)
    (record,) = records(session)
    assert record.response_body == b'{"n":2}' and first.body == b'{"n":1}'


def test_a_handler_that_raises_leaves_the_connection_outside_a_transaction(session: Session) -> None:
    async def go() -> None:
        async with db.on_loop() as conn:

            async def failing() -> tuple[int, bytes]:
                await conn.execute(
                    "INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body,"
                    " created_at, expires_at) VALUES ($1, 'written-by-the-handler', '', 'X', '', 0, '', now(), now())",
                    SCOPE,
                )
                raise RuntimeError("boom")

            with pytest.raises(RuntimeError):
                await service.run_on_loop(
                    conn, scope=SCOPE, key=KEY, method="POST", path="/x", body=b"{}", handler=failing
                )
            assert not conn.is_in_transaction()

    run_async(go())
    assert records(session) == []  # neither the handler's row nor the record


@pytest.mark.parametrize(
    "key",
    ["it's", "back\\slash", "');DROP/**/TABLE/**/idempotency_keys;--", "$$x$$", "E'\\x00'", "~!@#%^&*()_+{}|:<>?"],
)
def test_any_key_path_and_answer_are_stored_and_replayed_byte_for_byte(session: Session, key: str) -> None:
    """The claim and the record travel in statements without parameters (the simple query protocol): every value
    is written as hex, so no key, path or answer can end its literal."""
    path = "/x/" + key + "/é"
    answer = b"\x00\x01'\\" + key.encode() + "é".encode()

    async def handler() -> tuple[int, bytes]:
        return 201, answer

    def call() -> service.Outcome:
        return on_loop(
            lambda conn: service.run_on_loop(
                conn, scope=SCOPE, key=key, method="post", path=path, body=b"{}", handler=handler
            )
        )

    first, again = call(), call()
    assert (first.body, first.replayed, again.body, again.replayed) == (answer, False, answer, True)
    (record,) = records(session)
    assert (record.key, record.path, record.method, record.response_body) == (key, path, "POST", answer)
    assert record.fingerprint == rules.fingerprint("post", path, b"{}")

"""``idempotency.service.run_on_loop`` (ADR 0021) answers as ``run`` does: the same record, the same bytes
replayed, the same refusals; the record commits or rolls back with the request's transaction on the loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.idempotency import service
from prakerja.idempotency.errors import IdempotencyKeyMismatch
from prakerja.idempotency.models import IdempotencyRecord
from tests.conftest import run_async

SCOPE, KEY = "partner:loop", "key-1"


def on_loop(work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with db.on_loop() as conn, conn.transaction():
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


def test_outside_a_transaction_is_refused() -> None:
    async def go() -> None:
        async with db.on_loop() as conn:
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

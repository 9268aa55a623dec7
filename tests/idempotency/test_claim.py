"""The idempotency lock and the stored record in one round trip (``idempotency_claim``, migration 0029_mfast):
the same answers as the lock and the read apart, including a record committed by the previous holder of the
lock, which the read must see (its snapshot is taken after the lock was granted)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from prakerja.idempotency import repository, service
from prakerja.idempotency.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit import idempotency as rules
from prakerja.kit.clock import clock, utcnow

SCOPE, KEY = "partner:test", "key-1"


def run(session: Session, body: bytes = b"{}", answer: bytes = b'{"n":1}') -> service.Outcome:
    return service.run(
        session, scope=SCOPE, key=KEY, method="POST", path="/x", body=body, handler=lambda: (201, answer)
    )


def test_first_call_runs_and_a_repeat_replays_the_same_bytes(session: Session) -> None:
    first = run(session)
    session.commit()
    again = run(session, answer=b'{"n":2}')
    session.commit()
    assert (first.status_code, first.body, first.replayed) == (201, b'{"n":1}', False)
    assert (again.status_code, again.body, again.replayed) == (201, b'{"n":1}', True)


def test_same_key_other_request_is_refused(session: Session) -> None:
    run(session)
    session.commit()
    with pytest.raises(IdempotencyKeyMismatch):
        run(session, body=b'{"other":1}')


def test_key_held_by_another_transaction_is_refused(session: Session, clean_db) -> None:  # type: ignore[no-untyped-def]
    with Session(clean_db) as other:
        assert repository.claim(other, rules.lock_id(SCOPE, KEY), SCOPE, KEY) == (True, None)
        with pytest.raises(IdempotencyKeyInUse):
            run(session)
        session.rollback()
        other.rollback()
    assert run(session).replayed is False  # the lock went with the other transaction


def test_expired_record_is_replaced(session: Session, frozen_clock: object) -> None:
    run(session)
    session.commit()
    clock.advance(rules.TTL + timedelta(seconds=1))
    fresh = run(session, answer=b'{"n":3}')
    session.commit()
    assert (fresh.body, fresh.replayed) == (b'{"n":3}', False)
    stored = session.get(IdempotencyRecord, (SCOPE, KEY))
    assert stored is not None and stored.expires_at > utcnow()


def test_record_committed_by_the_previous_holder_is_seen(session: Session, clean_db) -> None:  # type: ignore[no-untyped-def]
    """The second caller asks while the first holds the lock; once the first commits its record and lets go, the
    second (retrying) replays it instead of running the request again."""
    holder = Session(clean_db)
    assert run(holder).replayed is False  # holds the lock, the record not yet committed
    released = threading.Event()

    def commit_later() -> None:
        released.wait(5)
        holder.commit()
        holder.close()

    thread = threading.Thread(target=commit_later)
    thread.start()
    with pytest.raises(IdempotencyKeyInUse):
        run(session)
    session.rollback()
    released.set()
    thread.join()
    replay = run(session, answer=b'{"n":9}')
    assert (replay.body, replay.replayed) == (b'{"n":1}', True)

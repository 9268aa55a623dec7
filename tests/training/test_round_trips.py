"""ADR 0043: the purchase's three signed calls in fewer round trips to PostgreSQL. The idempotency claim travels
with the handler's first read (which runs only when the key was claimed), the stored answer with the handler's
write; and what that must not lose: two calls with the same key at once, two identical signed requests at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.catalog.models import Course
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import utcnow
from prakerja.partners import rules
from prakerja.partners.models import PartnerRefusal, RateWindow, SeenSignature
from prakerja.training import repository
from prakerja.training.models import Purchase
from tests.training.conftest import Api, Participant, Partner, count, last_otp, make_participant

STATEMENTS_PER_CALL = 4
"""Per signed call of the purchase on the success path, the credential cached: ``BEGIN``, the admission (the
signature recorded, the call counted) with the claim and the handler's read, the handler's write with the stored
answer (the inquiry: the stored answer alone), ``COMMIT``. Before ADR 0043: 7 (the admission committed on its own,
ADR 0033; the claim and the stored answer each a statement of their own)."""


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement sent on a loop connection (asyncpg: one round trip each), in order."""
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


def buy(
    api: Api, platform: Partner, participant: Participant, course: Course, order: str = "order-1", **kw: Any
) -> httpx.Response:
    data = {
        "card_number": participant.card_number,
        "course_id": str(course.id),
        "platform_order_id": order,
        "platform_account_id": "akun-1",
    }
    return api.call("POST", "/partner/v1/purchases", platform, data, **kw)


class TestRoundTrips:
    def test_each_call_of_a_purchase_is_its_admission_begin_one_read_one_write_and_commit(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        statements: list[str],
    ) -> None:
        assert api.inquiry(platform, participant.card_number).status_code == 200  # the credential read and cached
        other = make_participant(session)
        assert buy(api, platform, other, course).status_code == 201  # the institution's first sale opens its payable
        statements.clear()
        assert api.inquiry(platform, participant.card_number).status_code == 200
        inquiry = list(statements)
        statements.clear()
        created = buy(api, platform, participant, course)
        assert created.status_code == 201, created.text
        creation = list(statements)
        otp = last_otp(session, participant.account_id)
        statements.clear()
        confirmed = api.confirm(platform, created.json()["purchase_id"], otp)
        assert confirmed.status_code == 200, confirmed.text
        confirmation = list(statements)
        for sent in (inquiry, creation, confirmation):
            assert len(sent) == STATEMENTS_PER_CALL, sent
            assert sent[0].startswith("BEGIN")
            assert "partner_seen_signatures" in sent[1] and "idempotency_claim(" in sent[1]
            assert "INSERT INTO idempotency_keys" in sent[2]
            assert sent[3] == "COMMIT;"
        assert "selection_recipients" in inquiry[1] and "INSERT INTO idempotency_keys" in inquiry[2]
        assert "training_purchases" in creation[1] and "INSERT INTO training_purchases" in creation[2]
        assert "FOR UPDATE OF p" in confirmation[1] and "UPDATE training_purchases" in confirmation[2]
        # what was stored is what was sent, byte for byte
        session.rollback()
        stored = {r.path: r.response_body for r in session.scalars(select(IdempotencyRecord))}
        assert stored["/partner/v1/purchases"] == created.content
        assert stored[f"/partner/v1/purchases/{created.json()['purchase_id']}/confirm"] == confirmed.content

    def test_a_replay_answers_from_the_claim_and_runs_nothing(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        statements: list[str],
    ) -> None:
        created = buy(api, platform, participant, course, key="same")
        assert created.status_code == 201
        statements.clear()
        again = buy(api, platform, participant, course, key="same")
        assert again.status_code == 201 and again.content == created.content
        assert again.headers["Idempotent-Replayed"] == "true"
        # BEGIN, the admission and the claim (the read gated off by it), COMMIT: no write
        assert len(statements) == 3, statements
        assert not any("INSERT INTO training_purchases" in s for s in statements)
        assert count(session, Purchase) == 1

    def test_a_key_reused_for_another_request_and_a_refusal_after_the_read(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        assert buy(api, platform, participant, course, key="k").status_code == 201
        mismatch = buy(api, platform, participant, course, key="k", order="order-2")
        assert mismatch.status_code == 422 and mismatch.json()["code"] == "idempotency_key_mismatch"
        unknown = api.call("POST", "/partner/v1/cards/inquiry", platform, {"card_number": "1" * 16}, key="k2")
        assert unknown.status_code == 404 and unknown.json()["code"] == "card_not_found"
        malformed = api.call("POST", "/partner/v1/cards/inquiry", platform, {"card_number": "12"}, key="k3")
        assert malformed.status_code == 404 and malformed.json()["code"] == "card_not_found"
        # a refused call stored nothing: the same key answers afresh once the card is right
        retried = api.call(
            "POST", "/partner/v1/cards/inquiry", platform, {"card_number": participant.card_number}, key="k2"
        )
        assert retried.status_code == 200, retried.text
        assert count(session, Purchase) == 1
        assert count(session, IdempotencyRecord) == 2  # the purchase's and the retried inquiry's


def slowed_write(monkeypatch: pytest.MonkeyPatch, seconds: float) -> threading.Event:
    """The creation's write waits ``seconds`` (inside its transaction, the key's lock held); the event is set
    when the first such write begins."""
    started = threading.Event()
    write = repository.create_on_loop

    async def slow(conn: Any, statement: Any, params: Any) -> Any:
        started.set()
        await asyncio.sleep(seconds)
        return await write(conn, statement, params)

    monkeypatch.setattr(repository, "create_on_loop", slow)
    return started


def signed_purchase(
    live_server: str,
    platform: Partner,
    participant: Participant,
    course: Course,
    key: str,
    stamp: int,
    order: str = "order-1",
) -> httpx.Request:
    body = (
        f'{{"card_number":"{participant.card_number}","course_id":"{course.id}",'
        f'"platform_order_id":"{order}","platform_account_id":"akun-1"}}'
    ).encode()
    path = "/partner/v1/purchases"
    timestamp = str(stamp)
    signature = rules.sign(platform.secret.encode(), platform.client_code, timestamp, "POST", path.encode(), body)
    return httpx.Request(
        "POST",
        live_server + path,
        content=body,
        headers={
            "content-type": "application/json",
            "client_code": platform.client_code,
            "timestamp": timestamp,
            "signature": signature,
            "Idempotency-Key": key,
        },
    )


def send_both(first: httpx.Request, second: httpx.Request, started: threading.Event) -> tuple[Any, Any]:
    """``first``, then ``second`` while the first is inside its slowed write; both answers."""
    answers: dict[str, httpx.Response] = {}

    def send(name: str, request: httpx.Request) -> None:
        with httpx.Client(timeout=30) as client:
            answers[name] = client.send(request)

    one = threading.Thread(target=send, args=("first", first))
    one.start()
    assert started.wait(10)
    send("second", second)
    one.join(30)
    return answers["first"], answers["second"]


@pytest.fixture
def server(live_server: str, frozen_clock: object) -> Iterator[str]:
    yield live_server


class TestAtOnce:
    def test_two_calls_with_the_same_key_at_once_one_runs_the_other_is_told_it_is_in_use(
        self,
        server: str,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        started = slowed_write(monkeypatch, 0.5)
        now = int(utcnow().timestamp())
        first, second = send_both(
            signed_purchase(server, platform, participant, course, "same-key", now),
            signed_purchase(server, platform, participant, course, "same-key", now - 1),  # another signature
            started,
        )
        assert first.status_code == 201, first.text
        assert second.status_code == 409 and second.json()["code"] == "idempotency_key_in_use", second.text
        assert count(session, Purchase) == 1
        replay = httpx.Client(timeout=30).send(
            signed_purchase(server, platform, participant, course, "same-key", now - 2)
        )
        assert replay.status_code == 201 and replay.content == first.content
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert count(session, Purchase) == 1

    def test_two_identical_signed_requests_at_once_one_wins_the_other_is_a_replay(
        self,
        server: str,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        started = slowed_write(monkeypatch, 0.5)
        now = int(utcnow().timestamp())
        request = signed_purchase(server, platform, participant, course, "one-key", now)
        first, second = send_both(
            request, signed_purchase(server, platform, participant, course, "one-key", now), started
        )
        assert first.status_code == 201, first.text
        assert second.status_code == 401 and second.json()["code"] == "replayed_request", second.text
        assert count(session, Purchase) == 1
        session.rollback()
        assert len(session.scalars(select(SeenSignature)).all()) == 1
        assert sum(w.hits for w in session.scalars(select(RateWindow))) == 1  # a replay is not counted
        assert session.scalars(select(PartnerRefusal.code)).all() == ["replayed_request"]


def hits(session: Session) -> int:
    session.rollback()
    return sum(window.hits for window in session.scalars(select(RateWindow)))


def signatures(session: Session) -> int:
    session.rollback()
    return len(session.scalars(select(SeenSignature)).all())


class TestAdmissionInTheCall:
    """The admission folded into the call's transaction keeps what its own commit gave: every call counted and
    its signature spent, refused ones too; the call's work never waits for another call of the same credential."""

    def test_refused_calls_are_counted_and_their_signatures_spent(
        self, server: str, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        now = int(utcnow().timestamp())
        with httpx.Client(timeout=30) as client:
            ok = client.send(signed_purchase(server, platform, participant, course, "a", now))
            assert ok.status_code == 201, ok.text
            # refused by the handler after the read (no such card): nothing of the work written
            refused = client.send(signed_inquiry(server, platform, "9" * 16, "b", now))
            assert refused.status_code == 404 and refused.json()["code"] == "card_not_found"
            # refused by the claim (the key used for another request)
            mismatch = client.send(signed_purchase(server, platform, participant, course, "a", now, order="o-2"))
            assert mismatch.status_code == 422 and mismatch.json()["code"] == "idempotency_key_mismatch"
            assert hits(session) == 3 and signatures(session) == 3
            # the refused request sent again, byte for byte: a replay, refused as such and not counted
            again = client.send(signed_inquiry(server, platform, "9" * 16, "b", now))
            assert again.status_code == 401 and again.json()["code"] == "replayed_request"
        assert hits(session) == 3 and signatures(session) == 3
        assert count(session, Purchase) == 1 and count(session, IdempotencyRecord) == 1

    def test_a_refusal_after_the_write_rolls_back_and_still_counts_the_call(
        self,
        server: str,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from prakerja.ledger.errors import InsufficientFunds

        write = repository.create_on_loop

        async def refused_by_the_posting(conn: Any, statement: Any, params: Any) -> Any:
            await write(conn, statement, params)  # everything written, then the posting function's refusal
            raise InsufficientFunds()

        monkeypatch.setattr(repository, "create_on_loop", refused_by_the_posting)
        now = int(utcnow().timestamp())
        request = signed_purchase(server, platform, participant, course, "k", now)
        with httpx.Client(timeout=30) as client:
            answer = client.send(request)
            assert answer.status_code == 422 and answer.json()["code"] == "insufficient_balance", answer.text
            assert count(session, Purchase) == 0 and count(session, IdempotencyRecord) == 0
            assert hits(session) == 1 and signatures(session) == 1  # written again after the rollback
            again = client.send(signed_purchase(server, platform, participant, course, "k", now))
            assert again.status_code == 401 and again.json()["code"] == "replayed_request"
        assert count(session, Purchase) == 0 and hits(session) == 1

    def test_past_the_limit_a_call_is_refused_and_counted(
        self,
        server: str,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from types import SimpleNamespace

        from prakerja.partners import api as partner_api

        settings = partner_api.get_settings()
        limited = SimpleNamespace(**{**settings.__dict__, "partner_rate_limit_per_minute": 2})
        monkeypatch.setattr(partner_api, "get_settings", lambda: limited)
        now = int(utcnow().timestamp())
        with httpx.Client(timeout=30) as client:
            answers = [
                client.send(signed_inquiry(server, platform, participant.card_number, f"k{n}", now - n))
                for n in range(3)
            ]
        assert [a.status_code for a in answers] == [200, 200, 429], [a.text for a in answers]
        assert answers[2].json()["code"] == "rate_limited"
        assert hits(session) == 3 and signatures(session) == 3
        assert count(session, IdempotencyRecord) == 2  # the refused call claimed nothing

    def test_a_call_does_not_wait_for_another_call_of_the_same_credential(
        self,
        server: str,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The minute's count is sharded by server process: a call held in its transaction (after its admission
        counted it) does not hold the row the next call of the credential counts in."""
        started, release = threading.Event(), threading.Event()
        write = repository.create_on_loop

        async def held(conn: Any, statement: Any, params: Any) -> Any:
            started.set()
            for _ in range(100):  # until the test lets it go (at most 10 s)
                if release.is_set():
                    break
                await asyncio.sleep(0.1)
            return await write(conn, statement, params)

        monkeypatch.setattr(repository, "create_on_loop", held)
        now = int(utcnow().timestamp())
        with httpx.Client(timeout=30) as client:  # the credential read and cached: the next calls fold it
            warm = client.send(signed_inquiry(server, platform, participant.card_number, "w", now - 1))
            assert warm.status_code == 200, warm.text
        answers: dict[str, httpx.Response] = {}

        def send_first() -> None:
            with httpx.Client(timeout=30) as client:
                answers["first"] = client.send(signed_purchase(server, platform, participant, course, "p", now))

        first = threading.Thread(target=send_first)
        first.start()
        try:
            assert started.wait(10)
            with httpx.Client(timeout=5) as client:  # would time out waiting for the first call's commit
                inquiry = client.send(signed_inquiry(server, platform, participant.card_number, "i", now))
            assert inquiry.status_code == 200, inquiry.text
            assert "first" not in answers  # the first call is still held in its transaction
        finally:
            release.set()
            first.join(30)
        assert answers["first"].status_code == 201
        assert hits(session) == 3


def signed_inquiry(live_server: str, platform: Partner, card: str, key: str, stamp: int) -> httpx.Request:
    body = f'{{"card_number":"{card}"}}'.encode()
    path = "/partner/v1/cards/inquiry"
    timestamp = str(stamp)
    signature = rules.sign(platform.secret.encode(), platform.client_code, timestamp, "POST", path.encode(), body)
    return httpx.Request(
        "POST",
        live_server + path,
        content=body,
        headers={
            "content-type": "application/json",
            "client_code": platform.client_code,
            "timestamp": timestamp,
            "signature": signature,
            "Idempotency-Key": key,
        },
    )

"""The loop frame for signed calls (``require_partner_on_loop`` + ``loop_call``, ADR 0021), on a route of its
own: what the handler writes commits with the stored response, a DomainError rolls it all back and is refused
and logged as on the Session frame, and a replay runs nothing again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import asyncpg
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.partners import api, rules
from prakerja.partners.models import PartnerRefusal, SeenSignature
from prakerja.partners.service import PartnerCaller, PartnerRole
from prakerja.web import errors
from tests.conftest import run_async
from tests.partners.conftest import Partner

SCOPE = "loop-frame-test"


class Refused(DomainError):
    status_code = 422
    code = "loop_frame_refused"
    message = "Ditolak."
    message_en = "Refused."


Caller = Annotated[PartnerCaller, Depends(api.require_partner_on_loop(PartnerRole.ministry))]


def make_app() -> FastAPI:
    router = APIRouter(prefix="/partner/v1", route_class=api.SignedRoute)

    @router.post("/loop-frame", status_code=201)
    async def loop_frame(request: Request, body: api.RawBody, caller: Caller) -> Response:
        async def handler(conn: asyncpg.Connection) -> dict[str, Any]:
            # a write of the operation's own, then perhaps a refusal: both inside the request's transaction
            await conn.execute(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body,"
                " created_at, expires_at) VALUES ($1, $2, '', 'X', '', 0, '', now(), now())",
                SCOPE,
                body.decode(),
            )
            if body.startswith(b"refuse"):
                raise Refused(details={"why": "asked"})
            if body.startswith(b"crash"):
                raise RuntimeError("a bug in the handler")
            # what the work's transaction commits with (the admission's setting must not have leaked into it)
            durable = await conn.fetchval("SELECT current_setting('synchronous_commit')")
            return {"written": body.decode(), "partner": caller.partner_name, "synchronous_commit": durable}

        return await api.loop_call(request, caller, body, handler, status_code=201)

    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    return app


@pytest.fixture
def client(clean_db: object, frozen_clock: object) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def post(client: TestClient, partner: Partner, body: bytes, key: str, stamp: int = 0) -> Any:
    timestamp = str(int(utcnow().timestamp()) + stamp)
    path = "/partner/v1/loop-frame"
    signature = rules.sign(partner.secret.encode(), partner.client_code, timestamp, "POST", path.encode(), body)
    headers = {
        "client_code": partner.client_code,
        "timestamp": timestamp,
        "signature": signature,
        "Idempotency-Key": key,
        "content-type": "application/json",
    }
    return client.post(path, content=body, headers=headers)


def written(session: Session) -> list[str]:
    session.rollback()
    return list(session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.scope == SCOPE)))


class TestLoopFrame:
    def test_the_work_and_the_response_commit_together_and_a_replay_runs_nothing(
        self, client: TestClient, session: Session, ministry: Partner
    ) -> None:
        first = post(client, ministry, b"first", "k1")
        assert first.status_code == 201 and first.json() == {
            "written": "first",
            "partner": "Badan Kepegawaian Negara",
            "synchronous_commit": "on",
        }
        again = post(client, ministry, b"first", "k1", stamp=1)
        assert again.status_code == 201 and again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert written(session) == ["first"]  # once
        stored = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "k1")).one()
        assert stored.response_body == first.content and stored.status_code == 201

    def test_a_domain_error_rolls_everything_back_and_is_refused_and_logged(
        self, client: TestClient, session: Session, ministry: Partner
    ) -> None:
        response = post(client, ministry, b"refuse-me", "k2")
        assert response.status_code == 422
        payload = response.json()
        assert payload["code"] == "loop_frame_refused" and payload["details"] == {"why": "asked"}
        assert written(session) == []
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1  # counted all the same
        row = session.scalars(select(PartnerRefusal)).one()
        assert (row.code, row.status, row.signed, row.endpoint) == (
            "loop_frame_refused",
            422,
            True,
            "/partner/v1/loop-frame",
        )
        # nothing stored under the key: the next request with it runs
        assert post(client, ministry, b"now-fine", "k2", stamp=1).status_code == 201
        assert written(session) == ["now-fine"]

    def test_unsigned_and_wrong_role_refused_before_any_work(
        self, client: TestClient, session: Session, ministry: Partner
    ) -> None:
        unsigned = client.post("/partner/v1/loop-frame", content=b"x", headers={"Idempotency-Key": "k3"})
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "missing_signature"
        assert written(session) == []
        assert session.scalars(select(PartnerRefusal.code)).all() == ["missing_signature"]


@pytest.fixture
def checkouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each loop connection checked out ("out") and back ("in"), in order."""
    seen: list[str] = []
    checkout, checkin = db.LoopConnections.checkout, db.LoopConnections.checkin

    async def counted_checkout(self: db.LoopConnections, pool: Any) -> asyncpg.Connection:
        seen.append("out")
        return await checkout(self, pool)

    def counted_checkin(self: db.LoopConnections, pool: Any, conn: asyncpg.Connection) -> None:
        seen.append("in")
        checkin(self, pool, conn)

    monkeypatch.setattr(db.LoopConnections, "checkout", counted_checkout)
    monkeypatch.setattr(db.LoopConnections, "checkin", counted_checkin)
    return seen


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
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


class TestOneConnectionPerCall:
    """ADR 0033: the admission and the work on one loop connection, checked out once per call, in fewer round
    trips; never kept after the request."""

    def test_a_signed_post_checks_out_one_connection_for_the_admission_and_the_work(
        self, client: TestClient, session: Session, ministry: Partner, checkouts: list[str], statements: list[str]
    ) -> None:
        assert post(client, ministry, b"warm", "k0").status_code == 201  # the credential read and cached
        checkouts.clear()
        statements.clear()
        assert post(client, ministry, b"first", "k1").status_code == 201
        assert checkouts == ["out", "in"]
        # admission (committed on its own), then BEGIN, the claim, the handler's two statements, the record, COMMIT
        assert len(statements) == 7, statements
        assert "partner_seen_signatures" in statements[0]
        assert statements[1].startswith("BEGIN") and "idempotency_claim(" in statements[2]
        assert statements[5].startswith("INSERT INTO idempotency_keys") and statements[6] == "COMMIT;"
        assert sorted(written(session)) == ["first", "warm"]

    def test_a_replay_and_a_refusal_give_the_connection_back(
        self, client: TestClient, session: Session, ministry: Partner, checkouts: list[str]
    ) -> None:
        first = post(client, ministry, b"first", "k1")
        assert post(client, ministry, b"first", "k1", stamp=1).content == first.content  # replayed
        assert post(client, ministry, b"refuse-me", "k2").status_code == 422  # refused by the handler, logged
        assert post(client, ministry, b"other", "k1", stamp=2).status_code == 422  # key reused: mismatch, logged
        unsigned = client.post("/partner/v1/loop-frame", content=b"x", headers={"Idempotency-Key": "k3"})
        assert unsigned.status_code == 401
        with pytest.raises(RuntimeError):
            post(client, ministry, b"crash", "k4")
        assert checkouts.count("out") == checkouts.count("in") > 0
        assert written(session) == ["first"]
        session.rollback()
        assert sorted(session.scalars(select(PartnerRefusal.code))) == [
            "idempotency_key_mismatch",
            "loop_frame_refused",
            "missing_signature",
        ]

    def test_a_replayed_signature_is_refused_and_logged_on_the_admission_connection(
        self, client: TestClient, session: Session, ministry: Partner, checkouts: list[str]
    ) -> None:
        assert post(client, ministry, b"first", "k1").status_code == 201
        checkouts.clear()
        replay = post(client, ministry, b"first", "k1")  # the same signature again
        assert replay.status_code == 401 and replay.json()["code"] == "replayed_request"
        assert checkouts == ["out", "in"]  # the refusal logged on the connection the admission used
        session.rollback()
        assert session.scalars(select(PartnerRefusal.code)).all() == ["replayed_request"]


class TestAdmissionCommit:
    """ADR 0033: the admission's statement commits without waiting for its WAL flush; the request's work (and the
    refusal log) commit durably, which flushes the admission first."""

    def test_the_admission_statement_turns_synchronous_commit_off_for_its_own_transaction_only(
        self, client: TestClient, session: Session, ministry: Partner
    ) -> None:
        from prakerja.db import arguments
        from prakerja.partners import repository

        async def go() -> tuple[str, str, str]:
            async with db.on_loop() as conn:
                credential_id = await conn.fetchval(
                    "SELECT id FROM auth_partner_credentials WHERE client_code = $1", ministry.client_code
                )
                values = {
                    "credential_id": credential_id,
                    "revision": "not-current",  # writes nothing: only the setting is looked at
                    "signature": b"\x01" * 32,
                    "expires_at": utcnow(),
                    "window_start": utcnow(),
                }
                async with conn.transaction():  # to read what the statement left in its own transaction
                    await conn.fetchrow(repository._ADMIT_ON_LOOP, *arguments(repository._ADMIT_NAMES, values))
                    inside = await conn.fetchval("SELECT current_setting('synchronous_commit')")
                after = await conn.fetchval("SELECT current_setting('synchronous_commit')")
                # as the frame runs it: a statement of its own, then the next statement on the same connection
                await repository.admit_on_loop(conn, **values)
                next_one = await conn.fetchval("SELECT current_setting('synchronous_commit')")
                return inside, after, next_one

        assert run_async(go()) == ("off", "on", "on")

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

from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.partners import api, rules
from prakerja.partners.models import PartnerRefusal, SeenSignature
from prakerja.partners.service import PartnerCaller, PartnerRole
from prakerja.web import errors
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
            return {"written": body.decode(), "partner": caller.partner_name}

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
        assert first.status_code == 201 and first.json() == {"written": "first", "partner": "Badan Kepegawaian Negara"}
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

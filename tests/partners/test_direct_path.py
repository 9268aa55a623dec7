"""The direct path of the loop frame's signed routes (ADR 0030): the ping, the card inquiry, the purchase and its
confirmation run without FastAPI's dependency solving, and answer every refusal exactly as FastAPI's path does
(same status, same error body), in the same order: NUL check, signature, role, malformed body, Idempotency-Key,
then the path parameters, then the work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.partners import api
from tests.partners.conftest import Partner, SignedClient, create_partner

HOT = {
    ("GET", "/partner/v1/ping"),
    ("POST", "/partner/v1/cards/inquiry"),
    ("POST", "/partner/v1/purchases"),
    ("POST", "/partner/v1/purchases/{purchase_id}/confirm"),
}


def _not_used() -> None:  # pragma: no cover - only its identity matters
    pass


@pytest.fixture(params=["direct", "fastapi", "overridden"])
def path_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def signed(app: FastAPI, path_kind: str, frozen_clock: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A signed client on the product app, through the direct path (FastAPI's dependency solving made to fail,
    so that an answer proves it was not used) or through FastAPI's path (switched off, or any dependency
    override)."""
    if path_kind == "fastapi":
        monkeypatch.setattr(api, "USE_DIRECT_PATH", False)
    elif path_kind == "overridden":
        app.dependency_overrides[_not_used] = _not_used
    else:

        async def no_solving(**_: Any) -> Any:
            raise AssertionError("FastAPI's dependency solving ran on the direct path")

        monkeypatch.setattr(fastapi.routing, "solve_dependencies", no_solving)
    with TestClient(app, base_url="http://testserver") as http:
        yield SignedClient(http)


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Belajar Uji", role="platform")


def refusal(response: Any) -> tuple[int, str, Any]:
    payload = response.json()
    return response.status_code, payload["code"], payload.get("details")


def test_the_hot_routes_take_the_direct_path(client: TestClient) -> None:
    # FastAPI builds an included route's handler when a request first looks through its router
    for method, path in HOT:
        assert client.request(method, path.replace("{purchase_id}", "p1")).status_code == 401
    assert HOT <= api.DIRECT_ROUTES


def test_ping_answers_the_same_on_both_paths(signed: SignedClient, platform: Partner) -> None:
    response, _ = signed.request("GET", "/partner/v1/ping?n=1", platform)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert list(payload) == ["client_code", "partner", "role", "server_time"]
    assert payload["client_code"] == platform.client_code and payload["role"] == "platform"
    assert (
        response.content
        == (
            f'{{"client_code":"{platform.client_code}","partner":"Platform Belajar Uji","role":"platform",'
            f'"server_time":{payload["server_time"]}}}'
        ).encode()
    )


def test_refusals_in_order_on_both_paths(signed: SignedClient, platform: Partner, session: Session) -> None:
    ministry = create_partner(session)
    inquiry = "/partner/v1/cards/inquiry"
    card = {"card_number": "5" * 16}
    # unsigned: 401 before anything else
    response, _ = signed.request("POST", inquiry + "?n=0", None, json=card, idempotency_key="k0")
    assert refusal(response)[:2] == (401, "missing_signature")
    # a NUL in the query: the app-wide check comes first among the dependencies (before the signature's record)
    response, _ = signed.request("POST", inquiry + "?q=%00", platform, json=card, idempotency_key="k1")
    assert refusal(response) == (400, "nul_character", {"in": "query"})
    # another role: 403, before the body is looked at
    response, _ = signed.request("POST", inquiry + "?n=2", ministry, content=b"not json", idempotency_key="k2")
    assert refusal(response)[:2] == (403, "partner_role_forbidden")
    # the right role, a body that is not JSON: 400 malformed_body
    not_json = {"content": b"not json", "headers": {"content-type": "application/json"}}
    response, _ = signed.request("POST", inquiry + "?n=3", platform, idempotency_key="k3", **not_json)
    assert refusal(response) == (400, "malformed_body", {"reason": "json_invalid"})
    # no Idempotency-Key on a POST
    response, _ = signed.request("POST", inquiry + "?n=4", platform, json=card)
    assert refusal(response)[:2] == (400, "idempotency_key_required")
    # a path parameter too long: 422 after admission, as FastAPI validates it
    too_long = "x" * 65
    response, _ = signed.request(
        "POST", f"/partner/v1/purchases/{too_long}/confirm", platform, json={"otp": "123456"}, idempotency_key="k4"
    )
    status, code, details = refusal(response)
    assert (status, code) == (422, "invalid_request")
    assert [f["field"] for f in details["fields"]] == ["path.purchase_id"]
    # a body breaking the schema: 422 from the route's own parsing
    response, _ = signed.request("POST", inquiry + "?n=5", platform, json={"card": 1}, idempotency_key="k5")
    assert refusal(response)[:2] == (422, "invalid_request")
    # the work itself: an unknown card
    response, _ = signed.request("POST", inquiry + "?n=6", platform, json=card, idempotency_key="k6")
    assert refusal(response)[:2] == (404, "card_not_found")
    # the same signature again is a replay (the clock is frozen: each request above differs in its query)
    response, request = signed.request("POST", inquiry + "?n=7", platform, json=card, idempotency_key="k7")
    assert refusal(signed.send(request))[:2] == (401, "replayed_request")


def test_render_json_is_what_fastapi_sends() -> None:
    from datetime import UTC, datetime

    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field

    class Inner(BaseModel):
        at: datetime
        note: str | None = None

    class Answer(BaseModel):
        name: str = Field(alias="nama")
        amount: int
        items: list[Inner]
        extra: dict[str, Any]

    answer = Answer(
        nama='Ni Made Dewi \u00e9\u2028\x01"/',
        amount=950_000,
        items=[Inner(at=datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC))],
        extra={"a": [1, None, True], "b": "c"},
    )
    assert api.render_json(answer) == bytes(JSONResponse(jsonable_encoder(answer)).body)
    plain = {"x": 1, "y": [answer.items[0]]}
    assert api.render_json(plain) == bytes(JSONResponse(jsonable_encoder(plain)).body)


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"client_code", b"PB-1"), (b"timestamp", b"1"), (b"signature", b"ab"), (b"idempotency-key", b"k")],
        [(b"client_code", b"first"), (b"client_code", b"second"), (b"content-type", b"application/json")],
        [(b"Client_Code", b"upper"), (b"client_code", b"lower"), (b"CONTENT-TYPE", b"text/plain")],
        [(b"signature", b"caf\xe9"), (b"content-length", b""), (b"x-other", b"1"), (b"timestamp", b" 12 ")],
    ],
)
def test_the_signed_headers_read_once_are_what_starlette_reads(raw: list[tuple[bytes, bytes]]) -> None:
    """The headers a signed call reads, from one pass (ADR 0041), are each what ``request.headers.get`` gives:
    the first of a name, names compared as sent, values as Latin-1; any other name is still Starlette's."""
    from starlette.requests import Request

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})
    request.scope[api._HEADERS] = api._signed_headers(raw)
    names = ["client_code", "timestamp", "signature", "content-length", "content-type", "idempotency-key"]
    for name in [*names, "x-other", "host"]:
        assert api._header(request, name) == request.headers.get(name), name

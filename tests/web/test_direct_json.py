"""JSON routes served without FastAPI's dependency solving (ADR 0037): the identity submission answers every
request, good or bad, with the same status, headers and bytes on the direct path as on FastAPI's path, in the same
order (NUL check, the sign-in's 401/403, then the body's 422), and writes the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.registration.schemas import IdentitySubmissionCreate
from prakerja.web import direct, middleware
from prakerja.web.deps import CSRF_COOKIE, DEVICE_COOKIE, SESSION_COOKIE, request_cookies
from tests.registration.test_api_and_bulk import body
from tests.registration.test_identity_signed_in_statement import _account

PATH = "/api/v1/registration/identity"
JSON = "application/json"

# (name, raw body, content type or None for no header); the body is sent as given, byte for byte
CASES: list[tuple[str, bytes, str | None]] = [
    ("valid", json.dumps(body()).encode(), JSON),
    ("valid, charset", json.dumps(body()).encode(), "application/json; charset=utf-8"),
    ("valid, +json", json.dumps(body()).encode(), "application/vnd.prakerja+json"),
    ("valid, upper case type", json.dumps(body()).encode(), "Application/JSON"),
    ("refused by the rules", json.dumps(body(nik="123")).encode(), JSON),
    ("birth date refused by the rules", json.dumps(body(birth_date="2999-01-01")).encode(), JSON),
    ("not JSON", b'{"nik": ', JSON),
    ("not JSON, trailing garbage", json.dumps(body()).encode() + b" x", JSON),
    ("not UTF-8", b'{"nik": "\xff\xfe"}', JSON),
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000, JSON),
    ("empty body", b"", JSON),
    ("empty body, no type", b"", None),
    ("JSON without a content type", json.dumps(body()).encode(), None),
    ("JSON as text/plain", json.dumps(body()).encode(), "text/plain"),
    ("JSON as a form", json.dumps(body()).encode(), "application/x-www-form-urlencoded"),
    ("a malformed content type", json.dumps(body()).encode(), "json"),
    ("a list", b"[1, 2]", JSON),
    ("a string", b'"nik"', JSON),
    ("null", b"null", JSON),
    ("a number", b"42", JSON),
    ("an empty object", b"{}", JSON),
    ("missing fields", json.dumps({"nik": body()["nik"]}).encode(), JSON),
    ("wrong types", json.dumps({**body(), "nik": 3201, "sex": None, "kk": ["1"]}).encode(), JSON),
    ("extra field", json.dumps({**body(), "role": "pmo_admin"}).encode(), JSON),
    ("too long", json.dumps({**body(), "full_name": "A" * 501}).encode(), JSON),
    ("sex too long", json.dumps({**body(), "sex": "MF"}).encode(), JSON),
    ("NUL in a field", json.dumps({**body(), "full_name": "Ani\u0000"}).encode(), JSON),
    ("NUL in a key", json.dumps({**body(), "x\u0000": "1"}).encode(), JSON),
    ("NUL and a wrong type", json.dumps({**body(), "full_name": "Ani\u0000", "nik": 1}).encode(), JSON),
    ("an escaped backslash before u0000", json.dumps({**body(), "full_name": "Ani\\u0000"}).encode(), JSON),
    ("NUL, not JSON", b'{"full_name": "\\u0000", ', JSON),
    ("duplicate keys", b'{"nik": "1", ' + json.dumps(body()).encode()[1:], JSON),
]

WHO = ["nobody", "applicant", "another role", "unknown session"]


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def _send(http: TestClient, raw: bytes, content_type: str | None, token: str | None, request_id: str) -> Any:
    http.cookies.clear()
    cookies = {CSRF_COOKIE: "csrf-token-for-the-test", DEVICE_COOKIE: "d" * 40}
    if token is not None:
        cookies[SESSION_COOKIE] = token
    headers = {"X-Request-ID": request_id, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return http.post(PATH, content=raw, headers=headers)


def _token(session: Session, who: str, n: int) -> str | None:
    if who == "nobody":
        return None
    if who == "unknown session":
        return "no-such-session"
    role = Role.applicant if who == "applicant" else Role.pmo_admin
    return _account(session, f"{who.replace(' ', '-')}-{n}@example.org", role=role)[1]


def _without_applicant_id(response: Any) -> bytes:
    """The answer's bytes, with a written applicant's new id (different on each path) put aside."""
    if response.status_code != 202:
        return bytes(response.content)
    payload = response.json()
    assert set(payload) == {"applicant_id", "identity_status"}
    return bytes(response.content).replace(payload["applicant_id"].encode(), b"<id>")


def _writes(session: Session) -> tuple[int, ...]:
    tables = ("registration_applicants", "registration_identity_checks", "registration_signals", "procrastinate_jobs")
    return tuple(int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables)


def _forget_writes(session: Session) -> None:
    session.execute(
        text(
            "TRUNCATE registration_applicants, registration_identity_checks, registration_signals, procrastinate_jobs "
            "CASCADE"
        )
    )
    session.commit()


def test_the_submission_takes_the_direct_path(client: TestClient) -> None:
    assert client.post(PATH, json=body()).status_code == 401  # FastAPI builds an included route's handler here
    assert ("POST", PATH) in direct.DIRECT_ROUTES


@pytest.mark.parametrize("who", WHO)
def test_every_answer_is_the_same_on_both_paths(
    http: TestClient, session: Session, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved: list[int] = []
    original = fastapi.routing.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        solved.append(1)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    n = 0
    token = _token(session, who, 0)  # the same account each time: its writes are forgotten after each request
    for name, raw, content_type in CASES:
        answers = {}
        writes = {}
        for kind in ("fastapi", "direct"):
            n += 1
            monkeypatch.setattr(direct, "USE_DIRECT_PATH", kind == "direct")
            before = _writes(session)
            solved.clear()
            response = _send(http, raw, content_type, token, f"rid-{n}")
            after = _writes(session)
            writes[kind] = tuple(a - b for a, b in zip(after, before, strict=True))
            _forget_writes(session)  # the other path's submission must find the NIK free too
            if kind == "direct":
                assert not solved, name  # FastAPI's solver never ran on the direct path
            headers = [(k, v.replace(f"rid-{n}", "rid")) for k, v in response.headers.multi_items()]
            answers[kind] = (response.status_code, headers, _without_applicant_id(response))
        assert answers["direct"] == answers["fastapi"], name
        assert writes["direct"] == writes["fastapi"], name
        if who != "applicant":
            assert writes["direct"] == (0, 0, 0, 0), name


def test_an_applicant_gets_the_expected_answers(http: TestClient, session: Session) -> None:
    """What the table above compares, in plain terms: the refusal order and codes."""
    expected = {
        "valid": (202, None),
        "valid, +json": (202, None),
        "valid, upper case type": (202, None),
        "refused by the rules": (422, "invalid_input"),
        "not JSON": (422, "invalid_request"),
        "not UTF-8": (400, "http_error"),
        "nested too deep": (400, "http_error"),
        "empty body": (422, "invalid_request"),
        "JSON without a content type": (422, "invalid_request"),
        "JSON as text/plain": (422, "invalid_request"),
        "extra field": (422, "invalid_request"),
        "wrong types": (422, "invalid_request"),
        "NUL in a field": (400, "nul_character"),
        "NUL and a wrong type": (400, "nul_character"),
        "an escaped backslash before u0000": (422, "invalid_input"),
        "NUL, not JSON": (422, "invalid_request"),
    }
    raw_of = {name: (raw, content_type) for name, raw, content_type in CASES}
    token = _token(session, "applicant", 1000)
    for n, (name, (status, code)) in enumerate(expected.items()):
        raw, content_type = raw_of[name]
        response = _send(http, raw, content_type, token, f"rid-{n}")
        _forget_writes(session)
        assert response.status_code == status, (name, response.text)
        if code is not None:
            assert response.json()["code"] == code, (name, response.text)


def test_a_second_submission_takes_the_general_path_on_both(
    http: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {}
    for kind in ("fastapi", "direct"):
        monkeypatch.setattr(direct, "USE_DIRECT_PATH", kind == "direct")
        token = _token(session, "applicant", 2000 + len(answers))
        first = _send(http, json.dumps(body()).encode(), JSON, token, "rid")
        again = _send(http, json.dumps(body(full_name="Ani Lestari Putri")).encode(), JSON, token, "rid")
        _forget_writes(session)
        assert first.status_code == 202, first.text
        answers[kind] = (again.status_code, again.headers.multi_items(), _without_applicant_id(again))
    assert answers["direct"] == answers["fastapi"]


def test_overridden_dependencies_take_fastapis_path(
    app: FastAPI, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved: list[int] = []
    original = fastapi.routing.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        solved.append(1)
        return await original(**kwargs)

    def not_used() -> None:  # pragma: no cover - only its identity matters
        pass

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    app.dependency_overrides[not_used] = not_used
    try:
        response = _send(http, json.dumps(body()).encode(), JSON, None, "rid")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 401 and solved


class _DirectRoute(fastapi.routing.APIRoute):
    def get_route_handler(self) -> Any:
        return direct.json_route_handler(self, super().get_route_handler())


async def _plain(payload: IdentitySubmissionCreate) -> dict[str, str]:
    return {"nik": payload.nik}


async def _with_query(payload: IdentitySubmissionCreate, q: str) -> dict[str, str]:
    return {"nik": payload.nik, "q": q}


def _sync_dependency(request: Request) -> None:
    return None


def test_only_a_route_that_qualifies_takes_the_direct_path() -> None:
    router = APIRouter(route_class=_DirectRoute)
    router.add_api_route("/direct-json/plain", _plain, methods=["POST"])
    router.add_api_route("/direct-json/with-query", _with_query, methods=["POST"])
    router.add_api_route(
        "/direct-json/with-sync-dependency", _plain, methods=["POST"], dependencies=[Depends(_sync_dependency)]
    )
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        for path in ("/direct-json/plain", "/direct-json/with-query", "/direct-json/with-sync-dependency"):
            response = client.post(path + "?q=1", json=body())
            assert response.status_code == 200 and response.json()["nik"] == body()["nik"]
    assert ("POST", "/direct-json/plain") in direct.DIRECT_ROUTES
    assert ("POST", "/direct-json/with-query") not in direct.DIRECT_ROUTES
    assert ("POST", "/direct-json/with-sync-dependency") not in direct.DIRECT_ROUTES


def test_the_cookies_the_shell_middleware_parsed_are_the_requests() -> None:
    """``request_cookies`` (what the submission reads its session from) is ``request.cookies``, parsed once."""
    seen: dict[str, Any] = {}
    app = FastAPI()
    middleware.install(app)

    @app.get("/cookies")
    async def cookies(request: Request) -> dict[str, str]:
        seen["state"] = request_cookies(request)
        seen["starlette"] = dict(request.cookies)
        seen["middleware"] = request.scope["state"].get("cookies")
        return {}

    raw = [
        [b"a=1; prakerja_session=tok", b"b=2; a=3"],
        [b'x="quoted value"; ;; =bare; y=', b"prakerja_session=second"],
        [],
    ]
    with TestClient(app) as client:
        for headers in raw:
            response = client.get("/cookies", headers=[("cookie", h.decode()) for h in headers])
            assert response.status_code == 200
            assert seen["state"] == seen["starlette"]
            assert seen["middleware"] == seen["starlette"] and seen["state"] is seen["middleware"]
    request = Request({"type": "http", "headers": [(b"cookie", b"prakerja_session=t")], "state": {}})
    assert request_cookies(request) == {"prakerja_session": "t"}  # without the middleware: parsed here


def test_the_submission_model_and_the_services_submission_have_the_same_fields() -> None:
    """The route copies the body's fields one by one into the service's ``IdentitySubmission``."""
    from dataclasses import fields

    from prakerja.registration.service.identity import IdentitySubmission

    assert list(IdentitySubmissionCreate.model_fields) == [f.name for f in fields(IdentitySubmission)]

"""The hot signed calls served outside FastAPI's layers (``web.fastpath``, ADR 0042) answer exactly as FastAPI's stack
does: the same status, headers (request id, ``Idempotent-Replayed``, the security headers) and bytes, the same
refusals in the same order, the same rows, metrics and access log.

Two worlds are built the same way (a platform, an institution, a course listed on the platform, two funded
participants, each world's own): every request of the script below is sent in world A through FastAPI's stack
(:data:`web.fastpath.USE_FAST_PATH` off) and, at the same frozen second, in world B through the fast path; the two
answers must be equal byte for byte once each world's own values (client code, cards, ids, codes) are named alike,
and each must have written the same rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.config import get_settings
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import clock, utcnow
from prakerja.ledger.models import LedgerTransfer
from prakerja.notifications.models import Message
from prakerja.partners import api
from prakerja.partners.models import PartnerRefusal
from prakerja.training import service as training
from prakerja.training.models import Purchase, RedeemCode, TrainingEvent
from prakerja.web import fastpath, middleware, routing
from tests.partners.conftest import Partner, SignedClient, create_partner
from tests.training.conftest import last_otp, make_course, make_participant

TABLES = (Purchase, RedeemCode, LedgerTransfer, Message, IdempotencyRecord, TrainingEvent, AuditEntry, PartnerRefusal)


@dataclass
class World:
    name: str
    platform: Partner
    institution: Partner
    course_id: str
    cards: list[str]
    accounts: list[Any]
    names: dict[str, str] = field(default_factory=dict)
    """This world's own values and the name each gets in a compared answer."""
    purchases: list[str] = field(default_factory=list)

    def note(self, value: str, name: str) -> None:
        self.names[value] = name

    def neutral(self, data: bytes) -> bytes:
        for value, name in sorted(self.names.items(), key=lambda item: -len(item[0])):
            data = data.replace(value.encode(), name.encode())
        return data


def make_world(session: Session, name: str) -> World:
    platform = create_partner(session, name="Platform Belajar Uji " + name, role="platform")
    institution = create_partner(session, name="Lembaga Pelatihan Uji " + name, role="institution")
    course = make_course(session, institution, platform)
    people = [make_participant(session) for _ in range(2)]
    world = World(name, platform, institution, str(course.id), [p.card_number for p in people], [])
    world.accounts = [p.account_id for p in people]
    world.note(platform.client_code, "<platform>")
    world.note(institution.client_code, "<institution>")
    world.note("Platform Belajar Uji " + name, "<platform name>")
    world.note("Lembaga Pelatihan Uji " + name, "<institution name>")
    world.note(str(course.id), "<course>")
    for i, card in enumerate(world.cards):
        world.note(card, f"<card {i}>")
        world.note("**** **** **** " + card[-4:], f"<masked card {i}>")
    return world


def rows(session: Session) -> dict[str, int]:
    session.rollback()
    return {model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0) for model in TABLES}


def refusals(session: Session, partners: set[Any]) -> list[tuple[Any, ...]]:
    session.rollback()
    found = session.scalars(select(PartnerRefusal).order_by(PartnerRefusal.id)).all()
    return [(r.method, r.endpoint, r.code, r.status, r.signed) for r in found if r.partner_id in partners]


Step = Callable[[World, str], tuple[str, str, Partner | None, dict[str, Any]]]
"""(world, nonce) -> (method, path, partner or None, keyword arguments of ``SignedClient.request``)."""


def _json(data: dict[str, Any], key: str | None) -> dict[str, Any]:
    return {"json": data, "idempotency_key": key}


def script() -> list[tuple[str, Step]]:
    """Every kind of answer of the four hot routes, and requests near them that FastAPI serves either way."""
    inquiry = "/partner/v1/cards/inquiry"
    buy = "/partner/v1/purchases"

    def card(w: World, i: int = 0) -> dict[str, Any]:
        return {"card_number": w.cards[i]}

    def order(w: World, i: int = 0, course: str | None = None) -> dict[str, Any]:
        return {
            "card_number": w.cards[i],
            "course_id": course or w.course_id,
            "platform_order_id": f"order-{i}",
            "platform_account_id": f"akun-{i}",
        }

    def confirm(w: World, otp: str | None = None, index: int = -1) -> tuple[str, dict[str, Any]]:
        purchase = w.purchases[index] if w.purchases else "none"
        account = w.accounts[index if index >= 0 else len(w.purchases) + index]
        return f"/partner/v1/purchases/{purchase}/confirm", {"otp": otp or last_otp(_SESSION[0], account)}

    steps: list[tuple[str, Step]] = [
        ("ping", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.platform, {})),
        ("ping, institution", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.institution, {})),
        ("ping unsigned", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", None, {})),
        (
            "ping, a header missing",
            lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.platform, {"omit": ("timestamp",)}),
        ),
        ("ping, wrong key", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.platform, {"secret": "x" * 43})),
        ("ping, stale", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.platform, {"timestamp": _now() - 301})),
        ("ping, NUL in the query", lambda w, n: ("GET", f"/partner/v1/ping?n={n}&q=%00", w.platform, {})),
        ("ping, unknown client", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", _unknown(w), {})),
        ("inquiry", lambda w, n: ("POST", f"{inquiry}?n={n}", w.platform, _json(card(w), f"k{n}"))),
        ("inquiry, key k", lambda w, n: ("POST", inquiry, w.platform, _json(card(w), "same"))),
        ("inquiry, key k again: its answer again", lambda w, n: ("POST", inquiry, w.platform, _json(card(w), "same"))),
        ("inquiry, key k, other path", lambda w, n: ("POST", f"{inquiry}?n={n}", w.platform, _json(card(w), "same"))),
        ("inquiry, signature sent twice", lambda w, n: ("POST", f"{inquiry}?n={n}", w.platform, _json(card(w), n))),
        ("ping, rate limited", lambda w, n: ("GET", f"/partner/v1/ping?n={n}", w.platform, {})),
        ("inquiry unknown card", lambda w, n: ("POST", inquiry, w.platform, _json({"card_number": "1" * 16}, n))),
        ("inquiry by an institution", lambda w, n: ("POST", inquiry, w.institution, _json(card(w), n))),
        (
            "inquiry not JSON",
            lambda w, n: (
                "POST",
                inquiry,
                w.platform,
                {"content": b"{not json", "headers": {"content-type": "application/json"}, "idempotency_key": n},
            ),
        ),
        (
            "inquiry, another content type",
            lambda w, n: (
                "POST",
                inquiry,
                w.platform,
                {"content": b'{"card_number":"1"}', "headers": {"content-type": "text/plain"}, "idempotency_key": n},
            ),
        ),
        (
            "inquiry, not UTF-8",
            lambda w, n: (
                "POST",
                inquiry,
                w.platform,
                {
                    "content": b'{"card_number":"\xff"}',
                    "headers": {"content-type": "application/json"},
                    "idempotency_key": n,
                },
            ),
        ),
        ("inquiry without a key", lambda w, n: ("POST", f"{inquiry}?n={n}", w.platform, _json(card(w), None))),
        ("inquiry, a key with a space", lambda w, n: ("POST", inquiry, w.platform, _json(card(w), f"a {n}"))),
        ("inquiry breaking the schema", lambda w, n: ("POST", inquiry, w.platform, _json({"card": 1}, n))),
        ("inquiry, NUL in the body", lambda w, n: ("POST", inquiry, w.platform, _json({"card_number": "\x00"}, n))),
        ("inquiry unsigned", lambda w, n: ("POST", f"{inquiry}?n={n}", None, _json(card(w), n))),
        ("inquiry, body too large", lambda w, n: ("POST", inquiry, w.platform, _json({"card_number": "9" * 200}, n))),
        ("purchase", lambda w, n: ("POST", buy, w.platform, _json(order(w), "buy-0"))),
        ("purchase, same key: replayed", lambda w, n: ("POST", buy, w.platform, _json(order(w), "buy-0"))),
        ("purchase, same key, other body", lambda w, n: ("POST", buy, w.platform, _json(order(w, 1), "buy-0"))),
        ("purchase, course not listed", lambda w, n: ("POST", buy, w.platform, _json(order(w, 1, "c" * 36), n))),
        ("purchase, second card", lambda w, n: ("POST", buy, w.platform, _json(order(w, 1), n))),
        ("purchase by an institution", lambda w, n: ("POST", buy, w.institution, _json(order(w), n))),
        ("confirm, wrong code", lambda w, n: ("POST", *confirm(w, "000000"), w.platform)),
        ("confirm", lambda w, n: ("POST", *confirm(w), w.platform)),
        ("confirm again: state", lambda w, n: ("POST", *confirm(w), w.platform)),
        ("confirm first purchase", lambda w, n: ("POST", *confirm(w, None, 0), w.platform)),
        ("confirm unknown purchase", lambda w, n: ("POST", "/partner/v1/purchases/p-none/confirm", w.platform)),
        ("confirm, id too long", lambda w, n: ("POST", f"/partner/v1/purchases/{'x' * 65}/confirm", w.platform)),
        ("confirm, no body", lambda w, n: ("POST", *confirm(w), w.platform)),
        ("HEAD on the ping", lambda w, n: ("HEAD", f"/partner/v1/ping?n={n}", w.platform, {})),
        ("GET on the inquiry", lambda w, n: ("GET", f"{inquiry}?n={n}", w.platform, {})),
        ("HEAD on the purchases", lambda w, n: ("HEAD", f"{buy}?n={n}", w.platform, {})),
        ("GET on a confirmation", lambda w, n: ("GET", f"/partner/v1/purchases/p1/confirm?n={n}", w.platform, {})),
        ("POST on an unknown path", lambda w, n: ("POST", "/partner/v1/nothing", w.platform, _json({}, n))),
        ("GET on an unknown path", lambda w, n: ("GET", f"/partner/v1/cards?n={n}", w.platform, {})),
        ("a trailing slash", lambda w, n: ("POST", inquiry + "/", w.platform, _json(card(w), n))),
        ("read a purchase (Session frame)", lambda w, n: ("GET", f"{buy}/{_first(w)}?n={n}", w.platform, {})),
    ]
    return [(name, _complete(step, name)) for name, step in steps]


def _complete(step: Callable[..., tuple[Any, ...]], name: str) -> Step:
    """The confirmation steps name (method, path, body, partner): completed with a key and JSON body."""

    def full(w: World, n: str) -> tuple[str, str, Partner | None, dict[str, Any]]:
        found = step(w, n)
        if len(found) == 4 and isinstance(found[3], dict):
            return found  # type: ignore[return-value]
        if len(found) == 4:  # method, path, body, partner
            method, path, body, partner = found
            if name == "confirm, no body":
                return method, path, partner, {"content": b"", "idempotency_key": n}
            return method, path, partner, _json(body, n)
        method, path, partner = found
        return method, path, partner, _json({"otp": "123456"}, n)

    return full


def _now() -> int:
    return int(utcnow().timestamp())


def _unknown(w: World) -> Partner:
    return Partner(w.platform.partner_id, "PB-unknown", w.platform.key_id, w.platform.secret)


def _first(w: World) -> str:
    return w.purchases[0] if w.purchases else "none"


_SESSION: list[Session] = []


@pytest.fixture
def http(app: FastAPI, frozen_clock: object) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client


def _served_by(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which requests went down FastAPI's router (the fast path never calls it)."""
    routed: list[str] = []
    original = routing.RouteMemo.__call__

    async def counted(self: Any, scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(routing.RouteMemo, "__call__", counted)
    return routed


def _metrics() -> dict[tuple[str, str, str], float]:
    found = {}
    for metric in middleware.REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                labels = sample.labels
                found[(labels["method"], labels["route"], labels["status"])] = sample.value
    return found


def test_every_answer_is_the_same_on_both_paths(
    app: FastAPI, http: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    worlds = {"fastapi": make_world(session, "A"), "fast": make_world(session, "B")}
    _SESSION[:] = [session]
    biggest = api.MAX_BODY_BYTES
    signed = SignedClient(http)
    # FastAPI's routing learns each hot route first (ADR 0034, 0041): from then on the fast path can serve it
    for method, path in (
        ("GET", "/partner/v1/ping"),
        ("POST", "/partner/v1/cards/inquiry"),
        ("POST", "/partner/v1/purchases"),
        ("POST", "/partner/v1/purchases/p0/confirm"),
    ):
        assert http.request(method, path).status_code == 401
    routed = _served_by(monkeypatch)
    caplog.set_level("INFO", logger="prakerja.access")
    rid = 0
    served_fast = 0
    limit = get_settings().partner_rate_limit_per_minute
    for name, step in script():
        clock.advance(timedelta(seconds=1))
        answers: dict[str, tuple[Any, ...]] = {}
        for kind, world in worlds.items():
            rid += 1
            monkeypatch.setattr(fastpath, "USE_FAST_PATH", kind == "fast")
            monkeypatch.setattr(api, "MAX_BODY_BYTES", 64 if name == "inquiry, body too large" else biggest)
            if name == "ping, rate limited":
                monkeypatch.setattr(get_settings(), "partner_rate_limit_per_minute", 1)
            method, path, partner, kwargs = step(world, f"n{rid}")
            kwargs = dict(kwargs)
            headers = {**kwargs.pop("headers", {}), "X-Request-ID": f"rid-{rid}"}
            before, metrics_before = rows(session), _metrics()
            routed.clear()
            caplog.clear()
            response, sent = signed.request(method, path, partner, headers=headers, **kwargs)
            if name.endswith("twice"):  # the same signed request again: a replay of its signature
                response = signed.send(sent)
            monkeypatch.setattr(api, "MAX_BODY_BYTES", biggest)
            if name == "ping, rate limited":
                monkeypatch.setattr(get_settings(), "partner_rate_limit_per_minute", limit)
            after, metrics_after = rows(session), _metrics()
            if response.status_code in (200, 201) and path.startswith("/partner/v1/purchases") and method == "POST":
                payload = response.json()
                if "voucher_code" in payload:
                    world.note(payload["voucher_code"], "<voucher>")
                elif payload["purchase_id"] not in world.purchases:
                    world.purchases.append(payload["purchase_id"])
                    world.note(payload["purchase_id"], f"<purchase {len(world.purchases)}>")
            if name.startswith("read a purchase") and response.status_code == 200:  # the course's own sessions
                for i, found in enumerate(response.json()["sessions"]):
                    world.note(found["session_id"], f"<session {i}>")
            if kind == "fast" and not routed:
                served_fast += 1
            answers[kind] = (
                response.status_code,
                [
                    (k, world.neutral(v.encode()).decode().replace(f"rid-{rid}", "rid"))
                    for k, v in response.headers.multi_items()
                ],
                world.neutral(bytes(response.content)),
                {t: after[t] - before[t] for t in after},
                {k: v - metrics_before.get(k, 0) for k, v in metrics_after.items() if v != metrics_before.get(k, 0)},
                [(r.getMessage(), getattr(r, "route", None), getattr(r, "status", None)) for r in caplog.records],
            )
        assert answers["fast"] == answers["fastapi"], name
    assert served_fast >= 20  # the hot calls of the script took the fast path
    assert refusals(session, {worlds["fastapi"].platform.partner_id, worlds["fastapi"].institution.partner_id}) == (
        refusals(session, {worlds["fast"].platform.partner_id, worlds["fast"].institution.partner_id})
    )


def test_an_unexpected_error_is_answered_the_same(
    http: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure that is not a refusal: the app's 500 answer, sent outside the shell middleware as Starlette's
    ``ServerErrorMiddleware`` sends it (no request id), on both paths."""
    world = make_world(session, "A")

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(training.purchases, "inquiry_on_loop", broken)
    signed = SignedClient(http)
    assert http.post("/partner/v1/cards/inquiry").status_code == 401
    routed = _served_by(monkeypatch)
    answers = {}
    for kind in ("fastapi", "fast"):
        clock.advance(timedelta(seconds=1))
        monkeypatch.setattr(fastpath, "USE_FAST_PATH", kind == "fast")
        before = _metrics()
        routed.clear()
        response, _ = signed.request(
            "POST",
            "/partner/v1/cards/inquiry",
            world.platform,
            json={"card_number": world.cards[0]},
            idempotency_key=f"k-{kind}",
            headers={"X-Request-ID": "rid"},
        )
        assert bool(routed) == (kind == "fastapi")
        changed = {k: v - before.get(k, 0) for k, v in _metrics().items() if v != before.get(k, 0)}
        answers[kind] = (response.status_code, response.headers.multi_items(), response.content, changed)
    assert answers["fast"] == answers["fastapi"]
    assert answers["fast"][0] == 500 and b'"internal_error"' in answers["fast"][2]


def test_overridden_dependencies_and_the_switch_take_fastapis_stack(
    app: FastAPI, http: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(session, "A")
    signed = SignedClient(http)
    assert http.get("/partner/v1/ping").status_code == 401
    routed = _served_by(monkeypatch)

    def ping() -> int:
        clock.advance(timedelta(seconds=1))
        routed.clear()
        response, _ = signed.request("GET", "/partner/v1/ping", world.platform)
        assert response.status_code == 200
        return len(routed)

    assert ping() == 0  # the fast path
    monkeypatch.setattr(api, "USE_DIRECT_PATH", False)
    assert ping() == 1
    monkeypatch.setattr(api, "USE_DIRECT_PATH", True)
    app.dependency_overrides[_not_used] = _not_used
    assert ping() == 1
    app.dependency_overrides.clear()
    monkeypatch.setattr(fastpath, "USE_FAST_PATH", False)
    assert ping() == 1


def _not_used() -> None:  # pragma: no cover - only its identity matters
    pass

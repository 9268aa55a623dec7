"""The simulators' webhook endpoint: Standard Webhooks signatures verified with the library, nothing recorded
from a bad or missing signature, one record per ``webhook-id`` however often it is delivered, and the timestamp
tolerance read from the simulator's clock when it follows a frozen program."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from prakerja.simulators.partner_client import SimClock
from tests.simulators.conftest import START, WEBHOOK_SECRET


def signed(body: bytes, webhook_id: str, at: datetime, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }


def event(type_: str = "purchase.confirmed") -> bytes:
    return json.dumps({"type": type_, "timestamp": "2026-03-02T09:00:00Z", "data": {"purchase_id": "pur_1"}}).encode()


def test_verified_recorded_once(shop_http: TestClient) -> None:
    body = event()
    first = shop_http.post("/webhooks/prakerja", content=body, headers=signed(body, "evt_1", START))
    again = shop_http.post("/webhooks/prakerja", content=body, headers=signed(body, "evt_1", START))
    assert (first.status_code, again.status_code) == (200, 200) and again.json() == {"status": "duplicate"}
    listed = shop_http.get("/_events").json()
    assert [(e["webhook_id"], e["type"], e["data"]) for e in listed["events"]] == [
        ("evt_1", "purchase.confirmed", {"purchase_id": "pur_1"})
    ]
    assert listed["duplicates"] == 1
    other = event("certificate.issued")
    shop_http.post("/webhooks/prakerja", content=other, headers=signed(other, "evt_2", START))
    assert [e["webhook_id"] for e in shop_http.get("/_events?type=certificate.issued").json()["events"]] == ["evt_2"]


def test_bad_signatures_refused_and_not_recorded(desk_http: TestClient) -> None:
    body = event()
    wrong_secret = signed(body, "evt_1", START, secret="whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==")
    tampered = signed(body, "evt_2", START)
    stale = signed(body, "evt_3", START - timedelta(minutes=6))
    for headers, content in (
        (wrong_secret, body),
        (tampered, body.replace(b"pur_1", b"pur_2")),
        (stale, body),
        ({}, body),
    ):
        assert desk_http.post("/webhooks/prakerja", content=content, headers=headers).status_code == 400
    assert desk_http.get("/_events").json() == {"events": [], "refused": 4, "duplicates": 0}


def test_system_clock_uses_the_library_as_is(shop_http: TestClient, clock: SimClock) -> None:
    clock.set()
    now = datetime.now(UTC)
    body = event()
    assert shop_http.post("/webhooks/prakerja", content=body, headers=signed(body, "evt_9", now)).status_code == 200
    old = signed(body, "evt_10", START)
    assert shop_http.post("/webhooks/prakerja", content=body, headers=old).status_code == 400


def test_clock_endpoint(shop_http: TestClient) -> None:
    assert shop_http.post("/_clock", json={"now": "2026-04-01T02:00:00Z"}).json()["now"] == "2026-04-01T02:00:00Z"
    assert shop_http.get("/_clock").json()["frozen"] is True
    assert shop_http.post("/_clock", json={"now": "2026-04-01 02:00"}).status_code == 400
    assert shop_http.post("/_clock", json={}).json()["frozen"] is False

"""Webhooks, the pure part: endpoint URLs, the event's data and body, when to try again."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from prakerja.partners import rules
from prakerja.partners.service import signed_headers
from prakerja.partners.service.webhooks import new_webhook_secret

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "production", "refused"),
    [
        ("https://platform.example.id/hooks/prakerja", True, False),
        ("https://platform.example.id:8443/hooks?x=1", True, False),
        ("https://platform.example.id/hooks", False, False),
        ("http://127.0.0.1:9000/hooks", False, False),
        ("http://localhost:9000/hooks", False, False),
        ("http://[::1]:9000/hooks", False, False),
        ("http://127.0.0.1:9000/hooks", True, True),  # no http at all in production
        ("http://platform.example.id/hooks", False, True),  # http only to loopback
        ("https://127.0.0.1/hooks", True, True),  # production: no loopback
        ("https://10.1.2.3/hooks", True, True),  # production: no private address
        ("https://169.254.169.254/latest", True, True),  # production: no link-local (cloud metadata)
        ("https://user:pw@platform.example.id/hooks", False, True),
        ("https://platform.example.id/hooks#x", False, True),
        ("ftp://platform.example.id/hooks", False, True),
        ("platform.example.id/hooks", False, True),
        ("https:///hooks", False, True),
        ("https://platform.example.id/" + "a" * 500, False, True),
    ],
)
def test_endpoint_urls(url: str, production: bool, refused: bool) -> None:
    assert (rules.url_problem(url, production=production) is not None) is refused


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        ({"purchase_id": "p1", "course_id": "c1", "amount": 350000, "refunded": True, "voucher": None}, False),
        ({}, False),
        ({"nik": "3201010101010001"}, True),
        ({"name": "Siti"}, True),
        ({"card_number": "5000111122223333"}, True),
        ({"PurchaseId": "p1"}, True),
        ({"purchase": {"id": "p1"}}, True),
        ({"ids": ["a", "b"]}, True),
        ({"note": "x" * 201}, True),
        (["purchase_id"], True),
    ],
)
def test_data_carries_ids_not_personal_data(data: object, refused: bool) -> None:
    assert bool(rules.data_problems(data)) is refused


def test_body_is_the_contracts_shape_in_compact_json() -> None:
    body = rules.webhook_body("purchase.confirmed", NOW, {"purchase_id": "p1"})
    assert body == '{"type":"purchase.confirmed","timestamp":"2026-03-02T09:00:00.000000Z","data":{"purchase_id":"p1"}}'
    assert list(json.loads(body)) == ["type", "timestamp", "data"]


def test_secret_is_whsec_and_24_random_bytes() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 24


def test_signed_headers_verify_with_the_standard_webhooks_library() -> None:
    secret = new_webhook_secret()
    now = datetime.now(UTC)
    body = rules.webhook_body("payout.succeeded", now, {"payout_id": "x"})
    headers = signed_headers(secret=secret, webhook_id="evt_1", at=now, body=body)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body.encode(), headers) == json.loads(body)
    with pytest.raises(Exception, match="signature"):
        Webhook(new_webhook_secret()).verify(body.encode(), headers)


def test_signature_is_hmac_sha256_over_id_timestamp_body() -> None:
    """The contract's formula checked by hand, not only through the library."""
    import hashlib
    import hmac

    key = bytes(range(24))
    secret = "whsec_" + base64.b64encode(key).decode()
    headers = signed_headers(secret=secret, webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek", at=NOW, body='{"a":1}')
    expected = hmac.new(
        key, f"msg_p5jXN8AQM9LWM0D4loKWxJek.{int(NOW.timestamp())}.".encode() + b'{"a":1}', hashlib.sha256
    )
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()


class TestBackoff:
    def test_doubles_from_30_seconds_and_stops_growing_at_12_hours(self) -> None:
        waits = []
        for attempts in range(1, 15):
            when = rules.next_attempt_at(attempts=attempts, first_attempt_at=NOW, now=NOW, retry_after=None, jitter=0.0)
            assert when is not None
            waits.append(when - NOW)
        assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
        assert max(waits) == timedelta(hours=12) == waits[-1]

    def test_jitter_takes_off_up_to_half(self) -> None:
        full = rules.next_attempt_at(attempts=3, first_attempt_at=NOW, now=NOW, retry_after=None, jitter=0.0)
        half = rules.next_attempt_at(attempts=3, first_attempt_at=NOW, now=NOW, retry_after=None, jitter=1.0)
        assert full is not None and half is not None
        assert full - NOW == timedelta(minutes=2) and half - NOW == timedelta(minutes=1)

    def test_retry_after_is_waited_at_least_up_to_a_day(self) -> None:
        later = rules.next_attempt_at(
            attempts=1, first_attempt_at=NOW, now=NOW, retry_after=timedelta(minutes=10), jitter=0.0
        )
        capped = rules.next_attempt_at(
            attempts=1, first_attempt_at=NOW, now=NOW, retry_after=timedelta(days=30), jitter=0.0
        )
        assert later == NOW + timedelta(minutes=10) and capped == NOW + timedelta(hours=24)

    def test_gives_up_after_about_three_days(self) -> None:
        now, attempts = NOW, 0
        while True:
            attempts += 1
            when = rules.next_attempt_at(attempts=attempts, first_attempt_at=NOW, now=now, retry_after=None, jitter=0.5)
            if when is None:
                break
            now = when
        assert timedelta(days=2, hours=12) < now - NOW <= timedelta(days=3)
        assert 10 < attempts < 25

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("120", timedelta(seconds=120)),
            ("Mon, 02 Mar 2026 09:05:00 GMT", timedelta(minutes=5)),
            ("Mon, 02 Mar 2026 08:00:00 GMT", timedelta(0)),
            ("soon", None),
            ("", None),
            (None, None),
        ],
    )
    def test_retry_after_as_seconds_or_http_date(self, value: str | None, expected: timedelta | None) -> None:
        assert rules.parse_retry_after(value, NOW) == expected

    @pytest.mark.parametrize(
        ("status", "retried"), [(None, True), (500, True), (503, True), (429, True), (400, False), (404, False)]
    )
    def test_what_is_tried_again(self, status: int | None, retried: bool) -> None:
        assert rules.retryable(status) is retried

"""Callbacks signed with the partner's secret pass; a changed body, another secret or an old timestamp fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prakerja.payouts.providers import signing

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def test_a_signed_callback_is_valid_and_a_tampered_one_is_not() -> None:
    secret = signing.new_secret()
    body = b'{"end_to_end_id": "PKJ1", "status": "succeeded", "amount": 600000}'
    headers = signing.callback_headers(secret, event_id="evt_1", now=NOW, body=body)
    assert signing.callback_valid(secret, headers, body, now=NOW)
    assert not signing.callback_valid(secret, headers, body.replace(b"600000", b"900000"), now=NOW)
    assert not signing.callback_valid(signing.new_secret(), headers, body, now=NOW)
    assert not signing.callback_valid(secret, headers, body, now=NOW + timedelta(seconds=301))
    assert not signing.callback_valid(secret, {**headers, "webhook-id": "evt_2"}, body, now=NOW)
    assert not signing.callback_valid(secret, {}, body, now=NOW)


def test_request_signature_covers_method_path_and_body() -> None:
    secret = signing.new_secret()
    base = signing.request_signature(secret, 1, "POST", "/bni/payouts", b"{}")
    assert base == signing.request_signature(secret, 1, "post", "/bni/payouts", b"{}")
    assert base != signing.request_signature(secret, 1, "POST", "/ovo/payouts", b"{}")
    assert base != signing.request_signature(secret, 1, "POST", "/bni/payouts", b"{ }")
    assert base != signing.request_signature(secret, 2, "POST", "/bni/payouts", b"{}")

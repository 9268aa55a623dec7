"""Contract section 1, the pure part: the test vector, reproduced exactly, and the window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from prakerja.partners import rules

VECTOR = {
    "client_code": "myclient_code",
    "timestamp": "1516239022",
    "method": "POST",
    "path": "/partner/v1/redeem-codes/commit",
    "body": b'{"redeem_code":"code"}',
}


def test_contract_test_vector_string() -> None:
    assert rules.signing_string(**VECTOR) == (
        b'myclient_code1516239022POST/partner/v1/redeem-codes/commit{"redeem_code":"code"}'
    )


def test_contract_test_vector_signature() -> None:
    assert rules.sign(b"my_sign_key", **VECTOR) == "211e78a03564b3ec9195187a651c0dc97584f39097ea1c76b97af70105f8b46f"


def test_programs_sha1_variant_matches_its_published_example() -> None:
    """The same construction with SHA-1 on the program's own path gives the value in its examples, so the
    concatenation order is the program's."""
    message = rules.signing_string(**{**VECTOR, "path": "/api/v1/integration/payment/redeem-code/commit"})
    assert hmac.new(b"my_sign_key", message, hashlib.sha1).hexdigest() == "943c20a8e36b6243f576404b00fffdc86411ce1f"


def test_method_is_upper_cased_and_bytes_paths_are_signed_as_sent() -> None:
    lower = rules.sign(b"k", "c", "1", "post", b"/partner/v1/x?dry_run=1&a=%2F", b"")
    assert lower == rules.sign(b"k", "c", "1", "POST", "/partner/v1/x?dry_run=1&a=%2F", b"")
    assert lower != rules.sign(b"k", "c", "1", "POST", "/partner/v1/x?dry_run=1&a=/", b"")


@pytest.mark.parametrize(
    ("sent", "fresh"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False), (86400, False)],
)
def test_window_is_300_seconds_either_way(sent: int, fresh: bool) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert rules.fresh(int(now.timestamp()) + sent, now) is fresh


@pytest.mark.parametrize("value", ["", "12a", "-5", " 1516239022", "1516239022.5", "9" * 13])
def test_timestamps_are_whole_seconds_as_digits(value: str) -> None:
    assert rules.parse_timestamp(value) is None


def test_signature_must_be_lowercase_hex() -> None:
    good = "211e78a03564b3ec9195187a651c0dc97584f39097ea1c76b97af70105f8b46f"
    assert rules.well_formed_signature(good)
    assert not rules.well_formed_signature(good.upper())
    assert not rules.well_formed_signature(good[:-1])

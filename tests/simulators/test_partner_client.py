"""The partners' client (simulators/partner_client.py): the contract's signing test vector, headers on every call,
an Idempotency-Key on every write, two identical requests in the same second made to differ, refusals with their
stable codes, and credentials files in both forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prakerja.simulators.partner_client import (
    Credentials,
    PartnerClient,
    PartnerError,
    SimClock,
    load_credentials,
    resolve_credentials,
    sign,
)
from tests.simulators import fake_program
from tests.simulators.conftest import CARD, PLATFORM, START, client_for


def test_contract_test_vector() -> None:
    signature = sign(
        b"my_sign_key",
        "myclient_code",
        "1516239022",
        "POST",
        "/partner/v1/redeem-codes/commit",
        b'{"redeem_code":"code"}',
    )
    assert signature == "211e78a03564b3ec9195187a651c0dc97584f39097ea1c76b97af70105f8b46f"


def test_signed_headers_and_idempotency_key_on_writes(
    program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    client = client_for(PLATFORM, program, clock)
    client.put_listing("crs_webinar", url="https://toko.example/kursus/crs_webinar", price=900_000)
    client.card_inquiry(CARD)
    put, post = fake.calls
    assert put["headers"]["client_code"] == PLATFORM.client_code
    assert put["headers"]["timestamp"] == str(int(START.timestamp()))
    assert put["headers"]["idempotency-key"] != post["headers"]["idempotency-key"]
    assert post["body"] == json.dumps({"card_number": CARD}, separators=(",", ":")).encode()


def test_two_identical_requests_in_the_same_second_differ(
    program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    client = client_for(PLATFORM, program, clock)
    first = client.card_inquiry(CARD)
    second = client.card_inquiry(CARD)
    assert first == second
    paths = [call["path"] for call in fake.calls]
    assert paths[0] == "/partner/v1/cards/inquiry" and paths[1].startswith("/partner/v1/cards/inquiry?nonce=")
    clock.set(now=START.replace(second=1))
    client.card_inquiry(CARD)
    assert fake.calls[-1]["path"] == "/partner/v1/cards/inquiry"


def test_same_idempotency_key_replays_the_first_answer(program: TestClient, clock: SimClock) -> None:
    client = client_for(PLATFORM, program, clock)
    client.put_listing("crs_webinar", url="https://toko.example/a", price=900_000, idempotency_key="list-1")
    status, body = client.request(
        "PUT", "/listings/crs_webinar", {"url": "https://toko.example/a", "price": 900_000}, idempotency_key="list-1"
    )
    assert (status, body) == (200, {"course_id": "crs_webinar", "status": "listed"})
    with pytest.raises(PartnerError) as refused:
        client.put_listing("crs_webinar", url="https://toko.example/b", price=900_000, idempotency_key="list-1")
    assert (refused.value.status, refused.value.code) == (422, "idempotency_key_mismatch")


def test_refusals_carry_status_code_and_words(program: TestClient, clock: SimClock) -> None:
    client = client_for(PLATFORM, program, clock)
    with pytest.raises(PartnerError) as refused:
        client.card_inquiry("9999999999999999")
    assert (refused.value.status, refused.value.code) == (404, "card_not_found")
    assert refused.value.message and refused.value.message_en
    wrong_key = PartnerClient(credentials=Credentials(PLATFORM.client_code, "wrong"), http=program, clock=clock)
    with pytest.raises(PartnerError) as refused:
        wrong_key.card_inquiry(CARD)
    assert (refused.value.status, refused.value.code) == (401, "bad_signature")
    late = SimClock()
    late.set(now=START.replace(minute=10))
    with pytest.raises(PartnerError) as refused:
        PartnerClient(credentials=PLATFORM, http=program, clock=late).card_inquiry(CARD)
    assert refused.value.code == "stale_timestamp"
    institution_role = client_for(Credentials("ins_home", "institution-key"), program, clock)
    with pytest.raises(PartnerError) as refused:
        institution_role.card_inquiry(CARD)
    assert (refused.value.status, refused.value.code) == (403, "partner_role_forbidden")


def test_credentials_files(tmp_path: Path) -> None:
    as_json = tmp_path / "platform.json"
    as_json.write_text(json.dumps({"client_code": "pla_1", "key": "k-1"}))
    assert load_credentials(as_json) == Credentials("pla_1", "k-1")
    printed = tmp_path / "issued.txt"
    printed.write_text("client_code  ins_abc\nkey_id       0190-x\nkey          s3cr3t-_key\nThe key is shown once\n")
    assert load_credentials(printed) == Credentials("ins_abc", "s3cr3t-_key")
    assert resolve_credentials(None, str(printed)) == Credentials("ins_abc", "s3cr3t-_key")
    assert resolve_credentials("other", str(printed)).client_code == "other"
    assert resolve_credentials("c", "literal-key") == Credentials("c", "literal-key")
    with pytest.raises(ValueError):
        resolve_credentials(None, "literal-key")
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(ValueError):
        load_credentials(broken)


def test_clock_follows_a_frozen_or_shifted_program() -> None:
    clock = SimClock()
    clock.set(now=START)
    assert clock.describe() == {"now": "2026-03-02T09:00:00Z", "frozen": True, "offset_seconds": 0.0}
    clock.set(offset_seconds=-3600)
    assert not clock.describe()["frozen"] and clock.describe()["offset_seconds"] == -3600
    with pytest.raises(ValueError):
        clock.set(now=START.replace(tzinfo=None))

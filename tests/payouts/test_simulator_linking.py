"""The payment partners simulator over HTTP: signed account inquiry, OTP and verification as
docs/payouts-partner-interface.md section 3 says; unsigned or wrongly signed requests refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from prakerja.payouts.providers import signing
from tests.payouts.conftest import PaymentsSim


def _call(sim: PaymentsSim, code: str, path: str, body: dict[str, Any], secret: str | None = None) -> httpx.Response:
    raw = json.dumps(body).encode()
    full = f"/{code}{path}"
    headers = signing.request_headers(
        secret or sim.secrets[code], now=datetime.now(UTC), method="POST", path=full, body=raw
    )
    return httpx.post(sim.url + full, content=raw, headers=headers)


def _open(sim: PaymentsSim, code: str, **account: Any) -> None:
    assert httpx.post(f"{sim.base(code)}/sim/accounts", json=account).status_code == 201


def test_bank_account_linked_with_the_partners_otp(payments_sim: PaymentsSim) -> None:
    _open(payments_sim, "bni", number="1234567890", holder_name="Siti Rahmawati", nik="3201014101900001", phone="0812")
    answer = _call(
        payments_sim,
        "bni",
        "/accounts/inquiry",
        {"reference": "r1", "number": "1234567890", "nik": "3201014101900001", "phone": "0812"},
    ).json()
    assert answer == {
        "reference": "r1",
        "status": "active",
        "holder_name": "Siti Rahmawati",
        "nik_match": True,
        "kyc": True,
        "phone_match": True,
    }
    assert _call(payments_sim, "bni", "/accounts/otp", {"reference": "r1"}).status_code == 202
    (message,) = httpx.get(f"{payments_sim.base('bni')}/sim/outbox", params={"number": "1234567890"}).json()
    wrong = "000000" if message["otp"] != "000000" else "111111"
    refused = _call(payments_sim, "bni", "/accounts/otp/verify", {"reference": "r1", "otp": wrong})
    assert (refused.status_code, refused.json()["code"]) == (422, "otp_invalid")
    linked = _call(payments_sim, "bni", "/accounts/otp/verify", {"reference": "r1", "otp": message["otp"]})
    assert linked.json() == {"reference": "r1", "status": "linked"}


def test_ewallet_reports_nik_kyc_and_phone(payments_sim: PaymentsSim) -> None:
    _open(payments_sim, "ovo", number="+6281234567", holder_name="Budi", nik="3171010101900002", kyc=False)
    answer = _call(
        payments_sim,
        "ovo",
        "/accounts/inquiry",
        {"reference": "r2", "number": "081234567", "nik": "3171010101900009", "phone": "0899"},
    ).json()
    assert (answer["status"], answer["nik_match"], answer["kyc"], answer["phone_match"]) == (
        "active",
        False,
        False,
        False,
    )
    missing = _call(payments_sim, "ovo", "/accounts/inquiry", {"reference": "r3", "number": "0800", "nik": "1"})
    assert missing.json()["status"] == "not_found"


def test_five_wrong_codes_lock_the_reference(payments_sim: PaymentsSim) -> None:
    _open(payments_sim, "bni", number="555", holder_name="Dewi", nik="1", phone="0")
    _call(payments_sim, "bni", "/accounts/inquiry", {"reference": "r4", "number": "555", "nik": "1", "phone": "0"})
    _call(payments_sim, "bni", "/accounts/otp", {"reference": "r4"})
    (message,) = httpx.get(f"{payments_sim.base('bni')}/sim/outbox", params={"number": "555"}).json()
    wrong = "000000" if message["otp"] != "000000" else "111111"
    codes = [
        _call(payments_sim, "bni", "/accounts/otp/verify", {"reference": "r4", "otp": wrong}).json()["code"]
        for _ in range(5)
    ]
    assert codes == ["otp_invalid"] * 4 + ["otp_locked"]
    right = _call(payments_sim, "bni", "/accounts/otp/verify", {"reference": "r4", "otp": message["otp"]})
    assert right.json()["code"] == "otp_locked"


def test_unsigned_and_wrongly_signed_requests_are_refused(payments_sim: PaymentsSim) -> None:
    body = {"reference": "r5", "number": "1", "nik": "1"}
    assert httpx.post(f"{payments_sim.base('bni')}/accounts/inquiry", json=body).status_code == 401
    other = _call(payments_sim, "bni", "/accounts/inquiry", body, secret=payments_sim.secrets["ovo"])
    assert (other.status_code, other.json()["code"]) == (401, "bad_signature")
    assert _call(payments_sim, "nope", "/accounts/inquiry", body, secret=payments_sim.secrets["bni"]).status_code == 404

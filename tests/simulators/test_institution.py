"""The institution simulator (simulators/institution.py) against the fake program side: redeeming vouchers, each
session's redeem code checked then committed inside its window, completions in the contract's order of refusals,
the admin and attendance pages in words, and course submission from a JSON file (``prakerja sim submit-course``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from prakerja.simulators import institution
from prakerja.simulators.partner_client import SimClock, rfc3339
from tests.simulators import fake_program
from tests.simulators.conftest import CARD, OTHER_INSTITUTION, PLATFORM, SESSIONS, client_for

REDEEM_CODES = (
    "voucher_not_found",
    "voucher_used",
    "voucher_other_institution",
    "redeem_code_not_found",
    "redeem_code_type_mismatch",
    "redeem_code_other_institution",
    "redeem_code_cancelled",
    "transaction_cancelled",
    "redeem_code_used",
    "redeem_code_outside_window",
    "completion_exists",
    "attendance_missing",
    "completion_too_early",
)
"""Every refusal code of the contract's section 2 (copied from its text)."""


def bought(program: TestClient, clock: SimClock, fake: fake_program.Fake, course_id: str = "crs_webinar") -> Any:
    """A confirmed purchase made by the platform (through the fake), as the participant would have it."""
    shop = client_for(PLATFORM, program, clock)
    shop.put_listing(course_id, url=f"https://toko.example/{course_id}", price=fake.courses[course_id].price)
    created = shop.create_purchase(
        card_number=CARD, course_id=course_id, platform_order_id="ORD-1", platform_account_id="AKN-1"
    )
    purchase = fake.purchases[created["purchase_id"]]
    shop.confirm_purchase(purchase.id, purchase.otp)
    return purchase


def test_every_section_2_refusal_has_words() -> None:
    for code in REDEEM_CODES:
        assert code in institution.MESSAGES, code


def test_redeem_attend_each_session_then_complete(
    desk_http: TestClient, program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    purchase = bought(program, clock, fake)
    redeemed = desk_http.post("/api/vouchers/redeem", json={"voucher_code": purchase.voucher_code})
    assert redeemed.status_code == 200, redeemed.text
    enrolment = redeemed.json()
    assert enrolment["participant_name_masked"] == "S**i R*******i" and len(enrolment["sessions"]) == 3
    early = desk_http.post("/api/completions", json={"purchase_id": purchase.id, "score": 90, "passed": True})
    assert (early.status_code, early.json()["code"]) == (422, "attendance_missing")
    for session_id, starts_at in fake.sessions_of("crs_webinar"):
        code = fake.redeem_code(purchase.id, session_id)
        clock.set(now=starts_at - timedelta(hours=2))
        outside = desk_http.post("/api/attendance", json={"redeem_code": code})
        assert (outside.status_code, outside.json()["code"]) == (422, "redeem_code_outside_window")
        clock.set(now=starts_at + timedelta(minutes=10))
        attended = desk_http.post("/api/attendance", json={"redeem_code": code})
        assert attended.status_code == 200, attended.text
        assert attended.json()["status"]["state"] == "valid" and attended.json()["commit"]["state"] == "used"
        again = desk_http.post("/api/attendance", json={"redeem_code": code})
        assert (again.status_code, again.json()["code"]) == (409, "redeem_code_used")
    too_early = desk_http.post("/api/completions", json={"purchase_id": purchase.id, "score": 90, "passed": True})
    assert (too_early.status_code, too_early.json()["code"]) == (422, "completion_too_early")
    clock.set(now=SESSIONS[-1] + timedelta(days=1))
    done = desk_http.post("/api/completions", json={"purchase_id": purchase.id, "score": 90, "passed": True})
    assert done.status_code == 201 and done.json()["status"] == "accepted" and done.json()["certificate_id"]
    sent = [c for c in fake.calls if c["path"] == "/partner/v1/completions"][-1]
    assert b'"completed_at":"2026-03-19T09:00:00Z"' in sent["body"] and b'"score":90' in sent["body"]
    twice = desk_http.post("/api/completions", json={"purchase_id": purchase.id, "score": 90, "passed": True})
    assert (twice.status_code, twice.json()["code"]) == (409, "completion_exists")
    listed = desk_http.get("/api/enrolments").json()["enrolments"][0]
    assert all(s["attended_at"] for s in listed["sessions"]) and listed["completion"]["status"] == "accepted"
    assert "accepted" in desk_http.get("/").text


def test_voucher_refusals(
    desk_http: TestClient, program: TestClient, clock: SimClock, fake: fake_program.Fake, desk: institution.Desk
) -> None:
    unknown = desk_http.post("/api/vouchers/redeem", json={"voucher_code": "NOPE"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "voucher_not_found")
    purchase = bought(program, clock, fake)
    assert desk_http.post("/api/vouchers/redeem", json={"voucher_code": purchase.voucher_code}).status_code == 200
    used = desk_http.post("/voucher", data={"kode_voucher": purchase.voucher_code})
    assert used.status_code == 409 and institution.MESSAGES["voucher_used"] in used.text
    fake.cards[CARD].first_unfinished = False
    other = bought(program, clock, fake, "crs_other")
    refused = desk_http.post("/api/vouchers/redeem", json={"voucher_code": other.voucher_code})
    assert (refused.status_code, refused.json()["code"]) == (403, "voucher_other_institution")
    assert list(desk.enrolments) == [purchase.id]


def test_redeem_code_refusals_in_words(
    desk_http: TestClient, program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    page = desk_http.post("/hadir", data={"kode_redeem": "RCUNKNOWN"})
    assert page.status_code == 404 and institution.MESSAGES["redeem_code_not_found"] in page.text
    other = bought(program, clock, fake, "crs_other")
    code = next(iter(other.codes.values()))
    clock.set(now=SESSIONS[0])
    page = desk_http.post("/hadir", data={"kode_redeem": code})
    assert page.status_code == 403 and institution.MESSAGES["redeem_code_other_institution"] in page.text
    theirs = institution.Desk(client=client_for(OTHER_INSTITUTION, program, clock))
    theirs.redeem(other.voucher_code)
    other.status = "cancelled"
    with pytest.raises(institution.DeskError) as refused:
        theirs.attend(code)
    assert refused.value.code == "transaction_cancelled"
    ok = desk_http.get("/hadir")
    assert "Kode redeem" in ok.text and 'lang="id"' in ok.text


def test_admin_pages_redeem_and_complete(
    desk_http: TestClient, program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    purchase = bought(program, clock, fake)
    page = desk_http.post("/voucher", data={"kode_voucher": purchase.voucher_code})
    assert page.status_code == 200 and "S**i R*******i" in page.text and "belum hadir" in page.text
    for session_id, starts_at in fake.sessions_of("crs_webinar"):
        clock.set(now=starts_at)
        assert "Kehadiran tercatat" in desk_http.post("/hadir", data={"kode_redeem": purchase.codes[session_id]}).text
    clock.set(now=SESSIONS[-1] + timedelta(hours=5))
    done = desk_http.post(f"/peserta/{purchase.id}/selesai", data={"nilai": "77", "lulus": "1"})
    assert done.status_code == 200 and "accepted" in done.text
    assert fake.completions[purchase.id]["status"] == "accepted"


def test_completion_input_checked(desk_http: TestClient) -> None:
    for body in ({"purchase_id": "p", "score": "90", "passed": True}, {"purchase_id": "p", "score": 90}):
        assert desk_http.post("/api/completions", json=body).status_code == 400
    bad_time = {"purchase_id": "p", "score": 9, "passed": True, "completed_at": "2026-03-02 09:00"}
    assert desk_http.post("/api/completions", json=bad_time).status_code == 400
    assert (
        desk_http.post("/api/completions", json={"purchase_id": "p", "score": 101, "passed": True}).status_code == 422
    )


def test_completed_at_given(
    desk_http: TestClient, program: TestClient, clock: SimClock, fake: fake_program.Fake
) -> None:
    purchase = bought(program, clock, fake)
    desk_http.post("/api/vouchers/redeem", json={"voucher_code": purchase.voucher_code})
    for session_id, starts_at in fake.sessions_of("crs_webinar"):
        clock.set(now=starts_at)
        desk_http.post("/api/attendance", json={"redeem_code": purchase.codes[session_id]})
    clock.set(now=SESSIONS[-1] + timedelta(days=3))
    at = rfc3339(SESSIONS[-1] + timedelta(days=2))
    done = desk_http.post(
        "/api/completions", json={"purchase_id": purchase.id, "score": 60, "passed": False, "completed_at": at}
    )
    assert done.status_code == 201
    assert (
        f'"completed_at":"{at}"'.encode() in [c for c in fake.calls if c["path"].endswith("/completions")][-1]["body"]
    )

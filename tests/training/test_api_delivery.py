"""Section 2 of the marketplace contract over real HTTP: vouchers, redeem codes (the six states and the window,
edges included, with the injected clock), sessions cancelled by the program, completions (the order of refusals,
review, capture and certificate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course
from prakerja.certificates.models import Certificate
from prakerja.config import reset_settings
from prakerja.kit.clock import clock
from prakerja.ledger import service as ledger
from prakerja.training import service
from prakerja.training.models import (
    AttendanceEvent,
    Completion,
    CompletionStatus,
    Purchase,
    PurchaseStatus,
    RedeemCode,
)
from tests.training.conftest import BALANCE, PRICE, Api, Participant, Partner, available, count
from tests.training.test_api_purchases import assert_refused, buy_and_confirm, refused, snapshot

START = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
"""The first session's start; the others follow a day apart, 180 minutes each."""
LAST_END = START + timedelta(days=4, minutes=180)


def codes(session: Session, purchase_id: str) -> list[RedeemCode]:
    session.rollback()
    return list(
        session.scalars(select(RedeemCode).where(RedeemCode.purchase_id == purchase_id).order_by(RedeemCode.valid_from))
    )


def at(moment: datetime) -> None:
    """The next request happens at ``moment`` (each call advances the clock by one second first)."""
    clock.freeze(moment - timedelta(seconds=1))


def redeemed(
    api: Api, session: Session, platform: Partner, institution: Partner, participant: Participant, course: Course
) -> dict[str, Any]:
    confirmed = buy_and_confirm(api, session, platform, participant, course)
    response = api.redeem(institution, confirmed["voucher_code"])
    assert response.status_code == 200, response.text
    return confirmed


def attend_all(api: Api, session: Session, institution: Partner, purchase_id: str) -> None:
    for n, code in enumerate(codes(session, purchase_id)):
        at(START + timedelta(days=n, minutes=5))
        response = api.commit(institution, code.code)
        assert response.status_code == 200, response.text


class TestVouchers:
    def test_redeem_gives_masked_name_and_sessions(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        response = api.redeem(institution, confirmed["voucher_code"].lower())
        assert response.status_code == 200, response.text
        out = response.json()
        assert set(out) == {"purchase_id", "course_id", "participant_name_masked", "sessions"}
        assert out["participant_name_masked"] == "Ni M**e D**i" and out["course_id"] == str(course.id)
        assert [s["starts_at"][:10] for s in out["sessions"]] == [f"2026-03-{16 + n}" for n in range(5)]
        assert set(out["sessions"][0]) == {"session_id", "starts_at"}
        assert api.read(platform, confirmed["purchase_id"]).json()["status"] == "redeemed"

    def test_voucher_refusals(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        other_institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        before = snapshot(session)
        refused(session, before, api.redeem(institution, "NOSUCHVOUCHER"), 404, "voucher_not_found")
        refused(
            session, before, api.redeem(other_institution, confirmed["voucher_code"]), 403, "voucher_other_institution"
        )
        assert_refused(api.redeem(platform, confirmed["voucher_code"]), 403, "partner_role_forbidden")
        assert api.redeem(institution, confirmed["voucher_code"]).status_code == 200
        before = snapshot(session)
        refused(session, before, api.redeem(institution, confirmed["voucher_code"]), 409, "voucher_used")

    def test_voucher_of_a_cancelled_purchase(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        assert api.cancel(platform, confirmed["purchase_id"]).status_code == 200
        before = snapshot(session)
        refused(session, before, api.redeem(institution, confirmed["voucher_code"]), 409, "transaction_cancelled")


class TestRedeemCodes:
    def test_status_and_window_edges(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = redeemed(api, session, platform, institution, participant, course)
        first, second = codes(session, confirmed["purchase_id"])[:2]
        status = api.status(institution, first.code)
        assert status.status_code == 200, status.text
        assert status.json() == {
            "redeem_code": first.code,
            "state": "valid",
            "session_id": str(first.session_id),
            "valid_from": "2026-03-16T01:00:00Z",
            "valid_until": "2026-03-16T03:00:00Z",
        }
        at(START - timedelta(hours=1, seconds=1))
        before = snapshot(session)
        refused(session, before, api.commit(institution, first.code), 422, "redeem_code_outside_window")
        at(START - timedelta(hours=1))
        response = api.commit(institution, first.code)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "redeem_code": first.code,
            "state": "used",
            "session_id": str(first.session_id),
            "attended_at": "2026-03-16T01:00:00Z",
        }
        second_start = START + timedelta(days=1)
        at(second_start + timedelta(hours=1, seconds=1))
        before = snapshot(session)
        refused(session, before, api.commit(institution, second.code), 422, "redeem_code_outside_window")
        at(second_start + timedelta(hours=1))
        assert api.commit(institution, second.code).status_code == 200
        assert api.status(institution, first.code).json()["state"] == "used"
        before = snapshot(session)
        refused(session, before, api.commit(institution, first.code), 409, "redeem_code_used")
        assert count(session, AttendanceEvent) == 2

    def test_code_refusals(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        other_institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = redeemed(api, session, platform, institution, participant, course)
        first = codes(session, confirmed["purchase_id"])[0]
        at(START)
        before = snapshot(session)
        refused(session, before, api.commit(institution, "NOSUCHCODE"), 404, "redeem_code_not_found")
        refused(session, before, api.status(institution, "NOSUCHCODE"), 404, "redeem_code_not_found")
        refused(session, before, api.commit(other_institution, first.code), 403, "redeem_code_other_institution")
        refused(session, before, api.status(other_institution, first.code), 403, "redeem_code_other_institution")
        refused(
            session,
            before,
            api.commit(institution, first.code, training_type="offline"),
            422,
            "redeem_code_type_mismatch",
        )
        refused(session, before, api.commit(institution, first.code, training_type="zoom"), 422, "invalid_request")

    def test_codes_of_a_cancelled_purchase(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        assert api.cancel(platform, confirmed["purchase_id"]).status_code == 200
        first = codes(session, confirmed["purchase_id"])[0]
        assert api.status(institution, first.code).json()["state"] == "cancelled"
        at(START)
        before = snapshot(session)
        refused(session, before, api.commit(institution, first.code), 409, "transaction_cancelled")

    def test_code_before_the_voucher_is_redeemed(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        first = codes(session, confirmed["purchase_id"])[0]
        at(START)
        before = snapshot(session)
        refused(session, before, api.commit(institution, first.code), 409, "purchase_state")

    def test_a_session_cancelled_by_the_program_is_refunded(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = redeemed(api, session, platform, institution, participant, course)
        third = codes(session, confirmed["purchase_id"])[2]
        officer = Actor(id=None, role="pmo_admin")
        assert service.delivery.cancel_session(session, session_id=third.session_id, actor=officer, reason="libur") == 1
        assert service.delivery.cancel_session(session, session_id=third.session_id, actor=officer, reason="libur") == 0
        session.commit()
        share = PRICE * 180 // (5 * 180)
        assert available(session, participant) == BALANCE - PRICE + share
        at(START + timedelta(days=2))
        before = snapshot(session)
        refused(session, before, api.commit(institution, third.code), 409, "redeem_code_cancelled")
        assert api.status(institution, third.code).json()["state"] == "cancelled"
        # the other four sessions attended, then completion captures what is left
        for n, code in enumerate(codes(session, confirmed["purchase_id"])):
            if code.session_id == third.session_id:
                continue
            at(START + timedelta(days=n, minutes=5))
            assert api.commit(institution, code.code).status_code == 200
        at(LAST_END + timedelta(hours=1))
        done = api.complete(institution, confirmed["purchase_id"], "2026-03-20T05:30:00Z")
        assert done.status_code == 201, done.text
        session.rollback()
        payable = ledger.institution_payable(session, institution.partner_id)
        assert payable.credits_posted == PRICE - share
        assert available(session, participant) == BALANCE - PRICE + share


class TestCompletion:
    def test_refusals_in_the_contract_order(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        other_institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = redeemed(api, session, platform, institution, participant, course)
        purchase_id = confirmed["purchase_id"]
        clock.freeze(LAST_END + timedelta(hours=2))
        before = snapshot(session)
        refused(
            session, before, api.complete(institution, purchase_id, "2026-03-20T05:30:00Z"), 422, "attendance_missing"
        )
        refused(
            session,
            before,
            api.complete(other_institution, purchase_id, "2026-03-20T05:30:00Z"),
            404,
            "purchase_not_found",
        )
        attend_all(api, session, institution, purchase_id)
        clock.freeze(LAST_END + timedelta(hours=2))
        before = snapshot(session)
        refused(
            session, before, api.complete(institution, purchase_id, "2026-03-20T04:00:00Z"), 422, "completion_too_early"
        )
        refused(
            session, before, api.complete(institution, purchase_id, "2026-03-21T04:00:00Z"), 422, "completion_too_early"
        )
        refused(session, before, api.complete(institution, purchase_id, "2026-03-20T05:30:00"), 422, "invalid_request")
        response = api.complete(institution, purchase_id, "2026-03-20T05:30:00Z", score=88)
        assert response.status_code == 201, response.text
        out = response.json()
        assert out["status"] == "accepted" and out["certificate_id"] is not None
        assert set(out) == {"completion_id", "status", "certificate_id"}
        before = snapshot(session)
        refused(
            session, before, api.complete(institution, purchase_id, "2026-03-20T05:30:00Z"), 409, "completion_exists"
        )
        session.rollback()
        assert session.get(Certificate, out["certificate_id"]) is not None
        assert api.read(platform, purchase_id).json()["status"] == "completed"

    def test_capture_pays_the_institution_less_the_platform_commission(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        service.completions.set_commission(session, platform_id=platform.partner_id, bps=1000, actor=Actor.system())
        session.commit()
        confirmed = redeemed(api, session, platform, institution, participant, course)
        attend_all(api, session, institution, confirmed["purchase_id"])
        clock.freeze(LAST_END + timedelta(hours=2))
        assert api.complete(institution, confirmed["purchase_id"], "2026-03-20T05:30:00Z").status_code == 201
        session.rollback()
        payable = ledger.institution_payable(session, institution.partner_id)
        commission = ledger.platform_commission(session, platform.partner_id)
        assert payable.credits_posted == PRICE and payable.debits_posted == PRICE // 10
        assert commission.credits_posted == PRICE // 10
        assert available(session, participant) == BALANCE - PRICE
        wallet = ledger.wallet(session, participant.applicant_id)
        assert wallet is not None and wallet.debits_pending == 0 and wallet.debits_posted == PRICE

    def test_failed_attendance_proof_sends_the_completion_to_review(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PRAKERJA_ATTENDANCE_PROOF", "simulator_fail")
        reset_settings()
        try:
            confirmed = redeemed(api, session, platform, institution, participant, course)
            attend_all(api, session, institution, confirmed["purchase_id"])
        finally:
            monkeypatch.delenv("PRAKERJA_ATTENDANCE_PROOF")
            reset_settings()
        clock.freeze(LAST_END + timedelta(hours=2))
        response = api.complete(institution, confirmed["purchase_id"], "2026-03-20T05:30:00Z")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "in_review" and response.json()["certificate_id"] is None
        session.rollback()
        completion = session.scalars(select(Completion)).one()
        assert completion.review_reasons == ["attendance_proof_failed"]
        assert ledger.institution_payable(session, institution.partner_id).credits_posted == 0
        officer = Actor(id=None, role="pmo_officer")
        service.completions.decide(
            session, completion_id=completion.id, accept_it=True, note="dicek manual", officer=officer
        )
        session.commit()
        assert completion.status is CompletionStatus.accepted and completion.certificate_id is not None
        assert ledger.institution_payable(session, institution.partner_id).credits_posted == PRICE
        purchase = session.get(Purchase, confirmed["purchase_id"])
        assert purchase is not None and purchase.status is PurchaseStatus.completed

    def test_self_paced_needs_the_hours_after_redemption(
        self, api: Api, session: Session, platform: Partner, institution: Partner, participant: Participant
    ) -> None:
        from tests.training.conftest import make_course

        course = make_course(session, institution, platform, format="self_paced", sessions=[], title="Belajar Mandiri")
        assert catalog.course_sessions(session, course.id) == []
        confirmed = redeemed(api, session, platform, institution, participant, course)
        session.rollback()
        purchase = session.get(Purchase, confirmed["purchase_id"])
        assert purchase is not None and purchase.redeemed_at is not None
        enough = purchase.redeemed_at + timedelta(hours=course.hours)
        clock.freeze(enough + timedelta(hours=5))
        before = snapshot(session)
        early = (enough - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        refused(
            session, before, api.complete(institution, confirmed["purchase_id"], early), 422, "completion_too_early"
        )
        response = api.complete(institution, confirmed["purchase_id"], enough.isoformat().replace("+00:00", "Z"))
        assert response.status_code == 201 and response.json()["status"] == "accepted", response.text

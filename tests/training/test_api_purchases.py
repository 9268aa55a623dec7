"""Section 1 of the marketplace contract over real HTTP (signed, uvicorn on loopback, clock frozen): inquiry,
purchase with a one-time code, confirm, cancel, read; every refusal's status and code, and that it wrote nothing
(except the count of wrong codes and the log of refused calls)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.catalog.models import Course
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.ledger.models import LedgerTransfer as Transfer
from prakerja.notifications.models import Message
from prakerja.partners.models import PartnerRefusal, WebhookEvent
from prakerja.recipients import service as recipients
from prakerja.training.models import Purchase, PurchaseStatus, RedeemCode, TrainingEvent
from tests.training.conftest import (
    BALANCE,
    PRICE,
    Api,
    Participant,
    Partner,
    available,
    count,
    last_otp,
    make_course,
    make_participant,
    tick,
)

MONEY_AND_STATE = (Purchase, RedeemCode, Transfer, Message, IdempotencyRecord, TrainingEvent, AuditEntry)


def snapshot(session: Session) -> dict[str, int]:
    return {model.__name__: count(session, model) for model in MONEY_AND_STATE}


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["code"] == code, payload
    assert set(payload) == {"code", "message", "message_en", "details"}


def refused(session: Session, before: dict[str, int], response: httpx.Response, status: int, code: str) -> None:
    """The refusal's status and code; nothing written but one row in the log of refused calls."""
    assert_refused(response, status, code)
    assert snapshot(session) == before
    session.rollback()
    last = session.scalars(select(PartnerRefusal).order_by(PartnerRefusal.id.desc())).first()
    assert last is not None and last.code == code and last.status == status and last.signed


def buy_and_confirm(
    api: Api, session: Session, platform: Partner, participant: Participant, course: Course, **kw: Any
) -> dict[str, Any]:
    created = api.buy(platform, participant.card_number, course.id, **kw)
    assert created.status_code == 201, created.text
    confirmed = api.confirm(platform, created.json()["purchase_id"], last_otp(session, participant.account_id))
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()


class TestInquiry:
    def test_masked_card_and_name_with_balance(
        self, api: Api, session: Session, platform: Partner, participant: Participant
    ) -> None:
        response = api.inquiry(platform, participant.card_number)
        assert response.status_code == 200, response.text
        card = response.json()
        assert set(card) == {"card_number_masked", "name_masked", "balance", "status", "first_purchase_deadline"}
        assert card["card_number_masked"] == "**** **** **** " + participant.card_number[-4:]
        assert card["name_masked"] == "Ni M**e D**i"
        assert card["balance"] == BALANCE and card["status"] == "active"
        assert participant.card_number not in response.text

    def test_unknown_and_malformed_cards(
        self, api: Api, session: Session, platform: Partner, participant: Participant
    ) -> None:
        before = snapshot(session)
        refused(session, before, api.inquiry(platform, "1234567890123456"), 404, "card_not_found")
        refused(session, before, api.inquiry(platform, "12ab"), 404, "card_not_found")
        response = api.call("POST", "/partner/v1/cards/inquiry", platform, {"card": "x"})
        refused(session, before, response, 422, "invalid_request")
        response = api.call("POST", "/partner/v1/cards/inquiry", platform, content=b"{not json")
        refused(session, before, response, 400, "malformed_body")

    def test_an_institution_may_not_use_platform_calls(
        self, api: Api, session: Session, institution: Partner, participant: Participant
    ) -> None:
        before = snapshot(session)
        assert_refused(api.inquiry(institution, participant.card_number), 403, "partner_role_forbidden")
        assert snapshot(session) == before

    def test_revoked_card_is_refused_at_inquiry_and_purchase(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        recipients.revoke(session, participant.recipient_id)
        session.commit()
        before = snapshot(session)
        refused(session, before, api.inquiry(platform, participant.card_number), 422, "card_revoked")
        refused(session, before, api.buy(platform, participant.card_number, course.id), 422, "card_revoked")

    def test_unfunded_card_is_not_active(self, api: Api, session: Session, platform: Partner, course: Course) -> None:
        unfunded = make_participant(session, funded=False)
        before = snapshot(session)
        refused(session, before, api.inquiry(platform, unfunded.card_number), 422, "card_not_active")
        refused(session, before, api.buy(platform, unfunded.card_number, course.id), 422, "card_not_active")


class TestPurchase:
    def test_otp_confirm_gives_voucher_and_reserves_the_price(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        created = api.buy(platform, participant.card_number, course.id)
        assert created.status_code == 201, created.text
        body = created.json()
        assert set(body) == {"purchase_id", "status", "amount", "otp_expires_at"}
        assert body["status"] == "otp_sent" and body["amount"] == PRICE
        otp = last_otp(session, participant.account_id)
        assert otp not in created.text
        assert available(session, participant) == BALANCE - PRICE
        confirmed = api.confirm(platform, body["purchase_id"], otp)
        assert confirmed.status_code == 200, confirmed.text
        out = confirmed.json()
        assert set(out) == {"purchase_id", "status", "voucher_code", "amount", "balance_after"}
        assert out["status"] == "confirmed" and out["amount"] == PRICE and out["balance_after"] == BALANCE - PRICE
        assert count(session, RedeemCode) == 5
        read = api.read(platform, body["purchase_id"])
        assert read.status_code == 200
        got = read.json()
        assert {"purchase_id", "status", "course_id", "amount", "voucher_code", "sessions"} <= set(got)
        assert got["status"] == "confirmed" and got["voucher_code"] == out["voucher_code"] and len(got["sessions"]) == 5
        session.rollback()
        assert otp not in str(session.scalars(select(AuditEntry.data)).all())
        # the event's record is the partners' webhook event (the domain's copy is no longer written: ADR 0044)
        assert [e.type for e in session.scalars(select(WebhookEvent))] == ["purchase.confirmed", "purchase.confirmed"]
        assert session.scalar(select(func.count()).select_from(TrainingEvent)) == 0

    def test_cancel_before_redemption_returns_the_money(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        response = api.cancel(platform, confirmed["purchase_id"])
        assert response.status_code == 200, response.text
        assert response.json() == {
            "purchase_id": confirmed["purchase_id"],
            "status": "cancelled",
            "balance_after": BALANCE,
        }
        assert available(session, participant) == BALANCE
        before = snapshot(session)
        refused(session, before, api.cancel(platform, confirmed["purchase_id"]), 409, "purchase_state")
        refused(session, before, api.confirm(platform, confirmed["purchase_id"], "000000"), 409, "purchase_state")

    def test_cancel_after_redemption_is_refused(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        institution: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        confirmed = buy_and_confirm(api, session, platform, participant, course)
        assert api.redeem(institution, confirmed["voucher_code"]).status_code == 200
        before = snapshot(session)
        refused(session, before, api.cancel(platform, confirmed["purchase_id"]), 409, "purchase_state")

    def test_business_refusals_write_nothing(
        self,
        api: Api,
        session: Session,
        institution: Partner,
        platform: Partner,
        other_platform: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        before = snapshot(session)
        refused(session, before, api.buy(other_platform, participant.card_number, course.id), 422, "course_not_listed")
        refused(session, before, api.buy(platform, participant.card_number, "not-an-id"), 422, "course_not_listed")
        dear = make_course(session, institution, platform, price=3_000_000, title="Kursus Mahal")
        poor = make_participant(session, balance=1_000_000)
        before = snapshot(session)
        refused(session, before, api.buy(platform, poor.card_number, dear.id), 422, "insufficient_balance")

    def test_first_training_must_be_finished(
        self,
        api: Api,
        session: Session,
        institution: Partner,
        platform: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        buy_and_confirm(api, session, platform, participant, course)
        second = make_course(session, institution, platform, title="Kursus Kedua")
        before = snapshot(session)
        refused(
            session,
            before,
            api.buy(platform, participant.card_number, second.id, order="o-2"),
            422,
            "first_training_unfinished",
        )

    def test_one_platform_account_pays_with_one_card(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        buy_and_confirm(api, session, platform, participant, course, account="akun-sama")
        other = make_participant(session)
        before = snapshot(session)
        refused(
            session,
            before,
            api.buy(platform, other.card_number, course.id, account="akun-sama"),
            422,
            "platform_account_bound",
        )

    def test_another_platform_cannot_see_or_confirm(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        other_platform: Partner,
        participant: Participant,
        course: Course,
    ) -> None:
        created = api.buy(platform, participant.card_number, course.id).json()
        before = snapshot(session)
        refused(
            session, before, api.confirm(other_platform, created["purchase_id"], "123456"), 404, "purchase_not_found"
        )
        refused(session, before, api.read(other_platform, created["purchase_id"]), 404, "purchase_not_found")

    def test_expired_code_is_refused(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        created = api.buy(platform, participant.card_number, course.id).json()
        otp = last_otp(session, participant.account_id)
        tick(5 * 60)
        before = snapshot(session)
        refused(session, before, api.confirm(platform, created["purchase_id"], otp), 422, "otp_expired")


class TestOtpBruteForce:
    def test_five_wrong_codes_cancel_the_purchase_and_release_the_money(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        created = api.buy(platform, participant.card_number, course.id).json()
        otp = last_otp(session, participant.account_id)
        wrong = "000000" if otp != "000000" else "111111"
        for attempt in range(1, 5):
            before = snapshot(session)
            response = api.confirm(platform, created["purchase_id"], wrong)
            assert_refused(response, 422, "otp_invalid")
            assert response.json()["details"] == {"attempts_left": 5 - attempt}
            assert snapshot(session) == before  # only the count changed
            session.rollback()
            assert session.get(Purchase, created["purchase_id"]).otp_attempts == attempt  # type: ignore[union-attr]
        assert available(session, participant) == BALANCE - PRICE
        assert_refused(api.confirm(platform, created["purchase_id"], wrong), 429, "otp_attempts_exceeded")
        session.rollback()
        purchase = session.get(Purchase, created["purchase_id"])
        assert purchase is not None and purchase.status is PurchaseStatus.cancelled
        assert available(session, participant) == BALANCE
        assert_refused(api.confirm(platform, created["purchase_id"], otp), 409, "purchase_state")
        assert count(session, PartnerRefusal, code="otp_invalid") == 4


class TestIdempotencyAndDocument:
    def test_a_retried_purchase_reserves_once(
        self, api: Api, session: Session, platform: Partner, participant: Participant, course: Course
    ) -> None:
        first = api.call(
            "POST",
            "/partner/v1/purchases",
            platform,
            {
                "card_number": participant.card_number,
                "course_id": str(course.id),
                "platform_order_id": "o-1",
                "platform_account_id": "akun",
            },
            key="same-order",
        )
        again = api.call(
            "POST",
            "/partner/v1/purchases",
            platform,
            {
                "card_number": participant.card_number,
                "course_id": str(course.id),
                "platform_order_id": "o-1",
                "platform_account_id": "akun",
            },
            key="same-order",
        )
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert count(session, Purchase) == 1 and count(session, Message) == 1
        assert available(session, participant) == BALANCE - PRICE

    def test_openapi_lists_every_refusal_code(self, api: Api) -> None:
        spec = api.client.http.get("/openapi.json").json()

        def codes(path: str, method: str = "post") -> set[str]:
            operation = spec["paths"][path][method]
            return {c for response in operation["responses"].values() for c in response.get("x-error-codes", [])}

        assert {
            "card_not_found",
            "card_revoked",
            "card_not_active",
            "insufficient_balance",
            "first_training_unfinished",
            "course_not_listed",
            "platform_account_bound",
            "partner_role_forbidden",
        } <= codes("/partner/v1/purchases")
        assert {"otp_invalid", "otp_expired", "otp_attempts_exceeded", "purchase_state"} <= codes(
            "/partner/v1/purchases/{purchase_id}/confirm"
        )
        assert {"voucher_not_found", "voucher_used", "voucher_other_institution"} <= codes(
            "/partner/v1/vouchers/redeem"
        )
        assert {
            "redeem_code_not_found",
            "redeem_code_type_mismatch",
            "redeem_code_other_institution",
            "redeem_code_cancelled",
            "transaction_cancelled",
            "redeem_code_used",
            "redeem_code_outside_window",
        } <= codes("/partner/v1/redeem-codes/commit")
        assert {"completion_exists", "attendance_missing", "completion_too_early"} <= codes("/partner/v1/completions")
        body = spec["paths"]["/partner/v1/purchases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert set(body["properties"]) == {"card_number", "course_id", "platform_order_id", "platform_account_id"}


class TestSecrets:
    def test_the_one_time_code_is_never_logged_nor_answered(
        self,
        api: Api,
        session: Session,
        platform: Partner,
        participant: Participant,
        course: Course,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        created = api.buy(platform, participant.card_number, course.id)
        otp = last_otp(session, participant.account_id)
        wrong = api.confirm(platform, created.json()["purchase_id"], "999999" if otp != "999999" else "888888")
        confirmed = api.confirm(platform, created.json()["purchase_id"], otp)
        assert confirmed.status_code == 200
        for response in (created, wrong, confirmed):
            assert otp not in response.text and participant.card_number not in response.text
        standard = set(vars(logging.makeLogRecord({})))  # timestamps could hold any six digits by chance
        for record in caplog.records:
            said = record.getMessage() + repr({k: v for k, v in vars(record).items() if k not in standard})
            assert otp not in said and participant.card_number not in said
        session.rollback()
        stored = session.get(Purchase, created.json()["purchase_id"])
        assert stored is not None and otp.encode() not in stored.otp_hash

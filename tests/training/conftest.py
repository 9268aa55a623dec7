"""Marketplace fixtures: an institution and a platform with signing keys, an approved webinar course with five
sessions listed by the platform, and a funded recipient with a profile (name, verified phone). The clock is frozen
at 2026-03-02 09:00 UTC; the sessions start on 16-20 March at 02:00 UTC (09:00 WIB)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course
from prakerja.kit.clock import clock, utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.notifications.models import Message
from prakerja.recipients import service as recipients
from prakerja.registration.models import Applicant
from prakerja.waves.models import WaveState
from tests.catalog.conftest import BODY, OFFICER, approve, body, submit
from tests.partners.conftest import Partner, SignedClient, create_partner, signed_client  # noqa: F401
from tests.selection.factories import create_account, create_wave

SCHEME = "2023-normal"
YEAR = 2026
BALANCE = 3_500_000
PRICE = 950_000
NAME = "Ni Made Dewi"


@dataclass
class Participant:
    recipient_id: uuid.UUID
    applicant_id: uuid.UUID
    account_id: uuid.UUID
    card_number: str


def make_course(
    session: Session,
    institution: Partner,
    platform: Partner,
    base: dict[str, Any] = BODY,
    price: int = PRICE,
    **overrides: Any,
) -> Course:
    """Submitted, approved and listed at ``price`` (the curated price is the body's, at least ``price``)."""
    overrides.setdefault("price", max(base["price"], price))
    overrides.setdefault("outside_price", max(base["outside_price"], overrides["price"]))
    course = submit(session, institution.partner_id, base, **overrides)
    approve(session, course)
    catalog.listings.put_listing(
        session,
        course_id=course.id,
        platform_id=platform.partner_id,
        url="https://platform.example/kursus",
        price=price,
        actor=Actor(id=None, role="partner:platform"),
    )
    session.commit()
    return course


def make_participant(
    session: Session,
    *,
    balance: int = BALANCE,
    name: str = NAME,
    deadline_days: int = 15,
    funded: bool = True,
    account_id: uuid.UUID | None = None,
) -> Participant:
    account_id = account_id or create_account(session).id
    wave = create_wave(session, state=WaveState.announced, quotas={"3201": 1})
    applicant_id = new_id()
    phone = "0812" + str(uuid.uuid4().int)[:8]
    session.add(
        Applicant(
            id=applicant_id,
            account_id=account_id,
            full_name=name,
            phone=phone,
            phone_index=blind_index(phone, "phone"),
            phone_verified_at=utcnow(),
        )
    )
    session.flush()
    recipient, _ = recipients.register(
        session,
        wave_id=wave.id,
        entry_hash=uuid.uuid4().bytes * 2,
        applicant_id=applicant_id,
        account_id=account_id,
        kk_index=None,
        scheme_name=SCHEME,
        training_balance=balance,
        funding_transfer_id=new_id(),
        first_purchase_deadline=utcnow() + timedelta(days=deadline_days),
    )
    if funded:
        ledger.allocate_budget(session, transfer_id=new_id(), scheme=SCHEME, year=YEAR, amount=balance, actor=OFFICER)
        ledger.fund_wallet(
            session,
            transfer_id=recipient.funding_transfer_id,
            participant_id=applicant_id,
            scheme=SCHEME,
            year=YEAR,
            actor=OFFICER,
            amount=balance,
        )
        recipients.mark_funded(session, recipient)
    session.commit()
    return Participant(recipient.id, applicant_id, account_id, recipient.card_number)


def last_otp(session: Session, account_id: uuid.UUID) -> str:
    session.rollback()
    message = session.scalars(
        select(Message).where(Message.account_id == account_id).order_by(Message.created_at.desc(), Message.id.desc())
    ).first()
    assert message is not None
    return message.body.split("Kode OTP Kartu Prakerja: ")[1][:6]


def count(session: Session, model: type, **where: Any) -> int:
    session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(session.scalar(stmt) or 0)


def available(session: Session, participant: Participant) -> int:
    session.rollback()
    found = ledger.wallet(session, participant.applicant_id)
    assert found is not None
    return found.available


def tick(seconds: int = 1) -> None:
    """The clock is frozen: each request a second later, so no two signatures are the same (a replay)."""
    clock.advance(timedelta(seconds=seconds))


class Api:
    """The marketplace endpoints, signed; every call a second later than the one before."""

    def __init__(self, client: SignedClient) -> None:
        self.client = client
        self.n = 0

    def call(
        self, method: str, path: str, partner: Partner, data: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        tick()
        self.n += 1
        key = None if method == "GET" else kw.pop("key", f"k-{self.n}-{uuid.uuid4().hex[:8]}")
        extra: dict[str, Any] = {"json": data} if data is not None else {}
        if "content" in kw:
            extra = {"content": kw.pop("content"), "headers": {"content-type": "application/json"}}
        response, _ = self.client.request(method, path, partner, idempotency_key=key, **extra)
        return response

    def inquiry(self, platform: Partner, card: str) -> httpx.Response:
        return self.call("POST", "/partner/v1/cards/inquiry", platform, {"card_number": card})

    def buy(
        self, platform: Partner, card: str, course_id: Any, account: str = "akun-1", order: str = "order-1"
    ) -> httpx.Response:
        return self.call(
            "POST",
            "/partner/v1/purchases",
            platform,
            {
                "card_number": card,
                "course_id": str(course_id),
                "platform_order_id": order,
                "platform_account_id": account,
            },
        )

    def confirm(self, platform: Partner, purchase_id: str, otp: str) -> httpx.Response:
        return self.call("POST", f"/partner/v1/purchases/{purchase_id}/confirm", platform, {"otp": otp})

    def cancel(self, platform: Partner, purchase_id: str, reason: str = "pembeli membatalkan") -> httpx.Response:
        return self.call("POST", f"/partner/v1/purchases/{purchase_id}/cancel", platform, {"reason": reason})

    def read(self, platform: Partner, purchase_id: str) -> httpx.Response:
        return self.call("GET", f"/partner/v1/purchases/{purchase_id}", platform)

    def redeem(self, institution: Partner, voucher: str) -> httpx.Response:
        return self.call("POST", "/partner/v1/vouchers/redeem", institution, {"voucher_code": voucher})

    def status(self, institution: Partner, code: str, **more: Any) -> httpx.Response:
        return self.call("POST", "/partner/v1/redeem-codes/status", institution, {"redeem_code": code, **more})

    def commit(self, institution: Partner, code: str, **more: Any) -> httpx.Response:
        return self.call("POST", "/partner/v1/redeem-codes/commit", institution, {"redeem_code": code, **more})

    def complete(
        self, institution: Partner, purchase_id: str, completed_at: str, score: int = 85, passed: bool = True
    ) -> httpx.Response:
        return self.call(
            "POST",
            "/partner/v1/completions",
            institution,
            {"purchase_id": purchase_id, "completed_at": completed_at, "score": score, "passed": passed},
        )


@pytest.fixture
def api(signed_client: SignedClient) -> Api:  # noqa: F811
    return Api(signed_client)


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name="Lembaga Pelatihan Uji", role="institution")


@pytest.fixture
def other_institution(session: Session) -> Partner:
    return create_partner(session, name="Balai Kursus Lain", role="institution")


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Belajar Uji", role="platform")


@pytest.fixture
def other_platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Lain", role="platform")


@pytest.fixture
def course(session: Session, frozen_clock: object, institution: Partner, platform: Partner) -> Course:
    return make_course(session, institution, platform)


@pytest.fixture
def participant(session: Session, frozen_clock: object) -> Participant:
    return make_participant(session)


__all__ = ["BODY", "Partner", "SignedClient", "body"]

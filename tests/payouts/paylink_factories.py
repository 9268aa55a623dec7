"""Helpers for the account-linking, entitlement and clawback tests: providers registered against the payments
simulator, recipients with a NIK and a verified phone, first trainings (completions, certificates, ratings) written
as the marketplace would leave them, and the cash budget the incentives come from."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.catalog.models import Course
from prakerja.certificates import service as certificates
from prakerja.kit.clock import clock, utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.payouts.models import AccountFailure, AccountStatus, PayoutAccount, PayoutProvider
from prakerja.payouts.service import accounts
from prakerja.recipients import service as recipients
from prakerja.registration.models import Applicant
from prakerja.training.models import Completion, CompletionStatus, Purchase, PurchaseStatus, Rating
from prakerja.waves.models import WaveState
from tests.partners.conftest import create_partner
from tests.payouts.conftest import PaymentsSim
from tests.selection.factories import create_account, create_wave
from tests.training.conftest import make_course

SYSTEM = Actor.system()
OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000c1"), role="pmo_admin")


@dataclass
class Person:
    recipient_id: uuid.UUID
    applicant_id: uuid.UUID
    account_id: uuid.UUID
    nik: str
    phone: str
    card_number: str


def new_nik() -> str:
    return "3201" + "".join(str(secrets.randbelow(10)) for _ in range(12))


def new_phone() -> str:
    return "0812" + "".join(str(secrets.randbelow(10)) for _ in range(8))


def register_providers(session: Session, sim: PaymentsSim) -> dict[str, PayoutProvider]:
    found = {}
    for code, name, kind, channel in (("bni", "Bank BNI", "bank", "file"), ("ovo", "OVO", "ewallet", "api")):
        found[code] = accounts.register_provider(
            session,
            name=name,
            code=code,
            kind=kind,
            channel=channel,
            api_base_url=sim.base(code),
            secret=sim.secrets[code],
            actor=SYSTEM,
        )
    session.commit()
    return found


def make_person(
    session: Session,
    *,
    scheme: str = "2023-normal",
    account_id: uuid.UUID | None = None,
    nik: str | None = None,
    phone: str | None = None,
) -> Person:
    account_id = account_id or create_account(session).id
    wave = create_wave(session, state=WaveState.announced, quotas={"3201": 1}, scheme=scheme)
    nik, phone = nik or new_nik(), phone or new_phone()
    applicant_id = new_id()
    session.add(
        Applicant(
            id=applicant_id,
            account_id=account_id,
            nik=nik,
            nik_index=blind_index(nik, "nik"),
            full_name="Siti Rahmawati",
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
        scheme_name=scheme,
        training_balance=1_000_000,
        funding_transfer_id=new_id(),
        first_purchase_deadline=utcnow() + timedelta(days=30),
    )
    session.commit()
    return Person(recipient.id, applicant_id, account_id, nik, phone, recipient.card_number)


def open_at_partner(sim: PaymentsSim, code: str, **account: Any) -> None:
    answer = httpx.post(f"{sim.base(code)}/sim/accounts", json=account)
    assert answer.status_code == 201, answer.text


def last_otp(sim: PaymentsSim, code: str, number: str) -> str:
    messages = httpx.get(f"{sim.base(code)}/sim/outbox", params={"number": number}).json()
    assert messages, "the partner sent no OTP"
    return str(messages[-1]["otp"])


def allocate_cash(session: Session, scheme: str, amount: int = 100_000_000) -> None:
    ledger.allocate_budget(
        session,
        transfer_id=new_id(),
        scheme=scheme,
        year=clock.today_jakarta().year,
        amount=amount,
        actor=OFFICER,
        ledger=LedgerCode.cash,
    )
    session.commit()


def train(
    session: Session,
    person: Person,
    where: Market,
    *,
    accepted: bool = True,
    certificate: bool = True,
    stars: int | None = 5,
    review: str = "Materinya jelas dan bermanfaat.",
    amount: int = 500_000,
    decided_after: timedelta = timedelta(0),
) -> uuid.UUID:
    """A purchase completed (or in review) as the marketplace leaves it, with its certificate and rating."""
    purchase = Purchase(
        recipient_id=person.recipient_id,
        participant_id=person.applicant_id,
        account_id=person.account_id,
        course_id=where.course.id,
        institution_id=where.institution_id,
        platform_id=where.platform_id,
        platform_order_id=f"order-{uuid.uuid4().hex[:8]}",
        platform_account_index=secrets.token_bytes(32),
        amount=amount,
        status=PurchaseStatus.completed if accepted else PurchaseStatus.redeemed,
        otp_hash=secrets.token_bytes(32),
        otp_expires_at=utcnow(),
        pending_transfer_id=new_id(),
    )
    session.add(purchase)
    session.flush()
    completion = Completion(
        purchase_id=purchase.id,
        institution_id=where.institution_id,
        platform_id=where.platform_id,
        completed_at=utcnow(),
        score=90,
        passed=True,
        status=CompletionStatus.accepted if accepted else CompletionStatus.in_review,
        decided_at=utcnow() + decided_after if accepted else None,
        gross_amount=amount if accepted else 0,
    )
    session.add(completion)
    session.flush()
    if certificate and accepted:
        completion.certificate_id = certificates.issue(
            session,
            completion_id=completion.id,
            recipient_id=person.recipient_id,
            account_id=person.account_id,
            holder_name="Peserta Uji",
            course_title="Kursus Uji",
            institution_name="Lembaga Uji",
            completed_at=completion.completed_at,
            score=90,
        ).id
    if stars is not None:
        session.add(
            Rating(
                purchase_id=purchase.id,
                course_id=where.course.id,
                account_id=person.account_id,
                stars=stars,
                review=review,
            )
        )
    session.commit()
    return purchase.id


def count(session: Session, model: type, **where: Any) -> int:
    session.rollback()
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.scalar(query) or 0)


def account_row(
    session: Session,
    person: Person,
    provider: PayoutProvider,
    *,
    status: AccountStatus = AccountStatus.active,
    failure: AccountFailure | None = None,
    number: str = "7766554433",
) -> PayoutAccount:
    """An account as a finished link leaves it (for tests of what follows a link, not of linking itself)."""
    row = PayoutAccount(
        recipient_id=person.recipient_id,
        participant_id=person.applicant_id,
        account_id=person.account_id,
        provider_id=provider.id,
        number=number,
        number_index=accounts.number_index(provider.code, number),
        number_masked="******" + number[-4:],
        status=status,
        failure_reason=failure,
        link_reference=f"lnk_{uuid.uuid4().hex}",
        linked_at=utcnow() if status is AccountStatus.active else None,
    )
    session.add(row)
    session.commit()
    return row


@dataclass
class Market:
    course: Course
    institution_id: uuid.UUID
    platform_id: uuid.UUID


def market(session: Session) -> Market:
    institution = create_partner(session, name=f"Lembaga {uuid.uuid4().hex[:6]}", role="institution")
    platform = create_partner(session, name=f"Platform {uuid.uuid4().hex[:6]}", role="platform")
    course = make_course(session, institution, platform)
    return Market(course, institution.partner_id, platform.partner_id)

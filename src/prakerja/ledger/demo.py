"""Demo data: the demo applicant is a recipient with a funded wallet, one captured purchase and one awaiting
confirmation. Idempotent: deterministic transfer ids, and nothing is done once the wallet exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Account
from prakerja.kit.clock import clock
from prakerja.ledger import service
from prakerja.ledger.rules import system_id

DEMO_SCHEME = "2023-normal"
DEMO_INSTITUTION = "lembaga-demo"


def seed(session: Session, applicant_email: str) -> None:
    applicant = session.scalars(
        select(Account.id).where(Account.email_index == auth.email_index(applicant_email))
    ).first()
    if applicant is None or service.wallet(session, applicant) is not None:
        return
    system = Actor.system()
    year = clock.today_jakarta().year
    service.allocate_budget(
        session,
        transfer_id=system_id("demo", "budget", year),
        scheme=DEMO_SCHEME,
        year=year,
        amount=1_000 * 3_500_000,
        actor=system,
    )
    service.fund_wallet(
        session,
        transfer_id=system_id("demo", "fund", applicant),
        participant_id=applicant,
        scheme=DEMO_SCHEME,
        year=year,
        actor=system,
    )
    first = service.authorise_purchase(
        session,
        transfer_id=system_id("demo", "purchase", 1, applicant),
        participant_id=applicant,
        institution_id=DEMO_INSTITUTION,
        amount=1_200_000,
        purchase_ref="demo-1",
        timeout=timedelta(days=1),
        actor=system,
    )
    service.capture_purchase(
        session, transfer_id=system_id("demo", "capture", 1, applicant), pending_id=first.id, actor=system
    )
    service.authorise_purchase(
        session,
        transfer_id=system_id("demo", "purchase", 2, applicant),
        participant_id=applicant,
        institution_id=DEMO_INSTITUTION,
        amount=450_000,
        purchase_ref="demo-2",
        timeout=timedelta(days=30),
        actor=system,
    )

"""Demo data: the demo applicant, a recipient of the demo wave, has one captured purchase and one awaiting
confirmation. Idempotent: deterministic transfer ids, and nothing is done once the wallet exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Account
from prakerja.ledger import service
from prakerja.ledger.rules import system_id
from prakerja.registration import service as registration

DEMO_SCHEME = "2023-normal"
DEMO_INSTITUTION = "lembaga-demo"


def seed(session: Session, applicant_email: str) -> None:
    """Two purchases from the demo applicant's wallet, once the lottery has made them a recipient (the wallet is
    funded by the announcement, through the ledger). Nothing happens for a person without a wallet."""
    account_id = session.scalars(
        select(Account.id).where(Account.email_index == auth.email_index(applicant_email))
    ).first()
    if account_id is None:
        return
    person = registration.applicant_for_account(session, account_id)
    if person is None:
        return
    applicant = person.applicant_id
    found = service.wallet(session, applicant)
    if found is None or service.history(session, found.id, limit=2)[1:]:
        return  # not a recipient, or the purchases are already there
    system = Actor.system()
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

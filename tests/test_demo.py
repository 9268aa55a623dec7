"""`prakerja demo` seeds one consistent program: the demo applicant is verified, wins the demo wave through
the priority tier, gets a card and a wallet funded by the announcement, and has made two purchases."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.demo import DEMO_ACCOUNTS, prepare
from prakerja.ledger import service as ledger
from prakerja.recipients import service as recipients
from prakerja.registration import service as registration


def test_demo_is_consistent_and_idempotent(clean_db: Engine) -> None:
    logins = prepare()
    assert prepare() == logins  # a second run changes nothing
    assert {role for role, _, _ in logins} == {role.value for role, _, _ in DEMO_ACCOUNTS}
    with Session(clean_db) as session:
        account = auth.authenticate(session, email=DEMO_ACCOUNTS[0][1], password=logins[0][2])
        person = registration.applicant_for_account(session, account.id)
        assert person is not None and person.identity_verified
        recipient = recipients.recipient_by_account(session, account.id)
        assert recipient is not None and len(recipient.card_number) == 16
        wallet = ledger.wallet(session, person.applicant_id)
        assert wallet is not None
        assert (wallet.balance, wallet.available) == (3_500_000 - 1_200_000, 3_500_000 - 1_200_000 - 450_000)
        assert ledger.check(session).ok
        assert audit.verify(session).ok
        session.rollback()

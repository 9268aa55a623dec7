from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.ledger import service
from prakerja.ledger.demo import seed
from tests.web.test_shell import create_account


def test_demo_wallet_is_seeded_once(session: Session) -> None:
    create_account(session, email="peserta@demo.prakerja.id")
    applicant = session.execute(text("SELECT id FROM auth_accounts")).scalar_one()
    seed(session, "peserta@demo.prakerja.id")
    session.commit()
    seed(session, "peserta@demo.prakerja.id")
    session.commit()
    wallet = service.wallet(session, applicant)
    assert wallet is not None and (wallet.balance, wallet.available) == (2_300_000, 1_850_000)
    assert service.check(session).ok

"""A forfeit that found nothing, retried with the same id after money arrived, must still do nothing
(found by the concurrent property test: the retry took the new money)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.ids import new_id
from prakerja.ledger import service
from tests.ledger.conftest import OFFICER, SCHEME, YEAR, allocate


def test_retried_empty_forfeit_does_not_take_new_money(session: Session) -> None:
    allocate(session)
    participant = new_id()
    service.fund_wallet(
        session, transfer_id=new_id(), participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER, amount=100
    )
    first_forfeit = new_id()
    assert service.forfeit_wallet(session, transfer_id=first_forfeit, participant_id=participant, actor=OFFICER)
    session.commit()
    empty = new_id()
    assert service.forfeit_wallet(session, transfer_id=empty, participant_id=participant, actor=OFFICER) is None
    session.commit()
    service.fund_wallet(
        session, transfer_id=new_id(), participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER, amount=700
    )
    session.commit()
    assert service.forfeit_wallet(session, transfer_id=empty, participant_id=participant, actor=OFFICER) is None
    session.commit()
    wallet = service.wallet(session, participant)
    assert wallet is not None and wallet.available == 700
    assert session.execute(text("SELECT count(*) FROM ledger_empty_forfeits")).scalar_one() == 1
    assert service.check(session).ok

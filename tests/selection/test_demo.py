"""The demo seeding: an announced wave whose published files verify, an open wave, idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.recipients.models import Recipient
from prakerja.selection.models import Draw
from prakerja.selection.service.demo import seed
from prakerja.waves.models import Wave, WaveState


def test_seed_is_verifiable_and_idempotent(session: Session) -> None:
    seed(session, demo_applicant_email="nobody@demo.prakerja.id")
    session.commit()
    seed(session, demo_applicant_email="nobody@demo.prakerja.id")
    session.commit()
    states = dict(session.execute(select(Wave.title, Wave.state)).all())
    assert states == {"Gelombang Demo 1": WaveState.announced, "Gelombang Demo 2": WaveState.open}
    draw = session.scalars(select(Draw)).one()
    assert lottery.verify_folder(Path(draw.folder), None, require_draw=True).ok
    assert session.scalar(select(func.count()).select_from(Recipient)) == 12


def test_seed_leaves_budget_for_the_next_waves(session: Session) -> None:
    """Wave 1 must not spend the whole year: wave 2 (and an officer's next wave) can still be announced."""
    from prakerja.kit.clock import clock
    from prakerja.ledger import service as ledger
    from prakerja.schemes.rules import load

    seed(session, demo_applicant_email="nobody@demo.prakerja.id")
    session.commit()
    second = session.scalars(select(Wave).where(Wave.title == "Gelombang Demo 2")).one()
    year = clock.today_jakarta().year
    balance = load("2023-normal").training.balance
    left = ledger.budget_available(session, scheme="2023-normal", year=year)
    assert left >= 2 * second.total_quota * balance

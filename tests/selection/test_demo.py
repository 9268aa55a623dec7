"""The demo seeding: an announced wave whose published files verify, an open wave, idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.recipients.models import Recipient
from prakerja.selection.demo import seed
from prakerja.selection.models import Draw
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

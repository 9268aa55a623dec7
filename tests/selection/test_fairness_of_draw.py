"""The fairness report computed at the draw from the tiers in memory (``time_groups_of_draw``) equals the one
computed later from the persisted results (the SQL window of ``time_groups``): same groups, order and buckets,
including groups smaller than the bucket count."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja.selection import repository, rules, service
from prakerja.waves import service as waves
from tests.selection import golden_wave as g
from tests.selection.test_lottery_golden import PMO, _golden_wave_in_db, fixed_key  # noqa: F401


def test_report_of_the_draw_equals_the_sql_window(session: Session, tmp_path: Path, fixed_key: None) -> None:  # noqa: F811
    wave_id = _golden_wave_in_db(session)
    service.commit(
        session, wave_id, randomness_source=g.SOURCE, randomness_reference=g.REFERENCE, actor=PMO, root=tmp_path
    )
    draw = service.seed(session, wave_id, reference=g.REFERENCE, value=g.SEED_HEX, actor=PMO)
    groups = repository.time_groups(session, wave_id, rules.TIME_BUCKETS)
    assert any(len(buckets) < rules.TIME_BUCKETS for buckets in groups.values())
    later = service.fairness(session, waves.get_wave(session, wave_id))
    assert later.to_json() == draw.fairness


def test_no_tiers_no_groups(session: Session) -> None:
    assert repository.time_groups_of_draw(session, uuid.uuid4(), rules.TIME_BUCKETS, []) == {}

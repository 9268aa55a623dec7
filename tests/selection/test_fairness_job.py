"""The fairness report of a draw is computed by a job queued in the draw's transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.selection import service
from prakerja.selection.models import Draw
from prakerja.worker import run_worker
from tests.selection.factories import PMO, add_entries, create_wave


def _queued(session: Session) -> int:
    return int(
        session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'todo'"),
            {"t": service.FAIRNESS_TASK},
        ).scalar_one()
    )


def test_the_draw_queues_the_report_and_the_worker_stores_it(session: Session, tmp_path: Path) -> None:
    wave = create_wave(session, quotas={"3201": 2, "3273": 1})
    add_entries(session, wave, [("3201", 0)] * 5 + [("3273", 0)] * 3)
    service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=tmp_path)
    draw = service.seed(session, wave.id, reference="r", value="ab" * 16, actor=PMO)
    assert draw.fairness is None and draw.fairness_ok is None
    assert _queued(session) == 1
    session.commit()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run_worker, concurrency=1, wait=False).result(timeout=120)

    session.expire_all()
    stored = session.get(Draw, wave.id)
    assert stored is not None and stored.fairness_ok is True
    checks = {c["check"]: c["passed"] for c in stored.fairness["checks"]}  # type: ignore[index]
    assert checks["quota_filled"] and checks["no_person_twice"]
    assert _queued(session) == 0


def test_rolled_back_draw_leaves_no_job(session: Session, tmp_path: Path) -> None:
    wave = create_wave(session, quotas={"3201": 1})
    add_entries(session, wave, [("3201", 0)] * 3)
    service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=tmp_path)
    session.commit()
    service.seed(session, wave.id, reference="r", value="cd" * 16, actor=PMO)
    session.rollback()
    assert _queued(session) == 0


def test_the_job_does_nothing_before_the_draw_and_is_safe_twice(session: Session, tmp_path: Path) -> None:
    wave = create_wave(session, quotas={"3201": 1})
    add_entries(session, wave, [("3201", 0)] * 2)
    service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=tmp_path)
    assert service.record_fairness(session, wave.id) is False  # committed, not drawn
    draw = service.seed(session, wave.id, reference="r", value="ef" * 16, actor=PMO)
    assert service.record_fairness(session, wave.id) is True
    first = dict(draw.fairness or {})
    assert service.record_fairness(session, wave.id) is True
    assert draw.fairness == first

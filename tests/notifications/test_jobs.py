"""Jobs are written in the same transaction as the change that causes them, and each runs once."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.notifications import service
from prakerja.notifications.models import Channel, DevOutboxItem, Message, MessageStatus
from prakerja.worker import run_worker as _run_worker


def run_worker(**kwargs: object) -> None:
    """In a thread of its own: the browser tests' Playwright keeps an event loop on the main thread."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_run_worker, **kwargs).result(timeout=120)  # type: ignore[arg-type]


def _jobs(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one())


def _queue(session: Session, n: int) -> None:
    for i in range(n):
        service.queue_message(
            session,
            channel=Channel.sms,
            recipient=f"+62812000{i:05d}",
            subject="Kode OTP",
            body=f"Kode: {i:06d}",
        )


def test_rollback_leaves_no_job(session: Session) -> None:
    _queue(session, 1)
    assert _jobs(session) == 1
    session.rollback()
    assert _jobs(session) == 0
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_commit_then_worker_runs_it_exactly_once(session: Session) -> None:
    _queue(session, 3)
    session.commit()
    run_worker(concurrency=2, wait=False)
    run_worker(concurrency=2, wait=False)  # a second pass finds nothing left to do
    messages = session.scalars(select(Message)).all()
    assert [m.status for m in messages] == [MessageStatus.sent] * 3
    assert [m.attempts for m in messages] == [1, 1, 1]
    assert session.scalar(select(func.count()).select_from(DevOutboxItem)) == 3
    done = session.execute(
        text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded' AND task_name = 'notifications.deliver'"
        )
    ).scalar_one()
    assert done == 3


def test_handler_is_safe_to_run_twice(session: Session) -> None:
    _queue(session, 1)
    session.commit()
    message = session.scalars(select(Message)).one()
    service.deliver(session, message.id)
    service.deliver(session, message.id)
    session.commit()
    assert session.scalar(select(func.count()).select_from(DevOutboxItem)) == 1


def test_two_worker_processes_do_each_job_once(session: Session, database_url: str) -> None:
    _queue(session, 120)
    session.commit()
    env = {**os.environ, "PRAKERJA_DATABASE_URL": database_url, "PRAKERJA_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "prakerja", "worker", "--burst", "--concurrency", "4"]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for w in workers:
        _, stderr = w.communicate(timeout=120)
        assert w.returncode == 0, stderr.decode()[-2000:]
    session.expire_all()
    attempts = session.scalars(select(Message.attempts)).all()
    assert len(attempts) == 120 and set(attempts) == {1}
    assert session.scalar(select(func.count()).select_from(DevOutboxItem)) == 120

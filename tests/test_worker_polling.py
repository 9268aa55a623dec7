"""New jobs send no NOTIFY (it made every job-writing transaction commit one at a time, ADR 0019); an idle worker
finds them by polling every ``job_poll_interval`` seconds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from prakerja.config import reset_settings
from prakerja.jobs import enqueue, libpq_conninfo
from prakerja.worker import run_worker_async

ANY_QUEUE_CHANNEL = "procrastinate_any_queue_v1"


def _enqueue_one(engine: Engine) -> int:
    with Session(engine) as session:
        job_id = enqueue(session, "jobs.retry_stalled", queue="default")
        session.commit()
    return job_id


def _status(engine: Engine, job_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :i"), {"i": job_id}).scalar())


def test_a_new_job_sends_no_notify(clean_db: Engine, database_url: str) -> None:
    with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as listener:
        listener.execute(f"LISTEN {ANY_QUEUE_CHANNEL}")
        _enqueue_one(clean_db)
        heard = list(listener.notifies(timeout=0.5, stop_after=1))
    assert heard == []
    with clean_db.connect() as conn:
        triggers = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'procrastinate_jobs'::regclass AND NOT tgisinternal")
        ).scalars()
        assert "procrastinate_jobs_notify_queue_job_inserted_v1" not in set(triggers)


@pytest.fixture
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setenv("PRAKERJA_JOB_POLL_INTERVAL", "0.05")
    reset_settings()
    yield 0.05
    monkeypatch.delenv("PRAKERJA_JOB_POLL_INTERVAL")
    reset_settings()


class _Worker:
    """``run_worker_async`` waiting for jobs, on a loop in a thread of its own, until :meth:`stop`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.task: asyncio.Task[None] | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.task = asyncio.current_task()  # type: ignore[assignment]
            self.started.set()
            await run_worker_async(concurrency=1, wait=True, install_signal_handlers=False, shutdown_timeout=5)

        try:
            self.loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        finally:
            self.loop.close()

    def __enter__(self) -> _Worker:
        self.thread.start()
        self.started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(30)


def _idle_worker_seen(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar())


def test_an_idle_worker_runs_a_new_job_without_being_woken(clean_db: Engine, fast_polling: float) -> None:
    with _Worker():
        deadline = time.monotonic() + 30
        while not _idle_worker_seen(clean_db) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the worker has looked, found nothing, and waits
        job_id = _enqueue_one(clean_db)
        # procrastinate's own default is to look every 5 s: finished well before that means the short interval
        # woke it (no NOTIFY was sent, test above)
        deadline = time.monotonic() + 4
        while _status(clean_db, job_id) != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _status(clean_db, job_id) == "succeeded"

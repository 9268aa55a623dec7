"""Background jobs on the same PostgreSQL (procrastinate).

A job caused by a change is written with :func:`enqueue` on the *same session* as the change, so it commits
or rolls back with it. Handlers live in each domain's ``tasks.py``, are named ``domain.verb``, take ids and
must be safe to run twice.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate.manager import JobManager
from sqlalchemy import text
from sqlalchemy.orm import Session

app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(), import_paths=["prakerja.tasks"])
"""Tasks register on this app; the worker swaps in a connector for the configured database."""

_TASK_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")

_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), :scheduled_at)::procrastinate_job_to_defer_v1])"
)


def enqueue(
    session: Session,
    task_name: str,
    *,
    queue: str = "default",
    priority: int = 0,
    lock: str | None = None,
    queueing_lock: str | None = None,
    scheduled_at: datetime | None = None,
    **args: Any,
) -> int:
    """Write a job in the caller's transaction; returns the job id."""
    if not _TASK_NAME.match(task_name):
        raise ValueError(f"task names are domain.verb, got {task_name!r}")
    job_ids = session.execute(
        _DEFER_SQL,
        {
            "queue": queue,
            "task": task_name,
            "priority": priority,
            "lock": lock,
            "queueing_lock": queueing_lock,
            "args": json.dumps(args, default=str),
            "scheduled_at": scheduled_at,
        },
    ).scalar_one()
    return int(job_ids[0])


def libpq_conninfo(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


STALLED_AFTER_SECONDS = 60.0
"""A job is stalled when its worker has sent no heartbeat for this long (workers send one every 10 s)."""


async def retry_stalled_jobs(manager: JobManager) -> int:
    """Put back in the queue the jobs left running by a worker that vanished (killed after its grace period, a
    crash, a lost machine): every handler is safe to run twice, so the job is run again rather than lost."""
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        await manager.retry_job(job)
    return len(stalled)


@app.periodic(cron="* * * * *")
@app.task(name="jobs.retry_stalled", queueing_lock="jobs.retry_stalled", pass_context=True)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int | None = None) -> int:
    """Every minute: :func:`retry_stalled_jobs` (any one worker does it)."""
    return await retry_stalled_jobs(context.app.job_manager)


DEFER_ONE_SQL = (
    "procrastinate_defer_jobs_v1(ARRAY[ROW(%(job_queue)s, %(job_task)s, 0, NULL, NULL, %(job_args)s::jsonb, NULL)"
    "::procrastinate_job_to_defer_v1])"
)
"""One job as an SQL expression, for a statement on a loop connection (``db.on_loop``, ADR 0014) that writes a
change and its job together; its parameters come from :func:`job_params`."""


INSERT_ONE_SQL = (
    "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at) "
    "SELECT %(job_queue)s, %(job_task)s, 0, NULL, NULL, %(job_args)s::jsonb, NULL FROM {rows} RETURNING id"
)
""":data:`DEFER_ONE_SQL`'s job as the statement of a data-modifying CTE: one job for each row of ``{rows}`` (another
CTE of the same statement, ``str.format``), written by the very INSERT ``procrastinate_defer_jobs_v1`` runs, without
the PL/pgSQL call and its array around it (ADR 0035). procrastinate's triggers on the table fire as for
:data:`DEFER_ONE_SQL`; ``tests/test_jobs_insert.py`` holds the two to the same row and the function to that INSERT
(a procrastinate upgrade that changes it fails there). Its parameters come from :func:`job_params`."""


def job_params(task_name: str, *, queue: str = "default", **args: Any) -> dict[str, str]:
    """The parameters of :data:`DEFER_ONE_SQL` and :data:`INSERT_ONE_SQL`: the same job :func:`enqueue` writes
    (priority 0, no locks, now)."""
    if not _TASK_NAME.match(task_name):
        raise ValueError(f"task names are domain.verb, got {task_name!r}")
    return {"job_queue": queue, "job_task": task_name, "job_args": json.dumps(args, default=str)}

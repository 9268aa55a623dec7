"""``prakerja worker``: runs jobs from the database queue. Start as many as you like, on any machine."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import procrastinate

from prakerja import tasks as _tasks  # noqa: F401  (registers every task)
from prakerja.config import get_settings
from prakerja.db import database_url
from prakerja.jobs import app, libpq_conninfo

log = logging.getLogger(__name__)


async def run_worker_async(
    *,
    concurrency: int = 2,
    wait: bool = True,
    queues: list[str] | None = None,
    name: str | None = None,
    install_signal_handlers: bool | None = None,
    shutdown_timeout: float | None = None,
) -> None:
    """Run the worker on an asynchronous connector to the configured database. The tasks (and the periodic
    registry) stay on the one module-level app; only its connector is swapped for the worker's lifetime.

    A stop (a signal when ``install_signal_handlers``, or cancelling this coroutine) lets the jobs in progress
    finish for up to ``shutdown_timeout`` seconds (None: as long as they take); jobs still running then are
    aborted, and retried later when their task allows it (every handler is safe to run twice)."""
    connector = procrastinate.PsycopgConnector(conninfo=libpq_conninfo(database_url()))
    with app.replace_connector(connector):
        async with app.open_async():
            options: dict[str, object] = {
                "concurrency": concurrency,
                "wait": wait,
                "install_signal_handlers": wait if install_signal_handlers is None else install_signal_handlers,
                "shutdown_graceful_timeout": shutdown_timeout,
                # new jobs are not announced (ADR 0019): an idle worker looks for them this often
                "fetch_job_polling_interval": get_settings().job_poll_interval,
            }
            if queues:
                options["queues"] = queues
            if name:
                options["name"] = name
            await app.run_worker_async(**options)  # type: ignore[arg-type]


def run_worker(
    *, concurrency: int = 2, wait: bool = True, name: str | None = None, shutdown_timeout: float | None = None
) -> None:
    asyncio.run(run_worker_async(concurrency=concurrency, wait=wait, name=name, shutdown_timeout=shutdown_timeout))


class InProcessWorker:
    """The worker that ``prakerja serve`` runs next to the web application. It never installs signal handlers
    (the web server owns SIGINT and SIGTERM); the server stops it, so one signal stops both."""

    def __init__(self, *, concurrency: int = 2, shutdown_timeout: float | None = None) -> None:
        self.concurrency = concurrency
        self.shutdown_timeout = shutdown_timeout
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(
            run_worker_async(
                concurrency=self.concurrency,
                name="in-process",
                install_signal_handlers=False,
                shutdown_timeout=self.shutdown_timeout,
            )
        )

    def request_stop(self) -> None:
        """Take no new job and let the ones in progress finish (returns at once; call :meth:`stop` to wait).
        Cancelling the worker's task is procrastinate's graceful stop; cancelling it twice would not be."""
        if self._task is None or self._stopping or self._task.done():
            return
        self._stopping = True
        self._task.cancel()

    async def stop(self) -> None:
        """Stop (see :meth:`request_stop`) and wait until the jobs in progress have finished."""
        self.request_stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

"""``prakerja worker``: runs jobs from the database queue. Start as many as you like, on any machine."""

from __future__ import annotations

import asyncio
import logging

import procrastinate

from prakerja import tasks as _tasks  # noqa: F401  (registers every task)
from prakerja.db import database_url
from prakerja.jobs import app, libpq_conninfo

log = logging.getLogger(__name__)


async def run_worker_async(
    *, concurrency: int = 2, wait: bool = True, queues: list[str] | None = None, name: str | None = None
) -> None:
    """Run the worker on an asynchronous connector to the configured database. The tasks (and the periodic
    registry) stay on the one module-level app; only its connector is swapped for the worker's lifetime."""
    connector = procrastinate.PsycopgConnector(conninfo=libpq_conninfo(database_url()))
    with app.replace_connector(connector):
        async with app.open_async():
            options: dict[str, object] = {"concurrency": concurrency, "wait": wait, "install_signal_handlers": wait}
            if queues:
                options["queues"] = queues
            if name:
                options["name"] = name
            await app.run_worker_async(**options)  # type: ignore[arg-type]


def run_worker(*, concurrency: int = 2, wait: bool = True, name: str | None = None) -> None:
    asyncio.run(run_worker_async(concurrency=concurrency, wait=wait, name=name))

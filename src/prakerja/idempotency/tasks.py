"""Idempotency-key jobs."""

from __future__ import annotations

from prakerja.db import unit_of_work
from prakerja.idempotency import service
from prakerja.jobs import app


@app.periodic(cron="23 * * * *")
@app.task(name="idempotency.purge_expired", queueing_lock="idempotency.purge_expired")
def purge_expired(timestamp: int | None = None) -> int:
    """Hourly: forget responses older than 24 hours (safe to run twice)."""
    with unit_of_work() as session:
        return service.purge_expired(session)

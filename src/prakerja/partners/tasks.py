"""Partner API jobs."""

from __future__ import annotations

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.partners import service


@app.periodic(cron="*/10 * * * *")
@app.task(name="partners.purge_signatures", queueing_lock="partners.purge_signatures")
def purge_signatures(timestamp: int | None = None) -> int:
    """Every 10 minutes: forget signatures whose timestamps are past the 300-second window (safe to run twice)."""
    with unit_of_work() as session:
        return service.purge_seen_signatures(session)

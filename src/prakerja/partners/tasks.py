"""Partner API jobs."""

from __future__ import annotations

import uuid

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.partners import service


@app.periodic(cron="*/10 * * * *")
@app.task(name="partners.purge_signatures", queueing_lock="partners.purge_signatures")
def purge_signatures(timestamp: int | None = None) -> int:
    """Every 10 minutes: forget signatures whose timestamps are past the 300-second window (safe to run twice)."""
    with unit_of_work() as session:
        return service.purge_seen_signatures(session)


@app.periodic(cron="40 2 * * *")
@app.task(name="partners.purge_refusals", queueing_lock="partners.purge_refusals")
def purge_refusals(timestamp: int | None = None) -> int:
    """Daily: delete refused-call log rows past the retention (audited; safe to run twice)."""
    with unit_of_work() as session:
        return service.purge_old_refusals(session)


@app.task(name="partners.deliver_webhook", retry=5)
def deliver_webhook(delivery_id: str, attempt: int) -> str | None:
    """One attempt of a webhook delivery; the next one, if any, is queued by this one (safe to run twice)."""
    with unit_of_work() as session:
        status = service.deliver_webhook(session, delivery_id=uuid.UUID(delivery_id), attempt=attempt)
        return None if status is None else status.value


@app.periodic(cron="*/15 * * * *")
@app.task(name="partners.resume_webhooks", queueing_lock="partners.resume_webhooks")
def resume_webhooks(timestamp: int | None = None) -> int:
    """Every 15 minutes: requeue webhook deliveries whose next attempt is long overdue (a lost job)."""
    with unit_of_work() as session:
        return service.resume_stalled_webhooks(session)

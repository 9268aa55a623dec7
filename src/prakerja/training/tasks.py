"""Marketplace jobs: expired one-time codes and the first-purchase deadline. Both are safe to run twice."""

from __future__ import annotations

import logging

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.kit.clock import utcnow
from prakerja.recipients import service as recipients
from prakerja.training import service

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *")
@app.task(name="training.expire_otps", queueing_lock="training.expire_otps")
def expire_otps(timestamp: int | None = None) -> int:
    """Every minute: cancel purchases whose one-time code expired unused (their reserve returns to the balance)."""
    total = 0
    while True:
        with unit_of_work() as session:
            done = service.purchases.expire_otps(session, now=utcnow(), limit=200)
        total += done
        if done < 200:
            return total


@app.periodic(cron="10 17 * * *")
@app.task(name="training.revoke_missed_deadlines", queueing_lock="training.revoke_missed_deadlines")
def revoke_missed_deadlines(timestamp: int | None = None) -> int:
    """Daily just after midnight in Jakarta: recipients with no purchase by their first-purchase deadline are
    revoked and their balance forfeited to the treasury. Each page commits on its own."""
    return run_deadline_revocations()


def run_deadline_revocations(page: int = 200) -> int:
    revoked = 0
    after = None
    while True:
        with unit_of_work() as session:
            found = recipients.active_past_deadline(session, now=utcnow(), after=after, limit=page)
            for recipient in found:
                if service.purchases.revoke_missed_deadline(session, recipient):
                    revoked += 1
        if len(found) < page:
            break
        after = found[-1].id
    if revoked:
        log.info("first-purchase deadline revocations", extra={"recipients": revoked})
    return revoked

"""Ledger jobs: pending timeouts and the yearly expiry. Both are safe to run twice (deterministic ids)."""

from __future__ import annotations

import logging

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.kit.clock import utcnow
from prakerja.ledger import service

log = logging.getLogger(__name__)


@app.periodic(cron="* * * * *")
@app.task(name="ledger.expire_pending", queueing_lock="ledger.expire_pending")
def expire_pending(timestamp: int | None = None) -> int:
    """Every minute: void pending transfers (authorised purchases) past their timeout."""
    total = 0
    while True:
        with unit_of_work() as session:
            done = service.expire_pending(session, now=utcnow(), limit=500)
        total += done
        if done < 500:
            return total


@app.periodic(cron="5 17 * * *")
@app.task(name="ledger.year_end_expiry", queueing_lock="ledger.year_end_expiry")
def year_end_expiry(timestamp: int | None = None) -> int:
    """Daily just after midnight in Jakarta (17:05 UTC): once a scheme's expiry day (15 December) has come,
    unused balances of that year return to Kas Negara."""
    with unit_of_work() as session:
        forfeited = service.year_end_expiry(session, now=utcnow())
    if forfeited:
        log.info("year-end expiry", extra={"wallets": forfeited})
    return forfeited

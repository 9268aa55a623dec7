"""Payouts jobs. Each is safe to run twice (deterministic ledger ids; set-based updates)."""

from __future__ import annotations

import logging
from datetime import timedelta

from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.kit.clock import utcnow
from prakerja.payouts import service

log = logging.getLogger(__name__)

REFRESH_LOOKBACK = timedelta(days=1)
"""Each run looks a day back (runs overlap; a rerun changes nothing)."""
REFRESH_CHUNK = 500


@app.periodic(cron="*/10 * * * *")
@app.task(name="payouts.refresh_entitlements", queueing_lock="payouts.refresh_entitlements")
def refresh_entitlements(timestamp: int | None = None) -> int:
    """Every ten minutes: entitlements of participants whose completion, certificate, rating or account link changed
    recently (and of everyone still blocked), looked at again set-wise, one transaction per chunk."""
    return run_refresh()


def run_refresh(chunk: int = REFRESH_CHUNK) -> int:
    with unit_of_work() as session:
        ids = service.entitlements.recipients_to_refresh(session, utcnow() - REFRESH_LOOKBACK)
    changed = 0
    for start in range(0, len(ids), chunk):
        with unit_of_work() as session:
            changed += service.entitlements.refresh_many(session, ids[start : start + chunk])
    if changed:
        log.info("entitlements refreshed", extra={"changed": changed})
    return changed


@app.periodic(cron="20 17 * * *")
@app.task(name="payouts.mark_clawbacks_overdue", queueing_lock="payouts.mark_clawbacks_overdue")
def mark_clawbacks_overdue(timestamp: int | None = None) -> int:
    """Daily just after midnight in Jakarta: repayment demands past their 60 days become overdue."""
    with unit_of_work() as session:
        return service.clawbacks.mark_overdue(session)

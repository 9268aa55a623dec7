"""Payouts jobs: entitlements refreshed, clawbacks overdue, the daily incentive run, the monthly settlement run of
institutions and platforms, the results check, the year-end
return of unclaimed money. Each is safe to run twice and beside another worker (deterministic ledger ids, set-based
updates; the run of a day is one row and batches are worked under a lock)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from prakerja.audit.service import Actor
from prakerja.db import session_factory, unit_of_work
from prakerja.jobs import app
from prakerja.kit.clock import clock, utcnow
from prakerja.payouts import rules, service
from prakerja.payouts.models import RunKind
from prakerja.payouts.service import runs

log = logging.getLogger(__name__)


REFRESH_LOOKBACK = timedelta(days=1)
"""Each run looks a day back (runs overlap; a rerun changes nothing). Recipients with an accepted completion and no
incentive row are taken whatever their age (``entitlements.recipients_to_refresh``)."""


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


@app.periodic(cron="*/5 * * * *")
@app.task(name="payouts.expire_stale_links", queueing_lock="payouts.expire_stale_links")
def expire_stale_links(timestamp: int | None = None) -> int:
    """Every five minutes: account links whose partner OTP expired unconfirmed are rejected (``otp_expired``), so
    the participant reads why and links again (their own pages do it too before showing them)."""
    with unit_of_work() as session:
        return service.accounts.expire_stale_links(session)


@app.periodic(cron="20 17 * * *")
@app.task(name="payouts.mark_clawbacks_overdue", queueing_lock="payouts.mark_clawbacks_overdue")
def mark_clawbacks_overdue(timestamp: int | None = None) -> int:
    """Daily just after midnight in Jakarta: repayment demands past their 60 days become overdue."""
    with unit_of_work() as session:
        return service.clawbacks.mark_overdue(session)


@app.periodic(cron="0 2 * * *")
@app.task(name="payouts.daily_run", queueing_lock="payouts.daily_run")
def daily_run(timestamp: int | None = None) -> int:
    """Every day at 09:00 in Jakarta (02:00 UTC): the day's incentive run, started and sent."""
    with unit_of_work() as session:
        run = runs.start(session, kind=RunKind.incentives, run_date=clock.today_jakarta().date(), actor=Actor.system())
        run_id = run.id
    summary = runs.execute(session_factory(), run_id)
    if summary.errors:
        log.warning("payout run pass with errors", extra={"run_id": str(run_id), "errors": summary.errors[:5]})
    return summary.sent


@app.periodic(cron="0 3 1 * *")
@app.task(name="payouts.monthly_settlement", queueing_lock="payouts.monthly_settlement")
def monthly_settlement(timestamp: int | None = None) -> int:
    """The first of every month at 10:00 in Jakarta (03:00 UTC): what institutions and platforms are owed for the
    month before (their settlement statements) is prepared and paid by the day's settlement run (ADR 0016)."""
    return _settle(rules.previous_period(clock.today_jakarta().date()), "settlement run pass with errors")


@app.periodic(cron="0 7 * * *")
@app.task(name="payouts.settlement_again", queueing_lock="payouts.settlement_again")
def settlement_again(timestamp: int | None = None) -> int:
    """Every day at 14:00 in Jakarta (07:00 UTC): what was held back at a settlement run and is due since (an
    account verified after it, a settlement scheduled again) is paid by a further settlement run (ADR 0026) instead
    of waiting for next month's; nothing due, nothing started. Each settlement is in one run only."""
    return _settle(rules.previous_period(clock.today_jakarta().date()), "settlement run (again) pass with errors")


def _settle(period: str, warning: str) -> int:
    today = clock.today_jakarta().date()
    with unit_of_work() as session:
        _prepared, run = service.settlements.start_run(session, period=period, run_date=today, actor=Actor.system())
        run_id = run.id if run is not None else None
    if run_id is None:
        return 0
    summary = runs.execute(session_factory(), run_id)
    if summary.errors:
        log.warning(warning, extra={"run_id": str(run_id), "errors": summary.errors[:5]})
    return summary.sent


@app.task(name="payouts.execute_run", retry=5)
def execute_run(run_id: str) -> int:
    """Send a run that was just started (by the daily job, the command or an officer) and ask about the rest."""
    summary = runs.execute(session_factory(), uuid.UUID(run_id))
    return summary.sent


@app.periodic(cron="*/10 * * * *")
@app.task(name="payouts.check_results", queueing_lock="payouts.check_results")
def check_results(timestamp: int | None = None) -> int:
    """Every 10 minutes: resend what a technical failure delayed, ask partners about what waited too long."""
    summary = runs.check_all(session_factory())
    return summary.applied


@app.periodic(cron="30 17 * * *")
@app.task(name="payouts.expire_unclaimed", queueing_lock="payouts.expire_unclaimed")
def expire_unclaimed(timestamp: int | None = None) -> int:
    """Daily just after midnight in Jakarta: entitlements of a year that is over go back to the treasury."""
    total = 0
    while True:
        with unit_of_work() as session:
            done = runs.expire_unclaimed(session, now=utcnow(), limit=500)
        total += done
        if done < 500:
            return total

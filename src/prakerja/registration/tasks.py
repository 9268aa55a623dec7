"""Registration jobs: the civil-registry check after submission, and the periodic integrity scan."""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from procrastinate import RetryStrategy

from prakerja.config import get_settings
from prakerja.db import unit_of_work
from prakerja.jobs import app
from prakerja.registration.providers import storage
from prakerja.registration.providers.base import CivilRegistry, RegistryUnavailable
from prakerja.registration.providers.http import HttpCivilRegistry
from prakerja.registration.service import identity, integrity, uploads

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def registry() -> CivilRegistry:
    """One client per process, so its circuit breaker sees every call this process makes."""
    return HttpCivilRegistry(get_settings().dukcapil_url)


def run_check(check_id: uuid.UUID, provider: CivilRegistry) -> str | None:
    """Ask the registry outside any transaction, then record the answer in a transaction of its own.
    Safe to run twice: an answered check is left alone. Raises RegistryUnavailable so the job is retried."""
    with unit_of_work() as session:
        query = identity.identity_query(session, check_id)
    if query is None:
        return None
    try:
        outcome = provider.verify(query)
    except RegistryUnavailable as unavailable:
        with unit_of_work() as session:
            identity.record_failure(session, check_id, unavailable.code)
        log.warning("civil registry unavailable", extra={"check_id": str(check_id), "code": unavailable.code})
        raise
    with unit_of_work() as session:
        identity.record_outcome(session, check_id, outcome.value)
    return outcome.value


# The job's own retries cover a short outage: waits of 2, 4, ... 256 s, about 8.5 minutes in all. A longer one is
# the sweep's (every 10 minutes, below): 30 attempts at 2**n seconds would have put the last try years away.
@app.task(
    name="registration.verify_identity",
    retry=RetryStrategy(max_attempts=8, exponential_wait=2, retry_exceptions={RegistryUnavailable}),
)
def verify_identity(check_id: str) -> str | None:
    return run_check(uuid.UUID(check_id), registry())


@app.periodic(cron="*/10 * * * *")
@app.task(name="registration.retry_identity_checks", queueing_lock="registration.retry_identity_checks")
def retry_identity_checks(timestamp: int | None = None) -> int:
    """Every 10 minutes (``identity.RETRY_EVERY``): another try for each check the civil registry could not
    answer, so a long outage ends in an answer without anyone asking."""
    with unit_of_work() as session:
        return identity.retry_stalled_checks(session)


@app.periodic(cron="*/15 * * * *")
@app.task(name="registration.scan_integrity", queueing_lock="registration.scan_integrity")
def scan_integrity(timestamp: int | None = None) -> int:
    """Raise integrity flags every 15 minutes (also ``prakerja registration scan-integrity`` by hand).
    Safe to run repeatedly: existing flags are refreshed, not duplicated."""
    with unit_of_work() as session:
        return integrity.scan(session)


@app.periodic(cron="17 * * * *")
@app.task(name="registration.sweep_uploads", queueing_lock="registration.sweep_uploads")
def sweep_uploads(timestamp: int | None = None) -> int:
    """Hourly: publish or delete uploads a crash left staged for more than six hours (safe to run twice)."""
    with unit_of_work() as session:
        result = uploads.sweep_staged(session, storage.default_storage())
    return result.published + result.removed

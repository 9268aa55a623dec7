"""Audit jobs."""

from __future__ import annotations

import logging

from prakerja.audit import service
from prakerja.db import unit_of_work
from prakerja.jobs import app

log = logging.getLogger(__name__)


@app.periodic(cron="17 2 * * *")
@app.task(name="audit.verify_chain", queueing_lock="audit.verify_chain")
def verify_chain(timestamp: int | None = None) -> bool:
    """Nightly: recompute the chain; a failure is logged at ERROR for the operators' alerting."""
    with unit_of_work() as session:
        report = service.verify(session)
    if not report.ok:
        log.error("audit chain broken", extra={"problems": report.problems[:5]})
    return report.ok

"""Selection jobs: telling everyone their outcome after the announcement, in batches."""

from __future__ import annotations

import uuid

from prakerja.db import unit_of_work
from prakerja.jobs import app, enqueue
from prakerja.selection import service

BATCH = 500


@app.task(name="selection.announce_outcomes", retry=5)
def announce_outcomes(wave_id: str) -> int:
    """One batch of recipients and messages; queues the next batch in the same transaction. Safe to run twice."""
    with unit_of_work() as session:
        done = service.process_outcomes(session, uuid.UUID(wave_id), batch=BATCH)
        if done:
            enqueue(session, "selection.announce_outcomes", wave_id=wave_id)
    return done


@app.task(name=service.FAIRNESS_TASK, retry=5)
def fairness_report(wave_id: str) -> bool:
    """The fairness report of a freshly drawn wave, for its draw page. Safe to run twice."""
    with unit_of_work() as session:
        return service.record_fairness(session, uuid.UUID(wave_id))

"""Uploaded files left half-done by a crash: staged files are published when the database recorded them and
deleted when it did not (see ``registration.providers.storage``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.registration import repository
from prakerja.registration.providers.storage import Storage

STAGED_MAX_AGE = timedelta(hours=6)
"""A staged file older than this belongs to no request still running (requests take seconds)."""


@dataclass(frozen=True)
class SweepResult:
    published: int
    removed: int


def sweep_staged(session: Session, storage: Storage, *, older_than: timedelta = STAGED_MAX_AGE) -> SweepResult:
    """Safe to run twice and alongside requests: only files older than ``older_than`` are touched."""
    keys = list(storage.staged_before(utcnow() - older_than))
    referenced = repository.photo_keys_in_use(session, keys) if keys else set()
    for key in keys:
        if key in referenced:
            storage.publish(key)
        else:
            storage.discard(key)
    return SweepResult(published=len(referenced), removed=len(keys) - len(referenced))

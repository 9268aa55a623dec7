"""Rate limits at the request boundary. A refused attempt must count although the request rolls back, and every
web process must see the same count: each attempt is counted by ``auth`` on a transaction of its own, committed at
once, before the request's own work."""

from __future__ import annotations

from datetime import timedelta

from prakerja.auth import service as auth
from prakerja.db import unit_of_work


def count_attempt(action: str, subject: str) -> None:
    """Count one attempt; 429 (``TooManyAttempts``, saying when to retry) once the limit is passed."""
    with unit_of_work() as own:
        refusal = auth.count_attempt(own, action, subject)
    if refusal is not None:
        raise refusal


def count_failure(action: str, subject: str) -> None:
    """Count one failed attempt (e.g. a wrong code): the limit's worth of failures locks the subject out."""
    with unit_of_work() as own:
        auth.count_failure(own, action, subject)


def count_attempt_within(action: str, subject: str, *, limit: int, window: timedelta, lockout: timedelta) -> None:
    """:func:`count_attempt` under a limit the caller gives (read from settings); 429 past it."""
    with unit_of_work() as own:
        refusal = auth.count_attempt_within(own, action, subject, auth.Limit(limit, window, lockout))
    if refusal is not None:
        raise refusal

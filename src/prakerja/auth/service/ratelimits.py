"""Rate limits shared by every process: fixed-window counters in PostgreSQL. Takes a session; never commits.

A refused attempt must still count although its request rolls back, so the request boundary counts on a
transaction of its own that commits at once (``prakerja.web.limits``); the functions here only read and write the
counter on the session they are given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.auth import repository
from prakerja.auth.errors import AccountLocked, TooManyAttempts
from prakerja.kit.clock import utcnow
from prakerja.kit.pii import blind_index


@dataclass(frozen=True)
class Limit:
    limit: int
    window: timedelta
    lockout: timedelta


LIMITS = {
    "login": Limit(10, timedelta(minutes=15), timedelta(minutes=15)),
    # wrong passwords per account from any address (counted with count_failure); a password reset clears it
    "login_account": Limit(10, timedelta(minutes=15), timedelta(minutes=15)),
    "otp_send": Limit(3, timedelta(minutes=15), timedelta(minutes=30)),
    "otp_check": Limit(5, timedelta(minutes=15), timedelta(minutes=15)),
    "reset": Limit(3, timedelta(hours=1), timedelta(hours=1)),
    # sign-up attempts (refused ones included) per e-mail address from anywhere, and per browser (device cookie)
    "signup_email": Limit(5, timedelta(hours=1), timedelta(hours=1)),
    "signup_device": Limit(10, timedelta(hours=1), timedelta(hours=1)),
    # per network address: generous, since mobile carriers and internet cafes put many people behind one
    # address; the e-mail and device limits stop one person hammering
    "signup_network": Limit(300, timedelta(hours=1), timedelta(hours=1)),
}


def rate_key(action: str, subject: str) -> str:
    """The counter's key: the subject (an e-mail, an IP, an account) only as a blind index."""
    return f"{action}:{blind_index(subject, 'ratelimit').hex()[:40]}"


def _count(session: Session, action: str, subject: str, lock_at: int) -> TooManyAttempts | None:
    rule = LIMITS[action]
    now = utcnow()
    until = repository.hit_rate_limit(
        session, rate_key(action, subject), now=now, window=rule.window, lock_at=lock_at, lockout=rule.lockout
    )
    return TooManyAttempts(until, now) if until is not None else None


def count_attempt(session: Session, action: str, subject: str) -> TooManyAttempts | None:
    """Count one attempt before doing it: the first ``limit`` attempts in the window pass; the next one locks the
    subject out. Returns the refusal (429, saying when to retry) for the caller to raise once the count is
    committed, or None."""
    return _count(session, action, subject, LIMITS[action].limit + 1)


def count_attempt_within(session: Session, action: str, subject: str, rule: Limit) -> TooManyAttempts | None:
    """:func:`count_attempt` under a limit the caller gives (one read from settings) rather than :data:`LIMITS`."""
    now = utcnow()
    until = repository.hit_rate_limit(
        session, rate_key(action, subject), now=now, window=rule.window, lock_at=rule.limit + 1, lockout=rule.lockout
    )
    return TooManyAttempts(until, now) if until is not None else None


def count_failure(session: Session, action: str, subject: str) -> None:
    """Count one failure after the fact: ``limit`` failures lock the subject out (see :func:`check_not_locked`)."""
    _count(session, action, subject, LIMITS[action].limit)


def check_not_locked(session: Session, action: str, subject: str) -> None:
    now = utcnow()
    until = repository.locked_until(session, rate_key(action, subject), now=now)
    if until is not None:
        raise TooManyAttempts(until, now)


def account_key(email: str) -> str:
    """The subject of per-account limits: the normalised e-mail (whether or not it has an account)."""
    return email.strip().lower()[:254]


def check_account_not_locked(session: Session, email: str) -> None:
    """:class:`AccountLocked` (429, saying when, and that a password reset lifts it) after too many wrong
    passwords for this e-mail from any address."""
    now = utcnow()
    until = repository.locked_until(session, rate_key("login_account", account_key(email)), now=now)
    if until is not None:
        raise AccountLocked(until, now)


def clear_account_lock(session: Session, email: str) -> None:
    repository.clear_rate_limit(session, rate_key("login_account", account_key(email)))

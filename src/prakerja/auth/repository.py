from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import Row, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.auth.models import Account, AccountSignal, AccountToken, LoginSession, RateLimit, Role
from prakerja.db import positional
from prakerja.kit.pii import decrypt

EMAIL_LOCK_CLASS = 7302
"""Advisory lock class of e-mail addresses (two-key form: a key space apart from single-key locks)."""


def lock_email(session: Session, email_index: bytes) -> None:
    """Until this transaction ends, nobody else creates an account with this e-mail: two sign-ups with one address
    at once run one after the other, and the second finds the first's account instead of violating the index."""
    key = int.from_bytes(email_index[:4], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": EMAIL_LOCK_CLASS, "k": key})


def account_by_email_index(session: Session, email_index: bytes) -> Account | None:
    return session.scalars(select(Account).where(Account.email_index == email_index)).first()


def account(session: Session, account_id: uuid.UUID) -> Account | None:
    return session.get(Account, account_id)


def add(session: Session, obj: Account | LoginSession | AccountToken) -> None:
    session.add(obj)
    session.flush()


def login_session(session: Session, token_hash: bytes) -> LoginSession | None:
    return session.get(LoginSession, token_hash)


_ACCOUNT_FOR_SESSION = (
    select(Account.id, Account.role, Account.display_name)
    .join(LoginSession, LoginSession.account_id == Account.id)
    .where(
        LoginSession.token_hash == bindparam("token_hash"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > bindparam("now"),
        Account.is_active.is_(True),
    )
)


def account_for_session(session: Session, token_hash: bytes, now: datetime) -> Row[uuid.UUID, Role, str] | None:
    """``(id, role, display_name)`` of the active account behind a live, unrevoked session: one query per request,
    on every signed-in request, so only the three columns (no ORM entity, no e-mail decryption) and Core
    execution."""
    result = session.connection().execute(_ACCOUNT_FOR_SESSION, {"token_hash": token_hash, "now": now})
    return result.first()


ACCOUNT_FOR_SESSION_SQL = (
    "SELECT a.id, a.role, a.display_name FROM auth_accounts a JOIN auth_sessions s ON s.account_id = a.id "
    "WHERE s.token_hash = %(session_token_hash)s AND s.revoked_at IS NULL AND s.expires_at > %(session_now)s "
    "AND a.is_active"
)
"""``_ACCOUNT_FOR_SESSION`` as SQL for a loop connection (``db.on_loop``); tests hold the two to the same answers.
At most one row ``(id, role, display_name)``, ``display_name`` encrypted (:func:`account_of_row`). Another domain's
statement may include it, through ``auth.service.session_lookup`` only (ADR 0035): this text is the one definition
of a live session, wherever it is asked."""
_ACCOUNT_FOR_SESSION_ON_LOOP = positional(ACCOUNT_FOR_SESSION_SQL)[0]  # $1 session_token_hash, $2 session_now


def account_of_row(account_id: uuid.UUID, role: str, display_name: bytes) -> tuple[uuid.UUID, Role, str]:
    """A row of ``ACCOUNT_FOR_SESSION_SQL`` with its role typed and its display name decrypted."""
    return account_id, Role(role), decrypt(display_name, "auth_accounts.display_name")


async def account_for_session_on_loop(
    conn: asyncpg.Connection, token_hash: bytes, now: datetime
) -> tuple[uuid.UUID, Role, str] | None:
    """``account_for_session`` in one prepared statement on a loop connection (ADR 0014, 0028): every signed-in
    request asks it, so no thread hop and no ``Session``. A read: outside a transaction block it commits nothing."""
    row = await conn.fetchrow(_ACCOUNT_FOR_SESSION_ON_LOOP, token_hash, now)
    if row is None:
        return None
    account_id, role, display_name = row
    return account_of_row(account_id, role, display_name)


def email_sql(account: str) -> str:
    """An SQL expression: the account's e-mail (encrypted; NULL when there is no such account) for the account given
    as an SQL expression, for a statement another domain composes (ADR 0031)."""
    return f"(SELECT email FROM auth_accounts WHERE id = {account})"


def revoke_sessions(session: Session, account_id: uuid.UUID, now: datetime) -> int:
    """End every live session of the account; returns how many."""
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def void_tokens(session: Session, account_id: uuid.UUID, purpose: str, now: datetime) -> int:
    """Mark every unused link of that purpose of the account as used; returns how many."""
    result = session.execute(
        update(AccountToken)
        .where(AccountToken.account_id == account_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def account_token(session: Session, token_hash: bytes, *, lock: bool = False) -> AccountToken | None:
    query = select(AccountToken).where(AccountToken.token_hash == token_hash)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def add_account_signal(session: Session, *, account_id: uuid.UUID, kind: str, value_index: bytes) -> None:
    session.execute(
        insert(AccountSignal)
        .values(account_id=account_id, kind=kind, value_index=value_index)
        .on_conflict_do_nothing(index_elements=["account_id", "kind", "value_index"])
    )


# --- rate limits (called on a connection of their own, so a refused request still counts) ------------------------

_HIT_SQL = text(
    """
    INSERT INTO registration_rate_limits AS r (key, window_started_at, hits, locked_until)
    VALUES (:key, :now, 1, NULL)
    ON CONFLICT (key) DO UPDATE SET
      window_started_at = CASE WHEN r.window_started_at <= :window_floor AND (r.locked_until IS NULL
                               OR r.locked_until <= :now) THEN :now ELSE r.window_started_at END,
      hits = CASE WHEN r.window_started_at <= :window_floor AND (r.locked_until IS NULL OR r.locked_until <= :now)
                  THEN 1 ELSE r.hits + 1 END,
      locked_until = CASE
        WHEN r.locked_until IS NOT NULL AND r.locked_until > :now THEN r.locked_until
        WHEN r.window_started_at > :window_floor AND r.hits + 1 >= :lock_at THEN :lock_until
        ELSE NULL END
    RETURNING hits, locked_until
    """
)


def hit_rate_limit(
    session: Session, key: str, *, now: datetime, window: timedelta, lock_at: int, lockout: timedelta
) -> datetime | None:
    """Count one attempt; returns when the subject may try again if it is now locked out (the count reached
    ``lock_at`` within the window)."""
    row = session.execute(
        _HIT_SQL,
        {"key": key, "now": now, "window_floor": now - window, "lock_at": lock_at, "lock_until": now + lockout},
    ).one()
    locked_until: datetime | None = row.locked_until
    return locked_until if locked_until is not None and locked_until > now else None


def locked_until(session: Session, key: str, *, now: datetime) -> datetime | None:
    found = session.get(RateLimit, key)
    if found is None or found.locked_until is None or found.locked_until <= now:
        return None
    return found.locked_until


def clear_rate_limit(session: Session, key: str) -> None:
    """Forget a limit's count (a password reset lifts the account's sign-in lock)."""
    session.execute(delete(RateLimit).where(RateLimit.key == key))

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from prakerja.auth.models import Account, LoginSession, Role


def account_by_email_index(session: Session, email_index: bytes) -> Account | None:
    return session.scalars(select(Account).where(Account.email_index == email_index)).first()


def account(session: Session, account_id: uuid.UUID) -> Account | None:
    return session.get(Account, account_id)


def add(session: Session, obj: Account | LoginSession) -> None:
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

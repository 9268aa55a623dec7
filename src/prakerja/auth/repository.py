from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.auth.models import Account, LoginSession


def account_by_email_index(session: Session, email_index: bytes) -> Account | None:
    return session.scalars(select(Account).where(Account.email_index == email_index)).first()


def account(session: Session, account_id: uuid.UUID) -> Account | None:
    return session.get(Account, account_id)


def add(session: Session, obj: Account | LoginSession) -> None:
    session.add(obj)
    session.flush()


def login_session(session: Session, token_hash: bytes) -> LoginSession | None:
    return session.get(LoginSession, token_hash)


def account_for_session(session: Session, token_hash: bytes, now: datetime) -> Account | None:
    """The active account behind a live, unrevoked session: one query per request."""
    return session.scalars(
        select(Account)
        .join(LoginSession, LoginSession.account_id == Account.id)
        .where(
            LoginSession.token_hash == token_hash,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
            Account.is_active.is_(True),
        )
    ).first()

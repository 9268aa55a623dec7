from __future__ import annotations

import uuid

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

"""Accounts and sign-in sessions. Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import repository, rules
from prakerja.auth.errors import AccountDisabled, EmailTaken, InvalidCredentials, WeakPassword
from prakerja.auth.models import Account, LoginSession, Role
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import InvalidInput
from prakerja.kit.pii import blind_index, decrypt

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class CurrentAccount:
    """What a request knows about who is signed in (no personal data beyond the display name)."""

    id: uuid.UUID
    role: Role
    display_name: str

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(id=self.id, role=self.role.value)


def email_index(email: str) -> bytes:
    return blind_index(email, "email")


def create_account(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str,
    created_by: audit.Actor | None = None,
) -> Account:
    weak = rules.password_problems(password, email=email)
    if weak:
        raise WeakPassword(weak)
    bad_name = rules.name_problems(display_name)
    if bad_name:
        raise InvalidInput(bad_name)
    index = email_index(email)
    repository.lock_email(session, index)
    if repository.account_by_email_index(session, index) is not None:
        raise EmailTaken(details={"field": "email"})
    account = Account(
        email=email.strip(),
        email_index=index,
        password_hash=rules.hash_password(password),
        role=role,
        display_name=" ".join(display_name.split()),
    )
    repository.add(session, account)
    if created_by is not None:
        audit.record(session, created_by, "auth.account_created", "account", account.id, data={"role": role.value})
    return account


def authenticate(session: Session, *, email: str, password: str) -> Account:
    account = repository.account_by_email_index(session, email_index(email))
    if account is None:
        rules.verify_password(rules.DUMMY_HASH, password)
        raise InvalidCredentials()
    if not rules.verify_password(account.password_hash, password):
        raise InvalidCredentials()
    if not account.is_active:
        raise AccountDisabled()
    if rules.needs_rehash(account.password_hash):
        account.password_hash = rules.hash_password(password)
    account.last_login_at = utcnow()
    return account


def start_session(session: Session, account: Account) -> str:
    """Returns the token for the cookie."""
    token = rules.new_token()
    repository.add(
        session,
        LoginSession(token_hash=rules.token_hash(token), account_id=account.id, expires_at=utcnow() + SESSION_LIFETIME),
    )
    return token


def end_session(session: Session, token: str) -> None:
    found = repository.login_session(session, rules.token_hash(token))
    if found is not None and found.revoked_at is None:
        found.revoked_at = utcnow()


def resolve_session(session: Session, token: str) -> CurrentAccount | None:
    found = repository.account_for_session(session, rules.token_hash(token), utcnow())
    if found is None:
        return None
    account_id, role, display_name = found
    return CurrentAccount(id=account_id, role=role, display_name=display_name)


async def resolve_session_on_loop(conn: asyncpg.Connection, token: str) -> CurrentAccount | None:
    """``resolve_session`` on a loop connection (``db.on_loop``, ADR 0014): the same answer, no ``Session``."""
    found = await repository.account_for_session_on_loop(conn, rules.token_hash(token), utcnow())
    if found is None:
        return None
    account_id, role, display_name = found
    return CurrentAccount(id=account_id, role=role, display_name=display_name)


@dataclass(frozen=True)
class SessionLookup:
    """Who is signed in, as SQL that another domain's statement includes so that the sign-in check and its write
    are one round trip (ADR 0035). ``sql`` is auth's one definition of a live session (a known token, not revoked,
    not expired, an active account: exactly what :func:`resolve_session` asks), a ``SELECT`` of at most one row
    ``(id, role, display_name)`` with ``display_name`` still encrypted; its parameters are named
    ``session_token_hash`` and ``session_now`` (psycopg's ``%(name)s`` style, as ``db.positional`` reads it) and
    their values are ``params``. The including statement reads the row only to know the account and must give it
    back to :meth:`account` to learn who that is; it never writes auth's tables."""

    params: dict[str, object]
    sql: ClassVar[str] = repository.ACCOUNT_FOR_SESSION_SQL

    @staticmethod
    def account(account_id: uuid.UUID, role: str, display_name: bytes) -> CurrentAccount:
        """The :class:`CurrentAccount` of a row of ``sql``."""
        account_id, typed_role, name = repository.account_of_row(account_id, role, display_name)
        return CurrentAccount(id=account_id, role=typed_role, display_name=name)


def session_lookup(token: str) -> SessionLookup:
    """:class:`SessionLookup` for the browser's session token, as of now (the injected clock)."""
    return SessionLookup({"session_token_hash": rules.token_hash(token), "session_now": utcnow()})


def get_account(session: Session, account_id: uuid.UUID) -> Account | None:
    return repository.account(session, account_id)


def email_sql(account: str) -> str:
    """An SQL expression read by :func:`email_of`: ``get_account(...).email`` of the account given as an SQL
    expression, for a statement another domain's repository composes (ADR 0031)."""
    return repository.email_sql(account)


def email_of(value: bytes | None) -> str | None:
    """A value of :func:`email_sql`, decrypted; None when there is no account. Personal data: never logged."""
    return None if value is None else decrypt(bytes(value), "auth_accounts.email")


def account_by_email(session: Session, email: str) -> Account | None:
    return repository.account_by_email_index(session, email_index(email))

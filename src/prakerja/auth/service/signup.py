"""Sign-up, e-mail verification and password reset by link. Takes a session; never commits.

Links carry a random token; only its SHA-256 is stored. The e-mails are queued in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.auth import repository, rules
from prakerja.auth.errors import TokenInvalid, WeakPassword
from prakerja.auth.models import Account, AccountToken, Role
from prakerja.auth.service.accounts import create_account, email_index
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import InvalidInput
from prakerja.kit.pii import blind_index
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel

EMAIL_TOKEN_LIFETIME = timedelta(days=2)
RESET_TOKEN_LIFETIME = timedelta(hours=1)


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    base_url: str,
    ip: str | None = None,
    device: str | None = None,
) -> Account:
    """An applicant account, and an e-mail with a verification link. The browser's device identifier and the IP
    are kept as integrity signals (blind indexes only); registration counts them for the applicant the account
    becomes."""
    problems = rules.sign_up_problems(email=email, name=name, password=password)
    if problems:
        raise InvalidInput(problems)
    account = create_account(
        session, email=email.strip(), password=password, role=Role.applicant, display_name=" ".join(name.split())
    )
    send_email_verification(session, account, base_url=base_url)
    if device:
        repository.add_account_signal(
            session, account_id=account.id, kind="device", value_index=blind_index(device, "device")
        )
    if ip:
        repository.add_account_signal(session, account_id=account.id, kind="ip", value_index=blind_index(ip, "ip"))
    return account


def _new_link(session: Session, account_id: uuid.UUID, purpose: str, lifetime: timedelta) -> str:
    token = rules.new_token()
    repository.add(
        session,
        AccountToken(
            token_hash=rules.token_hash(token), account_id=account_id, purpose=purpose, expires_at=utcnow() + lifetime
        ),
    )
    return token


def send_email_verification(session: Session, account: Account, *, base_url: str) -> None:
    token = _new_link(session, account.id, "verify_email", EMAIL_TOKEN_LIFETIME)
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=account.email,
        subject="Verifikasi e-mail Kartu Prakerja",
        body=f"Buka tautan ini untuk memverifikasi e-mail Anda / Open this link to verify your e-mail: "
        f"{base_url.rstrip('/')}/verifikasi-email/{token}",
        account_id=account.id,
    )


def _use_token(session: Session, token: str, purpose: str) -> Account:
    found = repository.account_token(session, rules.token_hash(token), lock=True)
    if found is None or found.purpose != purpose or found.used_at is not None or found.expires_at <= utcnow():
        raise TokenInvalid()
    found.used_at = utcnow()
    account = repository.account(session, found.account_id)
    assert account is not None
    return account


def verify_email(session: Session, token: str) -> uuid.UUID:
    account = _use_token(session, token, "verify_email")
    account.email_verified_at = account.email_verified_at or utcnow()
    return account.id


def request_password_reset(session: Session, *, email: str, base_url: str) -> None:
    """Always looks the same to the caller, whether or not the e-mail has an account."""
    found = repository.account_by_email_index(session, email_index(email))
    if found is None:
        return
    token = _new_link(session, found.id, "reset_password", RESET_TOKEN_LIFETIME)
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=found.email,
        subject="Atur ulang kata sandi Kartu Prakerja",
        body=f"Buka tautan ini dalam 1 jam untuk mengatur ulang kata sandi / Open this link within 1 hour to reset "
        f"your password: {base_url.rstrip('/')}/atur-ulang-sandi/{token}",
        account_id=found.id,
    )


def token_valid(session: Session, token: str, purpose: str) -> bool:
    found = repository.account_token(session, rules.token_hash(token))
    return found is not None and found.purpose == purpose and found.used_at is None and found.expires_at > utcnow()


def reset_password(session: Session, *, token: str, password: str) -> uuid.UUID:
    if rules.password_problems(password):
        raise WeakPassword(details={"field": "password"})
    account = _use_token(session, token, "reset_password")
    account.password_hash = rules.hash_password(password)
    return account.id

"""Sign-up, e-mail verification and password reset by link. Takes a session; never commits.

Links carry a random token; only its SHA-256 is stored. They are built from the configured public address
(``settings.public_base_url``), never from the request's Host header. The e-mails are queued in the caller's
transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.auth import repository, rules
from prakerja.auth.errors import TokenInvalid, WeakPassword
from prakerja.auth.models import Account, AccountToken, Role
from prakerja.auth.service.accounts import create_account, email_index
from prakerja.auth.service.ratelimits import clear_account_lock
from prakerja.config import get_settings
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import InvalidInput
from prakerja.kit.pii import blind_index
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel

EMAIL_TOKEN_LIFETIME = timedelta(days=2)
RESET_TOKEN_LIFETIME = timedelta(hours=1)


def public_link(path: str) -> str:
    """An absolute link for an e-mail: the configured public address (``PRAKERJA_PUBLIC_BASE_URL``) and ``path``."""
    return f"{get_settings().public_base_url.rstrip('/')}{path}"


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    ip: str | None = None,
    device: str | None = None,
) -> Account | None:
    """An applicant account and an e-mail with a verification link; the caller tells the person to read their
    e-mail. When the e-mail already has an account (an applicant's or staff's), nothing is created and None is
    returned: its owner gets an e-mail saying someone tried to sign up with it, with a password-reset link, and the
    caller answers exactly as for a new account, so the answer does not reveal which e-mails are registered (the
    password is hashed anyway, so the time taken does not either).

    The browser's device identifier and the IP are kept as integrity signals (blind indexes only); registration
    counts them for the applicant the account becomes."""
    problems = rules.sign_up_problems(email=email, name=name, password=password)
    if problems:
        raise InvalidInput(problems)
    repository.lock_email(session, email_index(email))
    existing = repository.account_by_email_index(session, email_index(email))
    if existing is not None:
        rules.hash_password(password)  # the same work as for a new account
        _send_sign_up_attempt_notice(session, existing)
        return None
    account = create_account(
        session, email=email.strip(), password=password, role=Role.applicant, display_name=" ".join(name.split())
    )
    send_email_verification(session, account)
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


def send_email_verification(session: Session, account: Account) -> None:
    token = _new_link(session, account.id, "verify_email", EMAIL_TOKEN_LIFETIME)
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=account.email,
        subject="Verifikasi e-mail Kartu Prakerja",
        body=f"Buka tautan ini untuk memverifikasi e-mail Anda / Open this link to verify your e-mail: "
        f"{public_link(f'/verifikasi-email/{token}')}",
        account_id=account.id,
    )


def _send_sign_up_attempt_notice(session: Session, account: Account) -> None:
    token = _new_link(session, account.id, "reset_password", RESET_TOKEN_LIFETIME)
    link = public_link(f"/atur-ulang-sandi/{token}")
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=account.email,
        subject="Percobaan pendaftaran dengan e-mail Anda",
        body=(
            "Seseorang mencoba membuat akun Kartu Prakerja baru dengan alamat e-mail ini, padahal alamat ini sudah "
            "memiliki akun. Jika itu Anda, masuklah dengan akun yang ada, atau atur ulang kata sandi dalam 1 jam "
            f"lewat tautan ini: {link} . Jika bukan Anda, abaikan e-mail ini; akun Anda tidak berubah.\n\n"
            "Someone tried to create a new Kartu Prakerja account with this e-mail address, which already has an "
            f"account. If it was you, sign in with that account, or reset the password within 1 hour: {link} . If "
            "it was not you, ignore this e-mail; your account has not changed."
        ),
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


def request_password_reset(session: Session, *, email: str) -> None:
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
        f"your password: {public_link(f'/atur-ulang-sandi/{token}')}",
        account_id=found.id,
    )


def token_valid(session: Session, token: str, purpose: str) -> bool:
    found = repository.account_token(session, rules.token_hash(token))
    return found is not None and found.purpose == purpose and found.used_at is None and found.expires_at > utcnow()


def reset_password(session: Session, *, token: str, password: str) -> uuid.UUID:
    """A new password by link. Whoever had the old one loses access: every session of the account ends (this
    browser's too: the person signs in again), every other unused reset link stops working, and the lock after
    too many wrong passwords is lifted."""
    account = _use_token(session, token, "reset_password")
    weak = rules.password_problems(password, email=account.email)
    if weak:
        raise WeakPassword(weak)
    now = utcnow()
    account.password_hash = rules.hash_password(password)
    repository.revoke_sessions(session, account.id, now)
    repository.void_tokens(session, account.id, "reset_password", now)
    clear_account_lock(session, account.email)
    return account.id

"""Sign-up, e-mail verification, password reset, phone OTP, and rate limits shared by every process.

Rate-limit counters are written on a connection of their own and committed at once, so a refused attempt
(whose request rolls back) still counts, and N web processes share one count in PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.auth.errors import EmailTaken, WeakPassword
from prakerja.auth.models import Account, Role
from prakerja.kit.clock import utcnow
from prakerja.kit.keys import get_keys
from prakerja.kit.pii import blind_index
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.registration import repository
from prakerja.registration.errors import (
    FieldProblem,
    InvalidInput,
    OtpInvalid,
    TokenInvalid,
    TooManyAttempts,
    email_taken,
    one_field,
    phone_taken,
)
from prakerja.registration.models import AccountToken, PhoneOtp
from prakerja.registration.service import checks, integrity
from prakerja.registration.service.identity import get_or_start

EMAIL_TOKEN_LIFETIME = timedelta(days=2)
RESET_TOKEN_LIFETIME = timedelta(hours=1)
OTP_LIFETIME = timedelta(minutes=5)
OTP_MAX_WRONG = 5
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Limit:
    limit: int
    window: timedelta
    lockout: timedelta


LIMITS = {
    "login": Limit(10, timedelta(minutes=15), timedelta(minutes=15)),
    "otp_send": Limit(3, timedelta(minutes=15), timedelta(minutes=30)),
    "otp_check": Limit(5, timedelta(minutes=15), timedelta(minutes=15)),
    "reset": Limit(3, timedelta(hours=1), timedelta(hours=1)),
    "signup_ip": Limit(20, timedelta(hours=1), timedelta(hours=1)),
}


def _subject(value: str) -> str:
    return blind_index(value, "ratelimit").hex()[:40]


def rate_key(action: str, subject: str) -> str:
    return f"{action}:{_subject(subject)}"


def _count(action: str, subject: str, lock_at: int) -> tuple[datetime | None, datetime]:
    from prakerja.db import unit_of_work

    rule = LIMITS[action]
    now = utcnow()
    with unit_of_work() as own:  # its own transaction: committed even when the request rolls back
        until = repository.hit_rate_limit(
            own, rate_key(action, subject), now=now, window=rule.window, lock_at=lock_at, lockout=rule.lockout
        )
    return until, now


def hit(action: str, subject: str) -> None:
    """Count one attempt before doing it: the first ``limit`` attempts in the window pass, the next one raises
    :class:`TooManyAttempts` (429, saying when to retry) and locks the subject out."""
    until, now = _count(action, subject, LIMITS[action].limit + 1)
    if until is not None:
        raise TooManyAttempts(until, now)


def failed(action: str, subject: str) -> None:
    """Count one failure after the fact: ``limit`` failures lock the subject out (checked by check_not_locked)."""
    _count(action, subject, LIMITS[action].limit)


def check_not_locked(session: Session, action: str, subject: str) -> None:
    now = utcnow()
    until = repository.locked_until(session, rate_key(action, subject), now=now)
    if until is not None:
        raise TooManyAttempts(until, now)


def _token() -> tuple[str, bytes]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).digest()


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
    """An applicant account, and an e-mail with a verification link (queued in this transaction). The browser's
    device identifier and the IP are kept as integrity signals (blind indexes)."""
    problems: list[FieldProblem] = []
    cleaned = email.strip()
    if not (3 <= len(cleaned) <= 254 and "@" in cleaned and "." in cleaned.rsplit("@", 1)[-1] and " " not in cleaned):
        problems.append(
            checks.Problem("email", "email_invalid", "Alamat e-mail tidak valid.", "The e-mail is not valid.")
        )
    problems.extend(
        p for p in checks.text_problems("name", name, required=True, max_length=100, label_id="Nama", label_en="Name")
    )
    if len(password) < 10 or len(password) > 1024:
        problems.append(
            checks.Problem(
                "password",
                "weak_password",
                "Kata sandi minimal 10 karakter.",
                "The password needs at least 10 characters.",
            )
        )
    if problems:
        raise InvalidInput(problems)
    try:
        account = auth.create_account(
            session, email=cleaned, password=password, role=Role.applicant, display_name=" ".join(name.split())
        )
    except EmailTaken:
        raise email_taken() from None
    except WeakPassword:  # pragma: no cover - checked above
        raise
    send_email_verification(session, account, base_url=base_url)
    integrity.record_sign_up(session, account_id=account.id, ip=ip, device=device)
    return account


def send_email_verification(session: Session, account: Account, *, base_url: str) -> None:
    token, digest = _token()
    repository.add(
        session,
        AccountToken(
            token_hash=digest, account_id=account.id, purpose="verify_email", expires_at=utcnow() + EMAIL_TOKEN_LIFETIME
        ),
    )
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=account.email,
        subject="Verifikasi e-mail Kartu Prakerja",
        body=f"Buka tautan ini untuk memverifikasi e-mail Anda / Open this link to verify your e-mail: "
        f"{base_url.rstrip('/')}/verifikasi-email/{token}",
        account_id=account.id,
    )


def _use_token(session: Session, token: str, purpose: str) -> AccountToken:
    found = repository.account_token(session, hashlib.sha256(token.encode()).digest(), lock=True)
    if found is None or found.purpose != purpose or found.used_at is not None or found.expires_at <= utcnow():
        raise TokenInvalid()
    return found


def verify_email(session: Session, token: str) -> uuid.UUID:
    found = _use_token(session, token, "verify_email")
    found.used_at = utcnow()
    account = auth.get_account(session, found.account_id)
    assert account is not None
    account.email_verified_at = account.email_verified_at or utcnow()
    return account.id


def request_password_reset(session: Session, *, email: str, base_url: str) -> None:
    """Always looks the same to the caller, whether or not the e-mail has an account."""
    found = _account_by_email(session, email)
    if found is None:
        return
    token, digest = _token()
    repository.add(
        session,
        AccountToken(
            token_hash=digest, account_id=found.id, purpose="reset_password", expires_at=utcnow() + RESET_TOKEN_LIFETIME
        ),
    )
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=found.email,
        subject="Atur ulang kata sandi Kartu Prakerja",
        body=f"Buka tautan ini dalam 1 jam untuk mengatur ulang kata sandi / Open this link within 1 hour to reset "
        f"your password: {base_url.rstrip('/')}/atur-ulang-sandi/{token}",
        account_id=found.id,
    )


def _account_by_email(session: Session, email: str) -> Account | None:
    return repository.account_by_email_index(session, auth.email_index(email))


def token_valid(session: Session, token: str, purpose: str) -> bool:
    found = repository.account_token(session, hashlib.sha256(token.encode()).digest())
    return found is not None and found.purpose == purpose and found.used_at is None and found.expires_at > utcnow()


def reset_password(session: Session, *, token: str, password: str) -> uuid.UUID:
    if len(password) < 10 or len(password) > 1024:
        raise one_field(
            "password", "weak_password", "Kata sandi minimal 10 karakter.", "The password needs at least 10 characters."
        )
    found = _use_token(session, token, "reset_password")
    found.used_at = utcnow()
    account = auth.get_account(session, found.account_id)
    assert account is not None
    account.password_hash = _hasher.hash(password)
    return account.id


# --- phone OTP --------------------------------------------------------------------------------------------------


def _code_hash(code: str, otp_id: uuid.UUID) -> bytes:
    return hmac.new(get_keys().blind_index_key, f"otp\x00{otp_id}\x00{code}".encode(), hashlib.sha256).digest()


def send_phone_otp(session: Session, *, account_id: uuid.UUID, phone: str) -> None:
    """A 6-digit code by SMS (queued in this transaction). Rate-limited per account."""
    problems, normalised = checks.phone_problems(phone)
    if problems or normalised is None:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    index = blind_index(normalised, "phone")
    if repository.phone_taken(session, index, other_than=applicant.id):
        raise phone_taken()
    hit("otp_send", str(account_id))
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp = PhoneOtp(
        id=uuid.uuid4(), account_id=account_id, phone=normalised, phone_index=index, expires_at=utcnow() + OTP_LIFETIME
    )
    otp.code_hash = _code_hash(code, otp.id)
    repository.add(session, otp)
    notifications.queue_message(
        session,
        channel=Channel.sms,
        recipient=normalised,
        subject="Kode OTP",
        body=f"Kode OTP Kartu Prakerja: {code}. Berlaku 5 menit. JANGAN berikan kode ini kepada siapa pun.",
        account_id=account_id,
    )


def confirm_phone_otp(session: Session, *, account_id: uuid.UUID, code: str) -> None:
    check_not_locked(session, "otp_check", str(account_id))
    otp = repository.latest_otp(session, account_id)
    cleaned = code.strip()
    ok = (
        otp is not None
        and otp.expires_at > utcnow()
        and otp.attempts < OTP_MAX_WRONG
        and len(cleaned) == 6
        and cleaned.isdigit()
        and hmac.compare_digest(_code_hash(cleaned, otp.id), otp.code_hash)
    )
    if not ok or otp is None:
        failed("otp_check", str(account_id))
        raise OtpInvalid(details={"fields": [{"field": "code", "code": "otp_invalid"}]})
    applicant = get_or_start(session, account_id)
    if repository.phone_taken(session, otp.phone_index, other_than=applicant.id):
        raise phone_taken()
    otp.consumed_at = utcnow()
    applicant.phone, applicant.phone_index, applicant.phone_verified_at = otp.phone, otp.phone_index, utcnow()
    repository.add_signal(session, applicant_id=applicant.id, kind="phone", value_index=otp.phone_index)

"""The applicant's mobile number, confirmed by a 6-digit code sent by SMS. Takes a session; never commits.

Sending is rate-limited per account and wrong codes lock the account out (``auth`` keeps the counters): the request
boundary counts them on a transaction of its own (``prakerja.web.limits``), so a refused attempt still counts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.kit.clock import utcnow
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.errors import InvalidInput, RateLimited
from prakerja.kit.keys import get_keys
from prakerja.kit.pii import blind_index
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.registration import repository
from prakerja.registration.errors import OtpInvalid, phone_taken
from prakerja.registration.models import PhoneOtp
from prakerja.registration.service import checks
from prakerja.registration.service.identity import get_or_start

OTP_LIFETIME = timedelta(minutes=5)
OTP_MAX_WRONG = 5
SEND_LIMIT = "otp_send"
"""The rate limit counted (per account) before each code is sent."""
CHECK_LIMIT = "otp_check"
"""The rate limit counted (per account) for each wrong code."""


@dataclass(frozen=True)
class PhoneStep:
    """What the phone step shows when it is opened again: the number a live code went to and until when it is
    valid, and whether sending or checking is locked (and until when)."""

    phone: str
    """The number last typed and sent a code (the person's own; shown in full in their form)."""
    code_sent_at: datetime | None
    code_expires_at: datetime | None
    send_locked_until: datetime | None
    check_locked_until: datetime | None

    @property
    def code_live(self) -> bool:
        return self.code_expires_at is not None


def _locked_until(session: Session, action: str, subject: str) -> datetime | None:
    try:
        auth.check_not_locked(session, action, subject)
    except RateLimited as refusal:
        return utcnow() + timedelta(seconds=int(refusal.details.get("retry_after", 60)))
    return None


def phone_step(session: Session, *, account_id: uuid.UUID) -> PhoneStep:
    otp = repository.latest_otp(session, account_id)
    live = otp is not None and otp.expires_at > utcnow() and otp.attempts < OTP_MAX_WRONG
    return PhoneStep(
        phone=otp.phone if otp is not None else "",
        code_sent_at=otp.created_at if otp is not None and live else None,
        code_expires_at=otp.expires_at if otp is not None and live else None,
        send_locked_until=_locked_until(session, SEND_LIMIT, str(account_id)),
        check_locked_until=_locked_until(session, CHECK_LIMIT, str(account_id)),
    )


def _code_hash(code: str, otp_id: uuid.UUID) -> bytes:
    return hmac.new(get_keys().blind_index_key, f"otp\x00{otp_id}\x00{code}".encode(), hashlib.sha256).digest()


def check_phone(session: Session, *, account_id: uuid.UUID, phone: str) -> str:
    """The number normalised to ``+628...``, or a refusal: not a mobile number, or another applicant's."""
    problems, normalised = checks.phone_problems(phone)
    if problems or normalised is None:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    if repository.phone_taken(session, blind_index(normalised, "phone"), other_than=applicant.id):
        raise phone_taken()
    return normalised


def send_phone_otp(session: Session, *, account_id: uuid.UUID, phone: str) -> None:
    """A 6-digit code by SMS (queued in this transaction). The boundary counts :data:`SEND_LIMIT` first."""
    normalised = check_phone(session, account_id=account_id, phone=phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp = PhoneOtp(
        id=uuid.uuid4(),
        account_id=account_id,
        phone=normalised,
        phone_index=blind_index(normalised, "phone"),
        expires_at=utcnow() + OTP_LIFETIME,
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
    """Raises :class:`OtpInvalid` for a wrong or expired code: the boundary then counts :data:`CHECK_LIMIT`."""
    auth.check_not_locked(session, CHECK_LIMIT, str(account_id))
    otp = repository.latest_otp(session, account_id)
    cleaned = code.strip()
    ok = (
        otp is not None
        and otp.expires_at > utcnow()
        and otp.attempts < OTP_MAX_WRONG
        and len(cleaned) == 6
        and is_ascii_number(cleaned)
        and hmac.compare_digest(_code_hash(cleaned, otp.id), otp.code_hash)
    )
    if not ok or otp is None:
        raise OtpInvalid(details={"fields": [{"field": "code", "code": "otp_invalid"}]})
    applicant = get_or_start(session, account_id)
    if repository.phone_taken(session, otp.phone_index, other_than=applicant.id):
        raise phone_taken()
    otp.consumed_at = utcnow()
    applicant.phone, applicant.phone_index, applicant.phone_verified_at = otp.phone, otp.phone_index, utcnow()
    repository.add_signal(session, applicant_id=applicant.id, kind="phone", value_index=otp.phone_index)

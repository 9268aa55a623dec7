"""The participant as the marketplace sees them: card holder (recipients), name and verified phone (registration),
e-mail (auth), and the one-time code sent by SMS (notifications). The ONE module that reads people from other
domains, so masking and what may leave this domain are decided in one place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient
from prakerja.registration import service as registration
from prakerja.training.rules import mask_name


def card(session: Session, card_number: str) -> Recipient | None:
    return recipients.recipient_by_card(session, card_number)


def recipient_of_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return recipients.recipient_by_account(session, account_id)


def full_name(session: Session, account_id: uuid.UUID) -> str:
    """The name on the registration profile ("" when there is none)."""
    profile = registration.identity.find(session, account_id)
    return (profile.full_name or "") if profile is not None else ""


def masked_names(session: Session, participant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each participant's name as partners may see it (``Ni M**e D**i``, as the voucher's
    ``participant_name_masked``), by participant (applicant) id, in one query. Never the name itself."""
    return {pid: mask_name(name) for pid, name in registration.identity.full_names(session, participant_ids).items()}


SMS_SUBJECT = "Kartu Prakerja: OTP"
EMAIL_SUBJECT = "Kartu Prakerja: kode OTP pembelian"


def otp_text(*, code: str, amount: int, course_title: str) -> str:
    """The one-time code's message (Indonesian)."""
    price = f"Rp{amount:,}".replace(",", ".")
    return (
        f"Kode OTP Kartu Prakerja: {code}. Untuk membeli '{course_title[:60]}' seharga {price}. "
        "Berlaku 5 menit. JANGAN berikan kode ini kepada siapa pun."
    )


def send_otp(session: Session, *, account_id: uuid.UUID, code: str, amount: int, course_title: str) -> None:
    """Text the code to the verified phone of the profile (e-mail when no phone is verified). The code appears in
    the message only: never in logs, responses or other rows."""
    body = otp_text(code=code, amount=amount, course_title=course_title)
    profile = registration.identity.find(session, account_id)
    if profile is not None and profile.phone and profile.phone_verified_at is not None:
        notifications.queue_message(
            session,
            channel=Channel.sms,
            recipient=profile.phone,
            subject=SMS_SUBJECT,
            body=body,
            account_id=account_id,
        )
        return
    account = auth.get_account(session, account_id)
    if account is not None:
        notifications.queue_message(
            session,
            channel=Channel.email,
            recipient=account.email,
            subject=EMAIL_SUBJECT,
            body=body,
            account_id=account_id,
        )


def revoke(session: Session, recipient_id: uuid.UUID) -> None:
    recipients.revoke(session, recipient_id)


# -- parts of the marketplace's composed statements (ADR 0031) -----------------------------------------------------


def card_index(card_number: str) -> bytes | None:
    """The blind index the card is looked up by; None when it cannot be a card number (nothing to look up)."""
    return recipients.card_index(card_number)


def card_source(index: str) -> str:
    """The card holder's facts (:func:`card_holder_of`) for the card's blind index given as an SQL expression: a row
    source of at most one row."""
    return recipients.card_holder_source(index)


def card_holder_of(row: Sequence[Any]) -> recipients.CardHolder:
    return recipients.card_holder_of(row)


def full_name_sql(account: str) -> str:
    """The profile's name (read by :func:`full_name_of`) of the account given as an SQL expression."""
    return registration.identity.full_name_sql(account)


def full_name_of(value: bytes | None) -> str:
    """A value of :func:`full_name_sql` as :func:`full_name` gives it ("" when there is none)."""
    return registration.identity.full_name_of(value) or ""


@dataclass(frozen=True)
class OtpContact:
    """Where :func:`send_otp` would send the code: the verified phone by SMS, else the account's e-mail."""

    channel: Channel
    address: str


def verified_phone_sql(account: str) -> str:
    """The profile's verified phone of the account given as an SQL expression (for :func:`otp_contact_of`)."""
    return registration.identity.verified_phone_sql(account)


def email_sql(account: str) -> str:
    """The e-mail of the account given as an SQL expression (for :func:`otp_contact_of`)."""
    return auth.email_sql(account)


def otp_contact_of(phone: bytes | None, email: bytes | None) -> OtpContact | None:
    """Where the code goes, as :func:`send_otp` chooses it, from the values of :func:`verified_phone_sql` and
    :func:`email_sql`: the verified phone, else the e-mail (decrypted only then); None when there is neither (then
    nothing is sent). Personal data: never logged."""
    found_phone = registration.identity.phone_of(phone)
    if found_phone:
        return OtpContact(Channel.sms, found_phone)
    found_email = auth.email_of(email)
    return None if found_email is None else OtpContact(Channel.email, found_email)


MESSAGE_SQL = notifications.MESSAGE_SQL
"""The one-time code's message as an INSERT for a composed statement (its job: :func:`delivery_job_sql`)."""


def delivery_job_sql(messages: str) -> str:
    return notifications.delivery_job_sql(messages)


def otp_message_params(
    contact: OtpContact, *, account_id: uuid.UUID, code: str, amount: int, course_title: str
) -> dict[str, Any]:
    """The parameters of :data:`MESSAGE_SQL` and :func:`delivery_job_sql` for :func:`send_otp`'s message to
    ``contact``: the same message, encrypted, and its job."""
    return notifications.message_params(
        channel=contact.channel,
        recipient=contact.address,
        subject=SMS_SUBJECT if contact.channel is Channel.sms else EMAIL_SUBJECT,
        body=otp_text(code=code, amount=amount, course_title=course_title),
        account_id=account_id,
    )

"""The participant as the marketplace sees them: card holder (recipients), name and verified phone (registration),
e-mail (auth), and the one-time code sent by SMS (notifications). The ONE module that reads people from other
domains, so masking and what may leave this domain are decided in one place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.kit.loop import Later
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


async def full_name_on_loop(conn: asyncpg.Connection, account_id: uuid.UUID) -> str:
    """:func:`full_name` on a loop connection (``db.on_loop``)."""
    return await registration.identity.full_name_on_loop(conn, account_id) or ""


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


# -- on a loop connection (db.on_loop, ADR 0014) --------------------------------------------------------------------


async def card_on_loop(conn: asyncpg.Connection, card_number: str) -> Later[recipients.CardHolder | None]:
    return await recipients.card_holder_on_loop(conn, card_number)


@dataclass(frozen=True)
class OtpContact:
    """Where :func:`send_otp` would send the code: the verified phone by SMS, else the account's e-mail."""

    channel: Channel
    address: str


async def otp_contact_on_loop(conn: asyncpg.Connection, account_id: uuid.UUID) -> Later[OtpContact | None]:
    """Where the code goes, as :func:`send_otp` chooses it: the profile's verified phone (read with the caller's
    other reads), else the account's e-mail (one more round trip, only then); None when there is neither (then
    nothing is sent)."""
    phone = await registration.identity.verified_phone_on_loop(conn, account_id)

    async def contact() -> OtpContact | None:
        found_phone = await phone()
        if found_phone:
            return OtpContact(Channel.sms, found_phone)
        found_email = await (await auth.email_on_loop(conn, account_id))()
        return None if found_email is None else OtpContact(Channel.email, found_email)

    return contact


async def send_otp_on_loop(
    conn: asyncpg.Connection,
    contact: OtpContact | None,
    *,
    account_id: uuid.UUID,
    code: str,
    amount: int,
    course_title: str,
) -> None:
    """:func:`send_otp` on a loop connection, to the contact :func:`otp_contact_on_loop` found: the same message."""
    if contact is None:
        return
    await notifications.queue_message_on_loop(
        conn,
        channel=contact.channel,
        recipient=contact.address,
        subject=SMS_SUBJECT if contact.channel is Channel.sms else EMAIL_SUBJECT,
        body=otp_text(code=code, amount=amount, course_title=course_title),
        account_id=account_id,
    )

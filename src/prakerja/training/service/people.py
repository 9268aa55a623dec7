"""The participant as the marketplace sees them: card holder (recipients), name and verified phone (registration),
e-mail (auth), and the one-time code sent by SMS (notifications). The ONE module that reads people from other
domains, so masking and what may leave this domain are decided in one place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
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


async def card_on_loop(conn: AsyncConnection[Any], card_number: str) -> recipients.CardHolder | None:
    """:func:`card` on a loop connection (``db.on_loop``): the card holder's checkout fields."""
    return await recipients.card_holder_on_loop(conn, card_number)


def recipient_of_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return recipients.recipient_by_account(session, account_id)


def full_name(session: Session, account_id: uuid.UUID) -> str:
    """The name on the registration profile ("" when there is none)."""
    profile = registration.identity.find(session, account_id)
    return (profile.full_name or "") if profile is not None else ""


async def full_name_on_loop(conn: AsyncConnection[Any], account_id: uuid.UUID) -> str:
    """:func:`full_name` on a loop connection (``db.on_loop``)."""
    return await registration.identity.full_name_on_loop(conn, account_id) or ""


def masked_names(session: Session, participant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each participant's name as partners may see it (``Ni M**e D**i``, as the voucher's
    ``participant_name_masked``), by participant (applicant) id, in one query. Never the name itself."""
    return {pid: mask_name(name) for pid, name in registration.identity.full_names(session, participant_ids).items()}


def send_otp(session: Session, *, account_id: uuid.UUID, code: str, amount: int, course_title: str) -> None:
    """Text the code to the verified phone of the profile (e-mail when no phone is verified). The code appears in
    the message only: never in logs, responses or other rows."""
    price = f"Rp{amount:,}".replace(",", ".")
    body = (
        f"Kode OTP Kartu Prakerja: {code}. Untuk membeli '{course_title[:60]}' seharga {price}. "
        "Berlaku 5 menit. JANGAN berikan kode ini kepada siapa pun."
    )
    profile = registration.identity.find(session, account_id)
    if profile is not None and profile.phone and profile.phone_verified_at is not None:
        notifications.queue_message(
            session,
            channel=Channel.sms,
            recipient=profile.phone,
            subject="Kartu Prakerja: OTP",
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
            subject="Kartu Prakerja: kode OTP pembelian",
            body=body,
            account_id=account_id,
        )


def revoke(session: Session, recipient_id: uuid.UUID) -> None:
    recipients.revoke(session, recipient_id)

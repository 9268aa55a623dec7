from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class Channel(enum.StrEnum):
    sms = "sms"
    email = "email"


class MessageStatus(enum.StrEnum):
    queued = "queued"
    """Written; a delivery job is queued with it."""
    sent = "sent"
    """Handed to the provider."""
    failed = "failed"
    """The provider refused it for good."""


class Message(IdMixin, TimestampMixin, Base):
    """One outgoing message. Recipient and body are personal data (OTPs, links, names): encrypted, and the body is
    erased once the provider has it (it is kept only as long as the sender needs it)."""

    __tablename__ = "notifications_messages"

    channel: Mapped[Channel] = mapped_column(Enum(Channel, name="notif_channel", native_enum=False, length=8))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    recipient: Mapped[str] = mapped_column(Encrypted("notifications_messages.recipient"))
    subject: Mapped[str] = mapped_column(String(200))
    """Not personal: a template title."""
    body: Mapped[str] = mapped_column(Encrypted("notifications_messages.body"))
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, name="notif_status", native_enum=False, length=8), default=MessageStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """How many times a delivery job ran for this message."""
    sent_at: Mapped[datetime | None]
    provider_ref: Mapped[str | None] = mapped_column(String(128))


class DevOutboxItem(IdMixin, TimestampMixin, Base):
    """What the development sender "delivered": shown to its recipient alone in the development mailbox
    (``/dev/kotak-pesan``) instead of a real SMS/e-mail. Never written when real senders are configured."""

    __tablename__ = "notifications_dev_outbox"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications_messages.id"), unique=True)
    channel: Mapped[Channel] = mapped_column(Enum(Channel, name="notif_channel", native_enum=False, length=8))
    recipient: Mapped[str] = mapped_column(Encrypted("notifications_dev_outbox.recipient"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Encrypted("notifications_dev_outbox.body"))

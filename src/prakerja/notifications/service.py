"""Queue and deliver messages. ``queue_message`` writes the delivery job in the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.jobs import enqueue
from prakerja.kit.clock import utcnow
from prakerja.notifications import repository
from prakerja.notifications.models import Channel, DevOutboxItem, Message, MessageStatus
from prakerja.notifications.providers.base import Outgoing, Sender
from prakerja.notifications.providers.dev import DevSender


def sender() -> Sender:
    """The configured provider. Production SMS/SMTP providers plug in here by setting."""
    return DevSender()


def queue_message(
    session: Session,
    *,
    channel: Channel,
    recipient: str,
    subject: str,
    body: str,
    account_id: uuid.UUID | None = None,
) -> Message:
    message = Message(channel=channel, recipient=recipient, subject=subject, body=body, account_id=account_id)
    repository.add(session, message)
    enqueue(session, "notifications.deliver", message_id=str(message.id))
    return message


def deliver(session: Session, message_id: uuid.UUID) -> MessageStatus | None:
    """Safe to run twice: a message already sent is left alone."""
    message = repository.lock_message(session, message_id)
    if message is None:
        return None
    message.attempts += 1
    if message.status is MessageStatus.sent:
        return message.status
    message.provider_ref = sender().send(
        session,
        Outgoing(
            message_id=str(message.id),
            channel=message.channel.value,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
        ),
    )
    message.status = MessageStatus.sent
    message.sent_at = utcnow()
    return message.status


def dev_outbox(session: Session, limit: int = 50) -> list[DevOutboxItem]:
    return repository.dev_outbox(session, limit)

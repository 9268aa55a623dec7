"""Queue and deliver messages. ``queue_message`` writes the delivery job in the caller's transaction.

Who reads what: the program office sees *that* a message went out (:func:`sent_messages`: when, channel,
template, masked recipient, status), never its body, which may hold a one-time code or a sign-in link. Only the
recipient reads the body: in their inbox or phone, or, with the development sender, in the development mailbox
(:func:`dev_mailbox`). A message's body is erased once its provider has it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from prakerja.jobs import enqueue, job_params
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import encrypt, mask
from prakerja.notifications import repository
from prakerja.notifications.models import Channel, Message, MessageStatus
from prakerja.notifications.providers import dev_mailbox_enabled as _dev_mailbox_enabled
from prakerja.notifications.providers import sender_for
from prakerja.notifications.providers.base import DeliveryFailed, Outgoing

log = logging.getLogger(__name__)


DEV_MAILBOX_PATH = "/dev/kotak-pesan"
"""Where each person reads their own messages when a development sender is selected."""


def dev_mailbox_enabled() -> bool:
    """Whether messages go to the development mailbox (:data:`DEV_MAILBOX_PATH`) instead of out."""
    return _dev_mailbox_enabled()


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


MESSAGE_SQL = repository.ADD_MESSAGE_SQL
"""The row :func:`queue_message` writes, as an INSERT (``RETURNING id``) for a statement another domain's repository
composes (ADR 0031); its parameters from :func:`message_params`. Its job: :func:`delivery_job_sql` over it."""


def delivery_job_sql(messages: str) -> str:
    """The delivery job :func:`queue_message` defers, as a SELECT over ``messages`` (the composed statement's name
    for :data:`MESSAGE_SQL`): written in the same transaction as the message, or not at all."""
    return repository.delivery_job_sql(messages)


def message_params(
    *, channel: Channel, recipient: str, subject: str, body: str, account_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The parameters of :data:`MESSAGE_SQL` and :func:`delivery_job_sql` for the message :func:`queue_message`
    would write (recipient and body encrypted here) and its job. Nothing is written here."""
    message_id = new_id()
    return {
        "message_id": message_id,
        "message_created_at": utcnow(),
        "message_channel": channel.value,
        "message_account_id": account_id,
        "message_recipient": encrypt(recipient, "notifications_messages.recipient"),
        "message_subject": subject,
        "message_body": encrypt(body, "notifications_messages.body"),
        **job_params("notifications.deliver", message_id=str(message_id)),
    }


def deliver(session: Session, message_id: uuid.UUID) -> MessageStatus | None:
    """Hand the message to the sender its channel's setting picks. Safe to run twice: a message already sent
    (or refused for good) is left alone, and the stable message id lets the provider drop a duplicate.
    A temporary failure raises, so the job's transaction rolls back and the job retries."""
    message = repository.lock_message(session, message_id)
    if message is None:
        return None
    message.attempts += 1
    if message.status is not MessageStatus.queued:
        return message.status
    outgoing = Outgoing(
        message_id=str(message.id),
        channel=message.channel.value,
        recipient=message.recipient,
        subject=message.subject,
        body=message.body,
    )
    try:
        message.provider_ref = sender_for(message.channel.value).send(session, outgoing)
    except DeliveryFailed as error:
        log.warning("message refused", extra={"message_id": str(message.id), "reason": str(error)})
        message.status = MessageStatus.failed
        message.body = ""
        return message.status
    message.status = MessageStatus.sent
    message.sent_at = utcnow()
    message.body = ""  # the provider has it; a code or a link need not stay at rest here
    return message.status


@dataclass(frozen=True)
class SentMessage:
    """What the program office may see of a message: never its body."""

    id: uuid.UUID
    created_at: datetime
    sent_at: datetime | None
    channel: Channel
    template: str
    recipient_masked: str
    status: MessageStatus
    attempts: int


def sent_messages(session: Session, limit: int = 50) -> list[SentMessage]:
    return [
        SentMessage(
            id=m.id,
            created_at=m.created_at,
            sent_at=m.sent_at,
            channel=m.channel,
            template=m.subject,
            recipient_masked=mask(m.recipient),
            status=m.status,
            attempts=m.attempts,
        )
        for m in repository.recent_messages(session, limit)
    ]


@dataclass(frozen=True)
class DevMail:
    """A message the development sender kept, as its own recipient sees it."""

    created_at: datetime
    channel: Channel
    recipient: str
    subject: str
    body: str


def dev_mailbox(session: Session, account_id: uuid.UUID, limit: int = 50) -> list[DevMail]:
    """The development mailbox of one account: only messages addressed to that account."""
    return [
        DevMail(created_at=i.created_at, channel=i.channel, recipient=i.recipient, subject=i.subject, body=i.body)
        for i in repository.dev_items_for_account(session, account_id, limit)
    ]

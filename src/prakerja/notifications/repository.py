from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from prakerja.jobs import DEFER_ONE_SQL
from prakerja.notifications.models import DevOutboxItem, Message


def add(session: Session, message: Message) -> None:
    session.add(message)
    session.flush()


ADD_MESSAGE_SQL = (
    "INSERT INTO notifications_messages (id, created_at, channel, account_id, recipient, subject, body, status,"
    " attempts) VALUES (%(message_id)s, %(message_created_at)s, %(message_channel)s, %(message_account_id)s,"
    " %(message_recipient)s, %(message_subject)s, %(message_body)s, 'queued', 0) RETURNING id"
)
"""The row :func:`add` writes (``recipient`` and ``body`` already encrypted), names prefixed ``message_``, for a
statement another domain composes (ADR 0031) with :func:`delivery_job_sql` over it."""


def delivery_job_sql(messages: str) -> str:
    """A SELECT deferring the delivery job (:data:`prakerja.jobs.DEFER_ONE_SQL`, parameters ``job_...``) once for
    each row of ``messages`` (the name of :data:`ADD_MESSAGE_SQL` in the composed statement)."""
    return "SELECT " + DEFER_ONE_SQL + " FROM " + messages


def lock_message(session: Session, message_id: uuid.UUID) -> Message | None:
    return session.scalars(select(Message).where(Message.id == message_id).with_for_update()).first()


def recent_messages(session: Session, limit: int = 50) -> Sequence[Message]:
    """Newest first. Callers read the metadata; the body column is not even loaded."""
    return session.scalars(
        select(Message).options(defer(Message.body)).order_by(Message.created_at.desc(), Message.id).limit(limit)
    ).all()


def dev_items_for_account(session: Session, account_id: uuid.UUID, limit: int = 50) -> Sequence[DevOutboxItem]:
    """What the development sender kept for messages addressed to this account, newest first."""
    return session.scalars(
        select(DevOutboxItem)
        .join(Message, Message.id == DevOutboxItem.message_id)
        .where(Message.account_id == account_id)
        .order_by(DevOutboxItem.created_at.desc(), DevOutboxItem.id)
        .limit(limit)
    ).all()

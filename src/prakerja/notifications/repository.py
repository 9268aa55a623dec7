from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from prakerja.db import arguments, positional
from prakerja.jobs import DEFER_ONE_SQL
from prakerja.notifications.models import DevOutboxItem, Message


def add(session: Session, message: Message) -> None:
    session.add(message)
    session.flush()


_ADD_WITH_JOB_SQL = (
    "WITH m AS (INSERT INTO notifications_messages (id, created_at, channel, account_id, recipient, subject, body,"
    " status, attempts) VALUES (%(id)s, %(created_at)s, %(channel)s, %(account_id)s, %(recipient)s, %(subject)s,"
    " %(body)s, 'queued', 0) RETURNING id) SELECT " + DEFER_ONE_SQL + " FROM m"
)
_ADD_WITH_JOB_ON_LOOP, _ADD_WITH_JOB_NAMES = positional(_ADD_WITH_JOB_SQL)


async def add_with_job_on_loop(conn: asyncpg.Connection, values: dict[str, Any], job: dict[str, str]) -> None:
    """The message (``recipient`` and ``body`` already encrypted) and its delivery job in one statement on a loop
    connection (``db.on_loop``, ADR 0014), in the transaction the caller opened on it. Nothing is read back."""
    await conn.execute(_ADD_WITH_JOB_ON_LOOP, *arguments(_ADD_WITH_JOB_NAMES, {**values, **job}))


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

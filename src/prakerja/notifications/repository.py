from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from prakerja.notifications.models import DevOutboxItem, Message


def add(session: Session, message: Message) -> None:
    session.add(message)
    session.flush()


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

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.notifications.models import DevOutboxItem, Message


def add(session: Session, message: Message) -> None:
    session.add(message)
    session.flush()


def lock_message(session: Session, message_id: uuid.UUID) -> Message | None:
    return session.scalars(select(Message).where(Message.id == message_id).with_for_update()).first()


def dev_outbox(session: Session, limit: int = 50) -> list[DevOutboxItem]:
    return list(session.scalars(select(DevOutboxItem).order_by(DevOutboxItem.created_at.desc()).limit(limit)))

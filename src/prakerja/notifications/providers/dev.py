"""Development sender: keeps messages in the development mailbox (``/dev/kotak-pesan``) instead of sending them.

Selected by ``PRAKERJA_EMAIL_SENDER=dev`` / ``PRAKERJA_SMS_SENDER=dev``; production refuses to start with it."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.notifications.models import Channel, DevOutboxItem
from prakerja.notifications.providers.base import Outgoing


class DevSender:
    def send(self, session: Session, message: Outgoing) -> str:
        session.execute(
            insert(DevOutboxItem)
            .values(
                id=uuid.uuid4(),
                message_id=uuid.UUID(message.message_id),
                channel=Channel(message.channel),
                recipient=message.recipient,
                subject=message.subject,
                body=message.body,
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
        return f"dev:{message.message_id}"

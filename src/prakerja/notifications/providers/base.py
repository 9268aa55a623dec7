"""The interface every SMS or e-mail provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    """Stable id: providers deduplicate on it, so a retried job never sends twice."""
    channel: str
    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, session: Session, message: Outgoing) -> str:
        """Deliver and return the provider's reference. Raise to retry later."""
        ...

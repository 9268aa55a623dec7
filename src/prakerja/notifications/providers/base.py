"""The interface every SMS or e-mail provider implements, and the two ways a delivery can fail."""

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

    def __repr__(self) -> str:
        # recipient and body are personal data and may hold a code or a link: never in a log or a traceback
        return f"Outgoing(message_id={self.message_id!r}, channel={self.channel!r})"


class DeliveryFailed(Exception):
    """The provider refused the message for good (bad address, rejected content): retrying cannot help.
    The message text is safe to log: it never holds the recipient or the body."""


class TemporaryFailure(Exception):
    """The provider could not be reached or asked us to come back later: the job retries."""


class Sender(Protocol):
    def send(self, session: Session, message: Outgoing) -> str:
        """Deliver and return the provider's reference. Raise :class:`TemporaryFailure` to retry later,
        :class:`DeliveryFailed` to give up."""
        ...

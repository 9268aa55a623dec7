"""The one call site for the marketplace's webhook events (contract section 3). Each event is written in the
change's transaction to ``training_events``; the partners domain's webhook delivery reads them from here (or,
once ``partners.service.queue_webhook`` exists, :func:`emit` calls it instead: change this function only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from prakerja.training import repository
from prakerja.training.models import TrainingEvent

TYPES = (
    "purchase.confirmed",
    "purchase.cancelled",
    "session.cancelled",
    "completion.accepted",
    "completion.refused",
    "certificate.issued",
)


def emit(session: Session, partner_id: uuid.UUID, type_: str, data: dict[str, Any]) -> None:
    """Queue one event for one partner (``data`` carries ids only, no personal data)."""
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    repository.add_event(session, TrainingEvent(partner_id=partner_id, type=type_, data=data))


def emit_both(
    session: Session, platform_id: uuid.UUID, institution_id: uuid.UUID, type_: str, data: dict[str, Any]
) -> None:
    emit(session, platform_id, type_, data)
    if institution_id != platform_id:
        emit(session, institution_id, type_, data)

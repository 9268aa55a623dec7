"""The one call site for the marketplace's webhook events (contract section 3). Each event is queued in the
change's transaction for delivery to the partner's endpoints by ``partners.service.queue_webhook``, under a
``webhook-id`` derived from the event's type and data, so the same event queued twice is delivered once. The
partner's webhook event row (partner, type, the body exactly as sent, when) is the event's only record: the
domain's copy in ``training_events`` is no longer written (ADR 0044; the table and its rows are kept)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from prakerja.db import SqlPart
from prakerja.partners import service as partners

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
    _emit(session, [partner_id], type_, data)


def emit_both(
    session: Session, platform_id: uuid.UUID, institution_id: uuid.UUID, type_: str, data: dict[str, Any]
) -> None:
    """The same event for the platform and the institution: one query for the partners' endpoints and one INSERT
    of their webhook events."""
    _emit(session, [platform_id] if institution_id == platform_id else [platform_id, institution_id], type_, data)


def emit_both_parts(
    platform_id: uuid.UUID,
    institution_id: uuid.UUID,
    type_: str,
    data: dict[str, Any],
    endpoints: dict[uuid.UUID, list[uuid.UUID]],
    *,
    gate: str,
) -> list[SqlPart]:
    """:func:`emit_both` as parts of a statement the training repository composes (ADR 0032), with the partners'
    endpoints read before (``partners.endpoints_lateral_sql``): the same rows (the partners' webhook events,
    deliveries and jobs), written only when ``gate`` holds. The checks are made here, before anything is sent."""
    partner_ids = [platform_id] if institution_id == platform_id else [platform_id, institution_id]
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    event_id = f"{type_}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"
    return [
        partners.queue_webhooks_part(
            [partners.WebhookToQueue(p, type_, data, event_id) for p in partner_ids], endpoints, gate=gate
        ),
    ]


def _emit(session: Session, partner_ids: list[uuid.UUID], type_: str, data: dict[str, Any]) -> None:
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]
    event_id = f"{type_}:{digest}"
    partners.queue_webhooks(session, [partners.WebhookToQueue(p, type_, data, event_id) for p in partner_ids])

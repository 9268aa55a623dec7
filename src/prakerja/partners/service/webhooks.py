"""Webhooks we send (contract ``partner-api.md`` section 4, ``marketplace-api.md`` section 3).

Endpoints: a partner organisation's URLs with a Standard Webhooks secret (``whsec_...``, shown once, stored
encrypted); added, rotated, disabled and enabled by the program office, every change audited.

Events: :func:`queue_webhook` writes the event with its body fixed once, one delivery per active endpoint, and a
``partners.deliver_webhook`` job per delivery, all on the caller's session (ADR 0002): a rollback drops them.

Delivery: :func:`deliver_webhook` makes one attempt, records it in the log the partner reads
(``GET /partner/v1/webhook-deliveries``), and on a timeout, network error, 5xx or 429 schedules the next attempt as
a new job (exponential backoff with jitter, ``Retry-After`` honoured, for about 3 days). 410 disables the
endpoint; any other answer is final. The delivery row stays locked during the attempt, and the job names the
attempt it makes, so a job run twice sends nothing twice."""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
import uuid
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from prakerja.audit import service as audit
from prakerja.config import get_settings
from prakerja.db import SqlPart
from prakerja.jobs import enqueue
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id, parse_id
from prakerja.kit.loop import Later
from prakerja.partners import repository, rules
from prakerja.partners.errors import (
    PartnerNotFound,
    WebhookEndpointInvalid,
    WebhookEndpointNotFound,
    WebhookQueryInvalid,
)
from prakerja.partners.models import (
    WebhookAttempt,
    WebhookAttemptOutcome,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointStatus,
    WebhookEvent,
    WebhookEventType,
)

log = logging.getLogger(__name__)

DELIVER_TASK = "partners.deliver_webhook"
USER_AGENT = "prakerja-webhooks/1"
STALLED_AFTER = timedelta(minutes=15)
"""A pending delivery this far past its next attempt lost its job; :func:`resume_stalled_webhooks` requeues it."""
MAX_PAGE = 200


@dataclass(frozen=True)
class IssuedWebhookSecret:
    """What the officer hands to the partner, once: the secret is never shown again."""

    endpoint_id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    secret: str


@dataclass(frozen=True)
class WebhookEndpointView:
    id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    status: WebhookEndpointStatus
    status_reason: str
    created_at: datetime


@dataclass(frozen=True)
class WebhookAttemptView:
    """One line of the delivery log."""

    event_id: str
    """The ``webhook-id`` the partner received."""
    type: str
    endpoint_id: uuid.UUID
    attempt: int
    attempted_at: datetime
    status: str
    """``succeeded``, ``retrying``, ``failed`` or ``endpoint_disabled``."""
    status_code: int | None
    error: str | None
    """``timeout`` or ``connection_error`` when no answer came."""
    next_attempt_at: datetime | None
    cursor: uuid.UUID


@dataclass(frozen=True)
class WebhookAttemptPage:
    items: tuple[WebhookAttemptView, ...]
    next_cursor: str | None
    """Pass as ``after`` for the next page; None on the last page."""


# --- endpoints ----------------------------------------------------------------------------------------------------


def new_webhook_secret() -> str:
    """``whsec_`` + standard base64 of 24 random bytes (32 characters, no padding)."""
    return rules.WEBHOOK_SECRET_PREFIX + b64encode(secrets.token_bytes(rules.WEBHOOK_SECRET_BYTES)).decode()


def _check_url(url: str) -> str:
    url = url.strip()
    problem = rules.url_problem(url, production=get_settings().env == "production")
    if problem:
        raise WebhookEndpointInvalid(details={"fields": {"url": problem}})
    return url


def add_webhook_endpoint(
    session: Session, *, partner_id: uuid.UUID, url: str, actor: audit.Actor
) -> IssuedWebhookSecret:
    """A new endpoint for the organisation, active at once, with a new secret (returned once)."""
    url = _check_url(url)
    partner = repository.partner(session, partner_id)
    if partner is None:
        raise PartnerNotFound()
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint(partner_id=partner.id, url=url, secret=secret, created_by=actor.id)
    repository.add(session, endpoint)
    audit.record(
        session,
        actor,
        "partners.webhook_endpoint_added",
        "webhook_endpoint",
        endpoint.id,
        data={"partner_id": str(partner.id), "url": url},
    )
    return IssuedWebhookSecret(endpoint_id=endpoint.id, partner_id=partner.id, url=url, secret=secret)


def _endpoint(session: Session, endpoint_id: uuid.UUID | str) -> WebhookEndpoint:
    parsed = endpoint_id if isinstance(endpoint_id, uuid.UUID) else parse_id(endpoint_id)
    found = repository.endpoint(session, parsed, lock=True) if parsed else None
    if found is None:
        raise WebhookEndpointNotFound()
    return found


def rotate_webhook_secret(session: Session, *, endpoint_id: uuid.UUID | str, actor: audit.Actor) -> IssuedWebhookSecret:
    """A new secret for the endpoint (returned once). For :data:`rules.ROTATION_GRACE` attempts carry a second
    signature made with the old secret (Standard Webhooks allows several), so the partner can switch over."""
    endpoint = _endpoint(session, endpoint_id)
    secret, now = new_webhook_secret(), utcnow()
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + rules.ROTATION_GRACE
    endpoint.secret, endpoint.secret_rotated_at = secret, now
    session.flush()
    audit.record(
        session,
        actor,
        "partners.webhook_secret_rotated",
        "webhook_endpoint",
        endpoint.id,
        data={"partner_id": str(endpoint.partner_id)},
    )
    return IssuedWebhookSecret(endpoint_id=endpoint.id, partner_id=endpoint.partner_id, url=endpoint.url, secret=secret)


def set_webhook_endpoint_status(
    session: Session, *, endpoint_id: uuid.UUID | str, status: str, actor: audit.Actor, reason: str = ""
) -> WebhookEndpoint:
    """Disable (nothing more is sent; pending deliveries end as ``endpoint_disabled``) or enable an endpoint."""
    if status not in WebhookEndpointStatus.__members__:
        raise WebhookEndpointInvalid(details={"fields": {"status": f"one of {', '.join(WebhookEndpointStatus)}"}})
    endpoint = _endpoint(session, endpoint_id)
    if endpoint.status != status:
        _change_status(session, endpoint, WebhookEndpointStatus(status), actor, reason)
    return endpoint


def _change_status(
    session: Session, endpoint: WebhookEndpoint, status: WebhookEndpointStatus, actor: audit.Actor, reason: str
) -> None:
    endpoint.status, endpoint.status_changed_at, endpoint.status_reason = status, utcnow(), reason[:200]
    session.flush()
    audit.record(
        session,
        actor,
        f"partners.webhook_endpoint_{'disabled' if status == WebhookEndpointStatus.disabled else 'enabled'}",
        "webhook_endpoint",
        endpoint.id,
        reason=reason[:500],
        data={"partner_id": str(endpoint.partner_id)},
    )


def webhook_endpoints(session: Session, partner_id: uuid.UUID | None = None) -> list[WebhookEndpointView]:
    """Endpoints (never their secrets), of one organisation or of all."""
    return [
        WebhookEndpointView(
            id=e.id,
            partner_id=e.partner_id,
            url=e.url,
            status=e.status,
            status_reason=e.status_reason,
            created_at=e.created_at,
        )
        for e in repository.endpoints(session, partner_id)
    ]


# --- events -------------------------------------------------------------------------------------------------------


def queue_webhook(
    session: Session,
    *,
    partner_id: uuid.UUID,
    type: WebhookEventType | str,
    data: dict[str, Any],
    event_id: str | None = None,
) -> WebhookEvent:
    """Queue an event for the partner organisation, on the caller's transaction: the event (its body fixed now),
    a delivery to each of its active endpoints and a ``partners.deliver_webhook`` job for each.

    ``type`` is a :class:`WebhookEventType` (or its value, e.g. ``"purchase.confirmed"``). ``data`` is a flat
    object of ids and other non-personal scalars (e.g. ``{"purchase_id": "...", "course_id": "..."}``).
    ``event_id`` is the ``webhook-id`` the partner deduplicates on (1-128 of ``A-Za-z0-9_.:-``); give a stable
    one (e.g. ``f"purchase.confirmed:{purchase_id}"``) and queueing the same event again returns the first one
    and sends nothing more. Default: a new ``evt_...`` id. Programming errors (an unknown type, personal data,
    a malformed id, the same id for a different event) raise ``ValueError``."""
    return queue_webhooks(session, [WebhookToQueue(partner_id, type, data, event_id)])[0]


@dataclass(frozen=True)
class WebhookToQueue:
    partner_id: uuid.UUID
    type: WebhookEventType | str
    data: dict[str, Any]
    event_id: str | None = None


def _checked(item: WebhookToQueue) -> tuple[WebhookEventType, str, str]:
    """One event's type, id (its own or a new one) and body, checked as both queueing paths check them
    (``ValueError``: an unknown type, refused data, a malformed id, a body too long)."""
    try:
        event_type = WebhookEventType(item.type)
    except ValueError:
        raise ValueError(f"unknown webhook event type {item.type!r}; one of {', '.join(WebhookEventType)}") from None
    problems = rules.data_problems(item.data)
    if problems:
        raise ValueError("webhook data refused: " + "; ".join(problems))
    webhook_id = item.event_id if item.event_id is not None else f"evt_{new_id().hex}"
    if not rules.well_formed_webhook_id(webhook_id):
        raise ValueError("event_id must be 1-128 characters of A-Z a-z 0-9 _ . : -")
    body = rules.webhook_body(event_type.value, utcnow(), item.data)
    if len(body) > rules.MAX_DATA_BYTES:
        raise ValueError(f"webhook body longer than {rules.MAX_DATA_BYTES} bytes")
    return event_type, webhook_id, body


def queue_webhooks(session: Session, events: list[WebhookToQueue]) -> list[WebhookEvent]:
    """:func:`queue_webhook` for several events (e.g. one event for the platform and the institution) with one
    query for the organisations' endpoints and one INSERT for the events; the events, in order."""
    prepared: list[tuple[WebhookToQueue, WebhookEventType, str, str]] = []
    for item in events:
        event_type, webhook_id, body = _checked(item)
        prepared.append((item, event_type, webhook_id, body))
    if len({(item.partner_id, webhook_id) for item, _, webhook_id, _ in prepared}) != len(prepared):
        raise ValueError("the same event_id twice for one partner")
    endpoints = repository.partners_active_endpoints(session, {item.partner_id for item in events})
    if any(item.partner_id not in endpoints for item in events):
        raise PartnerNotFound()
    added = repository.add_events(
        session,
        [
            {"partner_id": item.partner_id, "webhook_id": webhook_id, "type": event_type, "body": body}
            for item, event_type, webhook_id, body in prepared
        ],
    )
    queued = []
    for item, event_type, webhook_id, body in prepared:
        event = added.get((item.partner_id, webhook_id))
        if event is None:
            existing = repository.event_by_webhook_id(session, item.partner_id, webhook_id)
            assert existing is not None
            if existing.type != event_type or json.loads(existing.body)["data"] != json.loads(body)["data"]:
                raise ValueError(f"event_id {webhook_id!r} was already used for another event")
            queued.append(existing)
            continue
        for endpoint in endpoints[item.partner_id]:
            delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=event.created_at)
            repository.add(session, delivery)
            enqueue(session, DELIVER_TASK, delivery_id=str(delivery.id), attempt=1)
        queued.append(event)
    return queued


async def active_endpoints_on_loop(
    conn: asyncpg.Connection, partner_ids: list[uuid.UUID]
) -> Later[dict[uuid.UUID, list[uuid.UUID]]]:
    """The first half of :func:`queue_webhooks_on_loop`: each organisation's active endpoints (ids), read with the
    caller's other reads (one round trip in pipeline mode); an organisation that does not exist is left out."""
    return await repository.active_endpoint_ids_on_loop(conn, partner_ids)


async def queue_webhooks_on_loop(
    conn: asyncpg.Connection, events: list[WebhookToQueue], endpoints: dict[uuid.UUID, list[uuid.UUID]]
) -> None:
    """:func:`queue_webhooks` on a loop connection (``db.on_loop``, ADR 0014), in the transaction the caller opened
    on it, with the endpoints :func:`active_endpoints_on_loop` read: the same events, deliveries and jobs, in one
    statement that reads nothing back. The same checks of the events (``ValueError``), and ``PartnerNotFound``
    for an organisation that does not exist. One difference: an event already queued under its ``event_id`` is
    left as it is without comparing its data (the ``Session`` path raises ``ValueError`` when it differs)."""
    rows, deliveries = _rows_and_deliveries(events, endpoints)
    await repository.add_events_on_loop(conn, events=rows, deliveries=deliveries, task=DELIVER_TASK)


def queue_webhooks_part(
    events: list[WebhookToQueue], endpoints: dict[uuid.UUID, list[uuid.UUID]], *, gate: str
) -> SqlPart:
    """:func:`queue_webhooks_on_loop` as a part of a statement another domain's repository composes (ADR 0032):
    the same checks (raised here, before anything is sent), the same events, deliveries and jobs, written only when
    ``gate`` (an SQL condition of the composing statement) holds."""
    rows, deliveries = _rows_and_deliveries(events, endpoints)
    return repository.add_events_part(events=rows, deliveries=deliveries, task=DELIVER_TASK, gate=gate)


def endpoints_lateral_sql(first: str, second: str) -> str:
    """A ``LATERAL`` subquery giving two organisations' active endpoints (``first`` and ``second``: SQL
    expressions of the composing statement) as :func:`endpoints_of_row` reads them (ADR 0032)."""
    return repository.ENDPOINTS_LATERAL_SQL.format(first=first, second=second)


def endpoints_of_row(
    partner_ids: list[uuid.UUID] | None, endpoint_ids: list[uuid.UUID | None] | None
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The two columns ``wh_partner_ids`` and ``wh_endpoint_ids`` of :func:`endpoints_lateral_sql` as
    :func:`active_endpoints_on_loop` answers (an organisation that does not exist is left out)."""
    return repository.endpoints_of_arrays(partner_ids, endpoint_ids)


def _rows_and_deliveries(
    events: list[WebhookToQueue], endpoints: dict[uuid.UUID, list[uuid.UUID]]
) -> tuple[list[dict[str, Any]], list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]]:
    rows: list[dict[str, Any]] = []
    for item in events:
        event_type, webhook_id, body = _checked(item)
        rows.append(
            {
                "id": new_id(),
                "partner_id": item.partner_id,
                "webhook_id": webhook_id,
                "type": event_type.name,
                "body": body,
            }
        )
    if len({(row["partner_id"], row["webhook_id"]) for row in rows}) != len(rows):
        raise ValueError("the same event_id twice for one partner")
    if any(item.partner_id not in endpoints for item in events):
        raise PartnerNotFound()
    # the column holds the enum's name, as SQLAlchemy writes it (``purchase_confirmed``)
    deliveries = [(new_id(), row["id"], endpoint_id) for row in rows for endpoint_id in endpoints[row["partner_id"]]]
    return rows, deliveries


# --- delivery -----------------------------------------------------------------------------------------------------


def signed_headers(
    *, secret: str, webhook_id: str, at: datetime, body: str, previous_secret: str | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt (signed with the ``standardwebhooks`` library); with
    ``previous_secret``, a second signature after a space (a rotation's grace period)."""
    signatures = [Webhook(s).sign(webhook_id, at, body.encode()) for s in (secret, previous_secret) if s]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _post(url: str, headers: dict[str, str], body: str) -> tuple[int | None, str, str | None]:
    """One request: (status code or None, error, Retry-After). The answer's body is never read."""
    seconds = get_settings().webhook_timeout_seconds
    timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, headers=headers, content=body.encode()) as response,
        ):
            return response.status_code, "", response.headers.get("retry-after")
    except httpx.TimeoutException:
        return None, "timeout", None
    except httpx.HTTPError:
        return None, "connection_error", None


def deliver_webhook(session: Session, *, delivery_id: uuid.UUID, attempt: int) -> WebhookDeliveryStatus | None:
    """Make attempt number ``attempt`` of a delivery and record it. Does nothing (returns the status) unless the
    delivery is pending with exactly ``attempt - 1`` attempts made: a job run twice sends once."""
    found = repository.delivery_for_sending(session, delivery_id)
    if found is None:
        return None
    delivery, event, endpoint = found
    if delivery.status != WebhookDeliveryStatus.pending or delivery.attempts != attempt - 1:
        return delivery.status
    now = utcnow()
    if endpoint.status != WebhookEndpointStatus.active:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = (
            WebhookDeliveryStatus.endpoint_disabled,
            None,
            now,
        )
        session.flush()
        return delivery.status
    in_grace = endpoint.previous_secret_until is not None and now < endpoint.previous_secret_until
    headers = signed_headers(
        secret=endpoint.secret,
        webhook_id=event.webhook_id,
        at=now,
        body=event.body,
        previous_secret=endpoint.previous_secret if in_grace else None,
    )
    started = time.monotonic()
    status_code, error, retry_after = _post(endpoint.url, headers, event.body)
    duration_ms = int((time.monotonic() - started) * 1000)
    next_at: datetime | None = None
    if status_code is not None and 200 <= status_code < 300:
        outcome = WebhookAttemptOutcome.succeeded
    elif status_code == 410:
        outcome = WebhookAttemptOutcome.endpoint_disabled
    elif rules.retryable(status_code):
        after = utcnow()
        next_at = rules.next_attempt_at(
            attempts=attempt,
            first_attempt_at=delivery.created_at,
            now=after,
            retry_after=rules.parse_retry_after(retry_after, after),
            jitter=random.random(),
        )
        outcome = WebhookAttemptOutcome.retrying if next_at else WebhookAttemptOutcome.failed
    else:
        outcome = WebhookAttemptOutcome.failed
    repository.add(
        session,
        WebhookAttempt(
            delivery_id=delivery.id,
            partner_id=event.partner_id,
            number=attempt,
            attempted_at=now,
            status_code=status_code,
            error=error,
            outcome=outcome,
            next_attempt_at=next_at,
            duration_ms=duration_ms,
        ),
    )
    delivery.attempts, delivery.next_attempt_at = attempt, next_at
    if outcome == WebhookAttemptOutcome.retrying:
        enqueue(session, DELIVER_TASK, delivery_id=str(delivery.id), attempt=attempt + 1, scheduled_at=next_at)
    else:
        delivery.finished_at = utcnow()
        delivery.status = {
            WebhookAttemptOutcome.succeeded: WebhookDeliveryStatus.succeeded,
            WebhookAttemptOutcome.endpoint_disabled: WebhookDeliveryStatus.endpoint_disabled,
        }.get(outcome, WebhookDeliveryStatus.failed)
    if outcome == WebhookAttemptOutcome.endpoint_disabled:
        locked = repository.endpoint(session, endpoint.id, lock=True)
        if locked is not None and locked.status == WebhookEndpointStatus.active:
            _change_status(session, locked, WebhookEndpointStatus.disabled, audit.Actor.system(), "gone")
    session.flush()
    log.info(
        "webhook attempt",
        extra={"delivery_id": str(delivery.id), "attempt": attempt, "status_code": status_code, "error": error},
    )
    return delivery.status


def resume_stalled_webhooks(session: Session, *, limit: int = 1000) -> int:
    """Requeue the next attempt of pending deliveries whose job was lost (a crashed worker, a failed job). A
    job that was not lost after all makes the attempt once: the second finds it made."""
    stalled = repository.stalled_deliveries(session, utcnow() - STALLED_AFTER, limit)
    for delivery_id, attempts in stalled:
        enqueue(session, DELIVER_TASK, delivery_id=str(delivery_id), attempt=attempts + 1)
    return len(stalled)


# --- the delivery log -----------------------------------------------------------------------------------------


def webhook_deliveries(
    session: Session,
    *,
    partner_id: uuid.UUID,
    type: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    after: str | None = None,
    limit: int = 50,
) -> WebhookAttemptPage:
    """The partner's own delivery attempts, oldest first; ``after`` is the ``next_cursor`` of the page before."""
    problems: dict[str, str] = {}
    event_type = outcome = cursor = None
    if type:
        try:
            event_type = WebhookEventType(type)
        except ValueError:
            problems["type"] = f"one of {', '.join(WebhookEventType)}"
    if status:
        try:
            outcome = WebhookAttemptOutcome(status)
        except ValueError:
            problems["status"] = f"one of {', '.join(WebhookAttemptOutcome)}"
    if after:
        cursor = parse_id(after)
        if cursor is None:
            problems["after"] = "the next_cursor of a previous page"
    if since is not None and since.tzinfo is None:
        problems["since"] = "an RFC 3339 time with its offset, e.g. 2026-03-02T09:00:00Z"
    if not 1 <= limit <= MAX_PAGE:
        problems["limit"] = f"1-{MAX_PAGE}"
    if problems:
        raise WebhookQueryInvalid(details={"fields": problems})
    rows = repository.attempts_of(
        session, partner_id=partner_id, type=event_type, outcome=outcome, since=since, after=cursor, limit=limit + 1
    )
    items = tuple(
        WebhookAttemptView(
            event_id=event.webhook_id,
            type=event.type.value,
            endpoint_id=endpoint_id,
            attempt=a.number,
            attempted_at=a.attempted_at,
            status=a.outcome.value,
            status_code=a.status_code,
            error=a.error or None,
            next_attempt_at=a.next_attempt_at,
            cursor=a.id,
        )
        for a, event, endpoint_id in rows[:limit]
    )
    return WebhookAttemptPage(items=items, next_cursor=str(items[-1].cursor) if len(rows) > limit else None)

"""A partner's webhook endpoint for the program's events (``partner-api.md`` section 4, Standard Webhooks), shared
by the platform and institution simulators. It imports nothing of the program.

``POST <path>`` verifies ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` with the
``standardwebhooks`` library and the endpoint's ``whsec_...`` secret, answers 400 to anything unsigned or badly
signed (recording nothing), deduplicates on ``webhook-id`` (delivery is at least once) and records the event;
``GET /_events`` lists what was recorded (a test and demo aid).

When the simulator's clock is not the system clock (it follows a program whose clock is frozen), the library
still computes the signature but the five-minute timestamp tolerance is checked against the simulator's clock."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from prakerja.simulators.partner_client import SimClock, parse_time, rfc3339

TOLERANCE_SECONDS = 5 * 60


@dataclass
class Inbox:
    """Verified events, oldest first, one per ``webhook-id``."""

    secret: str | None
    clock: SimClock
    events: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    duplicates: int = 0
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        if not self.secret:
            raise WebhookVerificationError("no webhook secret configured (--webhook-secret)")
        hook = Webhook(self.secret)
        described = self.clock.describe()
        if not described["frozen"] and not described["offset_seconds"]:
            payload = hook.verify(body, headers)
        else:
            lowered = {k.lower(): v for k, v in headers.items()}
            msg_id, stamp, signatures = (
                lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
            )
            if not (msg_id and stamp and signatures) or not stamp.isdigit():
                raise WebhookVerificationError("Missing required headers")
            at = datetime.fromtimestamp(int(stamp), UTC)
            if abs((self.clock.now() - at).total_seconds()) > TOLERANCE_SECONDS:
                raise WebhookVerificationError("Message timestamp too old or too new")
            expected = hook.sign(msg_id, at, body).encode()
            if not any(hmac.compare_digest(expected, s.encode()) for s in signatures.split(" ")):
                raise WebhookVerificationError("No matching signature found")
            payload = json.loads(body)
        if not isinstance(payload, dict):
            raise WebhookVerificationError("body is not a JSON object")
        return payload

    def receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            payload = self.verify(body, headers)
        except (WebhookVerificationError, ValueError) as error:
            with self._lock:
                self.refused += 1
            return 400, {"error": "invalid webhook", "reason": str(error)}
        webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        event = {
            "webhook_id": webhook_id,
            "type": payload.get("type"),
            "timestamp": payload.get("timestamp"),
            "data": payload.get("data") or {},
            "received_at": rfc3339(self.clock.now()),
        }
        with self._lock:
            if webhook_id in self._seen:
                self.duplicates += 1
                return 200, {"status": "duplicate"}
            self._seen.add(webhook_id)
            self.events.append(event)
        for listener in self.listeners:
            listener(event)
        return 200, {"status": "recorded"}

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["type"] == type_]


def mount(app: FastAPI, inbox: Inbox, path: str = "/webhooks/prakerja") -> None:
    """The webhook endpoint and ``GET /_events`` on ``app``."""

    @app.post(path, include_in_schema=False)
    async def webhook(request: Request) -> JSONResponse:
        status, answer = inbox.receive(await request.body(), dict(request.headers))
        return JSONResponse(answer, status_code=status)

    @app.get("/_events", include_in_schema=False)
    async def events(type: str | None = None) -> JSONResponse:
        listed = inbox.of_type(type) if type else list(inbox.events)
        return JSONResponse({"events": listed, "refused": inbox.refused, "duplicates": inbox.duplicates})


def mount_clock(app: FastAPI, clock: SimClock) -> None:
    """``GET /_clock`` and ``POST /_clock`` with ``{"now": RFC 3339}`` (freeze), ``{"offset_seconds": n}`` (shift)
    or ``{}`` (the system clock): the time the simulator signs with, to follow a program whose clock is frozen."""

    @app.get("/_clock", include_in_schema=False)
    async def show_clock() -> JSONResponse:
        return JSONResponse(clock.describe())

    @app.post("/_clock", include_in_schema=False)
    async def set_clock(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            now = body.get("now")
            offset = body.get("offset_seconds")
            clock.set(
                now=parse_time(now) if isinstance(now, str) else None,
                offset_seconds=float(offset) if offset is not None else None,
            )
        except (ValueError, TypeError, AttributeError):
            return JSONResponse({"error": 'expected {} or {"now": RFC 3339} or {"offset_seconds": n}'}, 400)
        return JSONResponse(clock.describe())

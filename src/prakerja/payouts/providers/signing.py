"""Signatures of the payment partner interface (docs/payouts-partner-interface.md section 2). One shared secret per
partner, ``whsec_`` + base64 of at least 24 random bytes: it signs the program's requests to the partner and the
partner's callbacks to the program (Standard Webhooks, checked with the ``standardwebhooks`` library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def request_signature(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()


def request_headers(secret: str, *, now: datetime, method: str, path: str, body: bytes) -> dict[str, str]:
    """Headers of one request from the program to a partner."""
    timestamp = int(now.timestamp())
    return {
        "content-type": "application/json",
        "x-prakerja-timestamp": str(timestamp),
        "x-prakerja-signature": request_signature(secret, timestamp, method, path, body),
    }


def callback_headers(secret: str, *, event_id: str, now: datetime, body: bytes) -> dict[str, str]:
    """Headers a partner puts on a callback (the program's tests and tools sign with this; partners use their own)."""
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body.decode()),
    }


def callback_valid(secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime) -> bool:
    """Whether a callback carries a valid signature of ``secret`` with a timestamp within 300 s of ``now``."""
    event_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (event_id and stamp.isascii() and stamp.isdigit() and signatures):
        return False
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        return False
    try:
        expected = Webhook(secret).sign(event_id, datetime.fromtimestamp(int(stamp), now.tzinfo), body.decode())
    except (ValueError, UnicodeDecodeError, WebhookVerificationError):
        return False
    wanted = expected.split(",", 1)[1]
    return any(
        hmac.compare_digest(part.split(",", 1)[1], wanted) for part in signatures.split() if part.startswith("v1,")
    )

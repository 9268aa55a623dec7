"""Signed requests, the pure part (contract section 1): the string that is signed, the signature, the window.

``signature = lowercase hex HMAC-SHA256(key, client_code + timestamp + METHOD + path + raw_body)``, the
concatenation of UTF-8 strings and the body's bytes with no separators; ``path`` carries the query string exactly
as sent."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

WINDOW = timedelta(seconds=300)
"""How far a request's timestamp may be from our clock, either way; also how long a signature is remembered."""
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that must carry an ``Idempotency-Key``."""

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


def signing_string(client_code: str, timestamp: str, method: str, path: str | bytes, body: bytes) -> bytes:
    raw_path = path if isinstance(path, bytes) else path.encode()
    return client_code.encode() + timestamp.encode() + method.upper().encode() + raw_path + body


def sign(key: bytes, client_code: str, timestamp: str, method: str, path: str | bytes, body: bytes) -> str:
    """What the partner sends in the ``signature`` header (and what we compute to compare with it)."""
    message = signing_string(client_code, timestamp, method, path, body)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def well_formed_signature(value: str) -> bool:
    return bool(_SIGNATURE.match(value))


def parse_timestamp(value: str) -> int | None:
    """Whole Unix seconds as decimal digits, or None."""
    return int(value) if _TIMESTAMP.match(value) else None


def fresh(timestamp: int, now: datetime) -> bool:
    return abs(now.timestamp() - timestamp) <= WINDOW.total_seconds()


def matches(expected: str, sent: str) -> bool:
    """Constant-time comparison of two lowercase hex signatures."""
    return hmac.compare_digest(expected.encode(), sent.encode())

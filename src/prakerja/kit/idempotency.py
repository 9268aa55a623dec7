"""HTTP idempotency keys, the pure part: what a key may look like and what makes two requests "the same".

Semantics (docs/partner-api.md section 2, reused by internal money-moving endpoints): same key from the same
credential with the same method, path and body within 24 hours -> the first response again, with header
``Idempotent-Replayed: true``; a different request -> 422 ``idempotency_key_mismatch``; the first one still
running -> 409 ``idempotency_key_in_use``."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def valid_key(key: str | None) -> bool:
    return key is not None and bool(_KEY.match(key))


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    """SHA-256 over the method, the path and the raw body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def lock_id(scope: str, key: str) -> int:
    """A signed 64-bit number for PostgreSQL's advisory lock on (scope, key)."""
    raw = hashlib.sha256(f"idempotency\x00{scope}\x00{key}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)

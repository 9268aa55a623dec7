"""The hash chain: pure functions, so any auditor can recompute it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import rfc8785

GENESIS = b"\x00" * 32


def canonical(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: str | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str,
    data: dict[str, Any],
    request_id: str | None,
) -> bytes:
    return rfc8785.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_role": actor_role,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "reason": reason,
            "data": data,
            "request_id": request_id,
        }
    )


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    return hashlib.sha256(prev_hash + body).digest()

"""The hash chain: pure functions, so any auditor can recompute it.

Two link formulas, told apart by the row's ``body_digest`` (docs/adr/0012):

- entries written before migration 0021: ``hash = SHA-256(prev_hash || canonical(row with seq))``;
- entries written since: ``body_digest = SHA-256(canonical(row without seq))`` when the row is written, and at
  commit ``hash = SHA-256(prev_hash || seq as 8 bytes big-endian || body_digest)`` (computed by PostgreSQL's
  ``prakerja_audit_link`` trigger; :func:`linked_hash` is the same formula).
"""

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
    """The canonical form hashed by the first formula (entries from before 0021)."""
    return rfc8785.dumps(
        {
            "seq": seq,
            **_content(occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data, request_id),
        }
    )


def content_digest(
    *,
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
    """SHA-256 of the canonical form of an entry's content (everything but its place in the chain)."""
    return hashlib.sha256(
        rfc8785.dumps(
            _content(occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data, request_id)
        )
    ).digest()


def _content(
    occurred_at: datetime,
    actor_id: str | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str,
    data: dict[str, Any],
    request_id: str | None,
) -> dict[str, Any]:
    return {
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


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    """The first formula's link."""
    return hashlib.sha256(prev_hash + body).digest()


def linked_hash(prev_hash: bytes, seq: int, digest: bytes) -> bytes:
    """The link since 0021 (the same as the database trigger computes)."""
    return hashlib.sha256(prev_hash + seq.to_bytes(8, "big", signed=True) + digest).digest()

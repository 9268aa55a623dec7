"""The hash chain: pure functions, so any auditor can recompute it.

Two link formulas, told apart by the row's ``body_digest`` (docs/adr/0012):

- entries written before migration 0021: ``hash = SHA-256(prev_hash || canonical(row with seq))``;
- entries written since: ``body_digest = SHA-256(canonical(row without seq))`` when the row is written, and at
  commit ``hash = SHA-256(prev_hash || seq as 8 bytes big-endian || body_digest)`` (computed by PostgreSQL's
  ``prakerja_audit_link`` trigger; :func:`linked_hash` is the same formula).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import rfc8785

GENESIS = b"\x00" * 32

FAST_CANONICAL = True
"""False: every canonical form through ``rfc8785.dumps`` (``benchmarks/partner_asgi.py --ab`` compares the two)."""

_SAFE_INT = 2**53 - 1
"""RFC 8785 numbers are IEEE doubles: ``rfc8785`` refuses integers past this (``IntegerDomainError``)."""
_LAST_BMP = "\uffff"
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")).encode


def _plain(value: Any) -> bool:
    """Whether ``json.dumps`` writes ``value`` exactly as RFC 8785 does (ADR 0042): only ``str``, ``int`` within
    +-(2**53 - 1), ``bool``, ``None``, and ``dict`` (keys ``str`` with no character past the BMP, so that code-point
    order, ``sort_keys``', is UTF-16 code-unit order, RFC 8785's) and ``list``/``tuple`` of them; exact types only (a
    float, a subclass such as an enum, anything else: False). Strings are escaped the same by both (the two-character
    escapes, ``\\u00xx`` in lower case for the other control characters, everything else as itself)."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key, default="") <= _LAST_BMP):
                return False
            if not _plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """``rfc8785.dumps(value)``, through the C JSON encoder when the output is provably the same (:func:`_plain`;
    a lone surrogate, which UTF-8 cannot hold, goes to ``rfc8785`` too, which refuses it as before)."""
    if FAST_CANONICAL and _plain(value):
        try:
            return _dumps(value).encode("utf-8")
        except UnicodeEncodeError:
            pass
    return rfc8785.dumps(value)


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
    return canonical_json(
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
        canonical_json(
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

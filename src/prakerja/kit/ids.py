"""Sortable identifiers: UUIDv7 (time-ordered, so B-tree inserts stay local)."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np

_last_ms = 0
_RANDOM = (1 << 76) - 1
_VARIANT_AND_VERSION_CLEARED = ~((0xF000 << 64) | (0xC000 << 48))
_VARIANT_AND_VERSION = (0x7000 << 64) | (0x8000 << 48)
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _uuid7_int() -> int:
    """What ``uuid6.uuid7()`` makes (ADR 0041), as an integer: the Unix time in milliseconds, one more than the last
    one given when the clock has not moved on (ids made by this process stay in the order they were made), then 74
    random bits from ``os.urandom`` around the version (7) and the RFC 9562 variant, set as ``uuid6.UUID(int=...,
    version=7)`` sets them."""
    global _last_ms
    ms = time.time_ns() // 1_000_000
    if ms <= _last_ms:
        ms = _last_ms + 1
    _last_ms = ms
    value = (ms & 0xFFFFFFFFFFFF) << 80 | int.from_bytes(os.urandom(10), "big") & _RANDOM
    return value & _VARIANT_AND_VERSION_CLEARED | _VARIANT_AND_VERSION


def new_id() -> uuid.UUID:
    """A new UUIDv7 as a plain ``uuid.UUID``, built without ``UUID.__init__``'s argument checks (the value is made
    valid above): ~1.3 us instead of ~3.5 (a confirmation makes a dozen)."""
    value = _new(uuid.UUID)
    _set(value, "int", _uuid7_int())
    _set(value, "is_safe", _UNKNOWN)
    return value


def new_id_bytes() -> bytes:
    """:func:`new_id`'s 16 bytes, for binary COPY rows (no ``UUID`` object)."""
    return _uuid7_int().to_bytes(16, "big")


def new_id_block(count: int) -> list[bytes]:
    """``count`` new UUIDv7s as 16-byte values, in ascending order, made in one vectorised pass (bulk imports).
    All share this millisecond; the other 74 bits are random (``os.urandom``), as :func:`new_id`'s are."""
    if count <= 0:
        return []
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, :6] = np.frombuffer((time.time_ns() // 1_000_000).to_bytes(6, "big"), dtype=np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)  # version 7
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)  # RFC 9562 variant
    words = raw.view(">u8")
    raw = raw[np.lexsort((words[:, 1], words[:, 0]))]
    flat = raw.tobytes()
    return [flat[i : i + 16] for i in range(0, len(flat), 16)]


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None

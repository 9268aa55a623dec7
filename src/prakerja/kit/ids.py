"""Sortable identifiers: UUIDv7 (time-ordered, so B-tree inserts stay local)."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np

_last_ms = 0
"""The millisecond of the last id made (ids made faster than one a millisecond take the next ones)."""


def _uuid7() -> int:
    """A UUIDv7 as an integer, as the ``uuid6`` package's ``uuid7()`` makes it (which :func:`new_id` used before):
    the Unix time in milliseconds, moved one past the previous id's when it would not be later, so ids made in one
    process sort in the order they were made; the version (7) and the RFC 9562 variant; 74 random bits."""
    global _last_ms
    ms = time.time_ns() // 1_000_000
    if ms <= _last_ms:
        ms = _last_ms + 1
    _last_ms = ms
    random = int.from_bytes(os.urandom(10))  # 80 bits: 12 for rand_a, 62 for rand_b
    return (
        (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (random >> 68) << 64 | 0b10 << 62 | random & 0x3FFF_FFFF_FFFF_FFFF
    )


def new_id() -> uuid.UUID:
    return uuid.UUID(int=_uuid7())


def new_id_bytes() -> bytes:
    """:func:`new_id`'s 16 bytes, for binary COPY rows (no ``UUID`` object)."""
    return _uuid7().to_bytes(16)


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

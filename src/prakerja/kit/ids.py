"""Sortable identifiers: UUIDv7 (time-ordered, so B-tree inserts stay local)."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np

_last = 0
"""The millisecond and counter (``ms << 12 | counter``) of the last id this process made."""
_RAND_B = (1 << 62) - 1
_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _uuid7_int() -> int:
    """A UUIDv7 (RFC 9562) as an integer, monotonic in this process by the RFC's "fixed bit-length dedicated
    counter" (section 6.2, method 1): the Unix time in milliseconds (48 bits), the version (7), a 12-bit counter in
    ``rand_a`` seeded with 11 random bits at each new millisecond (so at least 2,048 ids a millisecond before it
    carries into the next one), the variant, and 62 random bits from ``os.urandom`` in ``rand_b``.

    ``uuid6.uuid7()``, used before, moved the millisecond one ahead for every id made within the same one: ids made
    faster than one a millisecond (a burst of 100,000 took ~0.2 s) carried times up to ~100 s in the future."""
    global _last
    random = int.from_bytes(os.urandom(10), "big")  # 80 bits: 11 to seed the counter, 62 for rand_b
    ms = time.time_ns() // 1_000_000
    # the same millisecond as the last id (or a clock stepped back): count on from it; else a newly seeded counter
    stamp = _last + 1 if ms <= _last >> 12 else ms << 12 | random >> 69
    _last = stamp
    return (stamp >> 12 & 0xFFFF_FFFF_FFFF) << 80 | _VERSION | (stamp & 0xFFF) << 64 | _VARIANT | random & _RAND_B


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

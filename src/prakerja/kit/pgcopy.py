"""PostgreSQL binary COPY framing and bulk UUID text, for paths that write or hash many rows at once.

Binary COPY (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): a signature, rows of
``int16 field count`` then ``int32 length`` + bytes per field (big-endian), and a trailer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
"""Start of a binary COPY stream: signature, no flags, no header extension."""
TRAILER = b"\xff\xff"
"""End of a binary COPY stream."""

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)
_GROUPS = ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20))
"""(start, end) in the 36-character text and the start in the 32 hex digits, per group of a UUID."""


def uuid_bytes(values: Sequence[int]) -> npt.NDArray[np.uint8]:
    """UUIDs given as ``uuid.UUID.int`` -> an ``(n, 16)`` array of their big-endian bytes (the wire form)."""
    raw = b"".join([v.to_bytes(16) for v in values])
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 16)


def uuid_texts(raw: npt.NDArray[np.uint8]) -> list[str]:
    """An ``(n, 16)`` array of UUID bytes -> their canonical texts (``str(uuid.UUID(...))``), in one vectorised
    pass instead of one Python formatting call per value."""
    n = raw.shape[0]
    if n == 0:
        return []
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    text = np.empty((n, 37), dtype=np.uint8)
    text[:, 36] = ord("\n")
    for column in _DASHES:
        text[:, column] = ord("-")
    for start, end, first in _GROUPS:
        text[:, start:end] = digits[:, first : first + end - start]
    return text.tobytes().decode("ascii").splitlines()

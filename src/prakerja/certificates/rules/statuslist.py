"""W3C Bitstring Status List v1.0: a list of at least 131,072 bits (16 KiB), GZIP-compressed and multibase
base64url-encoded (``u...``); bit 0 is the most significant bit of the first byte."""

from __future__ import annotations

import base64
import gzip
import io
from collections.abc import Iterable

LIST_BITS = 131_072
"""Entries per list: the specification's minimum, so a list does not reveal how many certificates exist."""

MAX_EXPANDED = 16 * 1024 * 1024


class StatusListError(ValueError):
    """The encoded list cannot be read."""


def locate(global_index: int) -> tuple[int, int]:
    """Global allocation number -> (list number starting at 1, index inside that list)."""
    if global_index < 0:
        raise ValueError("status indexes are not negative")
    return global_index // LIST_BITS + 1, global_index % LIST_BITS


def encode(set_bits: Iterable[int], size: int = LIST_BITS) -> str:
    bits = bytearray(size // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise ValueError("index outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url (u...)")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as handle:
            data = handle.read(MAX_EXPANDED + 1)
    except (ValueError, OSError, EOFError):
        raise StatusListError("encodedList is not GZIP data in base64url") from None
    if len(data) > MAX_EXPANDED or len(data) * 8 < LIST_BITS:
        raise StatusListError("the status list is smaller than 131,072 entries or too large")
    return data


def is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError("the status index lies outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))

"""Sortable identifiers: UUIDv7 (time-ordered, so B-tree inserts stay local)."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def new_id_bytes() -> bytes:
    """:func:`new_id`'s 16 bytes, for binary COPY rows (no ``UUID`` object)."""
    return uuid6.uuid7().bytes


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None

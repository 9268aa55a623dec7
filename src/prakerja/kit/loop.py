"""Reading on a loop connection (``db.on_loop``, ADR 0014) in as few round trips as possible.

A ``*_on_loop`` read sends its statement and returns a :data:`Later`: awaiting ``later()`` reads the answer. In
psycopg's pipeline mode (``async with conn.pipeline():``) the statements of several domains sent before the first
answer is read travel together and cost one round trip; outside it each answer is already there. Writes that read
nothing back send their statement and return."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

T = TypeVar("T")

Later: TypeAlias = Callable[[], Awaitable[T]]
"""An answer sent for and not yet read."""

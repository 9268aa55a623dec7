"""Reading on a loop connection (``db.on_loop``, ADR 0014, 0028).

A ``*_on_loop`` read that other domains combine returns a :data:`Later`: awaiting ``later()`` gives the answer
(already read: asyncpg, the loop connections' driver, has no pipeline for different statements, so each statement
is its own round trip and a caller's reads are sequential awaits). The shape lets a caller send its reads first and
use their answers after, as it did when the reads travelled together in psycopg's pipeline mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

T = TypeVar("T")

Later: TypeAlias = Callable[[], Awaitable[T]]
"""An answer asked for, read by awaiting it."""


def ready(value: T) -> Later[T]:
    """A :data:`Later` for an answer already read."""

    async def later() -> T:
        return value

    return later

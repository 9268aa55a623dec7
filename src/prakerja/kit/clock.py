"""The injected clock. Nothing else calls ``datetime.now``: deadlines are testable without sleeping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


class Clock:
    """System time, unless frozen (tests, demos, replays)."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        # one read of one attribute is atomic: no lock (the writers below hold it among themselves)
        frozen = self._frozen
        return frozen if frozen is not None else datetime.now(UTC)

    def today_jakarta(self) -> datetime:
        return self.now().astimezone(JAKARTA)

    def freeze(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("clock times must be timezone-aware")
        with self._lock:
            self._frozen = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is None:
                raise RuntimeError("advance() needs a frozen clock")
            self._frozen += delta

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None

    @contextmanager
    def frozen(self, at: datetime) -> Iterator[Clock]:
        previous = self._frozen
        self.freeze(at)
        try:
            yield self
        finally:
            with self._lock:
                self._frozen = previous


clock = Clock()
"""The process-wide clock every service reads."""


def utcnow() -> datetime:
    return clock.now()

"""Wall-clock time per phase of a commitment or a draw, for the benchmark's per-phase table. Costs nothing unless
someone records (``with recording() as seconds: ...``); phases of the same name add up, and a phase entered inside
another counts only once (the outer phase keeps its own time, without the inner one's).

The lottery package itself carries no timers: selection's service times its calls from here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter

_current: ContextVar[dict[str, float] | None] = ContextVar("selection_phases", default=None)
_nested: ContextVar[list[float] | None] = ContextVar("selection_nested_phases", default=None)


@contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Collects the seconds spent in each :func:`phase` entered inside the block."""
    seconds: dict[str, float] = {}
    token = _current.set(seconds)
    try:
        yield seconds
    finally:
        _current.reset(token)


@contextmanager
def phase(name: str) -> Iterator[None]:
    seconds = _current.get()
    if seconds is None:
        yield
        return
    inner = [0.0]
    outer = _nested.get()
    token = _nested.set(inner)
    started = perf_counter()
    try:
        yield
    finally:
        elapsed = perf_counter() - started
        _nested.reset(token)
        if outer is not None:
            outer[0] += elapsed
        seconds[name] = seconds.get(name, 0.0) + elapsed - inner[0]

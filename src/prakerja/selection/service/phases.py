"""Time per phase of a commitment or a draw, for the benchmark's per-phase table. Costs nothing unless someone
records (``with recording() as seconds: ...``); phases of the same name add up, and a phase entered inside another
counts only once (the outer phase keeps its own time, without the inner one's).

Each phase's span (start and end on the wall clock) is kept too (``seconds.spans``): the benchmark lays them over a
timeline of every process's CPU to show which process worked, and on how many cores, in each phase.

Besides the wall clock, a recording may be given other counters (``recording({"ours_user": ..., ...})``, each a
function returning a running total, e.g. CPU seconds read from ``/proc``): each phase then also gets its share of
each counter, by the same rules, in ``seconds.usage[phase][counter]``.

The lottery package itself carries no timers: selection's service times its calls from here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter


class Phases(dict[str, float]):
    """Seconds per phase, and (with counters) each counter's share per phase in :attr:`usage`."""

    def __init__(self, counters: Mapping[str, Callable[[], float]]) -> None:
        super().__init__()
        self.counters = dict(counters)
        self.usage: dict[str, dict[str, float]] = {}
        self.spans: list[tuple[str, float, float]] = []
        """Every phase entered, as (name, start, end) on the ``perf_counter`` clock, for a timeline of who worked
        when (a nested phase's span lies inside its outer phase's)."""

    def read(self) -> list[float]:
        return [perf_counter(), *(counter() for counter in self.counters.values())]


_current: ContextVar[Phases | None] = ContextVar("selection_phases", default=None)
_nested: ContextVar[list[float] | None] = ContextVar("selection_nested_phases", default=None)


@contextmanager
def recording(counters: Mapping[str, Callable[[], float]] | None = None) -> Iterator[Phases]:
    """Collects the seconds (and the counters' shares) spent in each :func:`phase` entered inside the block."""
    seconds = Phases(counters or {})
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
    inner = [0.0] * (1 + len(seconds.counters))
    outer = _nested.get()
    token = _nested.set(inner)
    started = seconds.read()
    try:
        yield
    finally:
        spent = [after - before for after, before in zip(seconds.read(), started, strict=True)]
        _nested.reset(token)
        if outer is not None:
            for i, value in enumerate(spent):
                outer[i] += value
        seconds[name] = seconds.get(name, 0.0) + spent[0] - inner[0]
        seconds.spans.append((name, started[0], started[0] + spent[0]))
        if seconds.counters:
            usage = seconds.usage.setdefault(name, dict.fromkeys(seconds.counters, 0.0))
            for i, counter in enumerate(seconds.counters, start=1):
                usage[counter] += spent[i] - inner[i]

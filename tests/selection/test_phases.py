"""The benchmark's phase timers (selection's service, not the lottery): nothing recorded outside ``recording``; a
phase inside another counts once. A fake counter stands in for the wall clock."""

from __future__ import annotations

import itertools

import pytest

from prakerja.selection.service import phases


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr(phases, "perf_counter", lambda: float(next(counter)))


def test_nothing_is_recorded_outside_a_recording(ticks: None) -> None:
    with phases.phase("alone"):
        pass
    with phases.recording() as seconds:
        pass
    assert seconds == {}


def test_a_nested_phase_is_not_counted_twice(ticks: None) -> None:
    with phases.recording() as seconds, phases.phase("outer"):  # outer starts at 0
        with phases.phase("inner"):  # 1 -> 2
            pass
        with phases.phase("inner"):  # 3 -> 4
            pass
    # outer ends at 5: 5 seconds in all, 2 of them inside the inner phases
    assert seconds == {"inner": 2.0, "outer": 3.0}


def test_counters_are_shared_out_like_the_seconds(ticks: None) -> None:
    cpu = itertools.count(0, 10)  # a second counter, read once per reading of the clock
    with (
        phases.recording({"cpu": lambda: float(next(cpu))}) as seconds,
        phases.phase("outer"),  # cpu 0
        phases.phase("inner"),  # cpu 10 -> 20
    ):
        pass
    # outer ends at cpu 30: 30 in all, 10 of them inside the inner phase
    assert seconds == {"inner": 1.0, "outer": 2.0}
    assert seconds.usage == {"inner": {"cpu": 10.0}, "outer": {"cpu": 20.0}}

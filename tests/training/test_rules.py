"""The marketplace's pure rules, as tables: masking, the redeem window, the order of completion refusals, what
goes to review, refund shares, commissions, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prakerja.training import rules
from prakerja.training.rules import SessionFacts

T = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("Ni Made Dewi", "Ni M**e D**i"), ("Budi", "B**i"), ("Ani", "A*i"), ("Yo", "Yo"), ("", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert rules.mask_name(name) == masked


def test_mask_card() -> None:
    assert rules.mask_card("5123456789011234") == "**** **** **** 1234"


@pytest.mark.parametrize(
    ("offset", "inside"),
    [
        (timedelta(hours=-1, seconds=-1), False),
        (timedelta(hours=-1), True),
        (timedelta(0), True),
        (timedelta(hours=1), True),
        (timedelta(hours=1, seconds=1), False),
    ],
)
def test_redeem_window_edges(offset: timedelta, inside: bool) -> None:
    assert rules.within_window(T, T + offset) is inside


def session(n: int, attended: datetime | None, cancelled: bool = False) -> SessionFacts:
    return SessionFacts(str(n), T + timedelta(days=n), 180, cancelled, attended)


ALL = [session(n, T + timedelta(days=n)) for n in range(3)]
END = T + timedelta(days=2, minutes=180)
NOW = END + timedelta(days=1)


@pytest.mark.parametrize(
    ("exists", "sessions", "completed_at", "expected"),
    [
        (True, [session(0, None)], NOW + timedelta(days=1), "completion_exists"),
        (False, [session(0, None), *ALL[1:]], NOW + timedelta(days=1), "attendance_missing"),
        (False, [*ALL[:2], session(2, None, cancelled=True)], T + timedelta(days=1, minutes=180), None),
        (False, ALL, NOW + timedelta(seconds=1), "completion_too_early"),
        (False, ALL, END - timedelta(seconds=1), "completion_too_early"),
        (False, ALL, END, None),
    ],
)
def test_completion_refusals_in_order(
    exists: bool, sessions: list[SessionFacts], completed_at: datetime, expected: str | None
) -> None:
    found = rules.completion_refusal(
        exists=exists, sessions=sessions, completed_at=completed_at, now=NOW, self_paced=False, redeemed_at=T, hours=15
    )
    assert found == expected


@pytest.mark.parametrize(
    ("completed_hours_after_redemption", "expected"), [(14.99, "completion_too_early"), (15, None)]
)
def test_self_paced_needs_its_hours(completed_hours_after_redemption: float, expected: str | None) -> None:
    found = rules.completion_refusal(
        exists=False,
        sessions=[],
        completed_at=T + timedelta(hours=completed_hours_after_redemption),
        now=T + timedelta(days=5),
        self_paced=True,
        redeemed_at=T,
        hours=15,
    )
    assert found == expected


def review(**overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "sessions": ALL,
        "completed_at": NOW,
        "recent_from_institution": 0,
        "recent_scores": [70, 80],
        "score": 90,
        "proofs_failed": 0,
    }
    arguments.update(overrides)
    return rules.review_reasons(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({}, []),
        ({"recent_from_institution": rules.BURST_COUNT - 2}, []),
        ({"recent_from_institution": rules.BURST_COUNT - 1}, ["burst"]),
        ({"sessions": [session(n, T + timedelta(seconds=10 * n)) for n in range(3)]}, ["commits_together"]),
        ({"completed_at": T + timedelta(days=1)}, ["attended_after_completion"]),
        ({"proofs_failed": 1}, ["attendance_proof_failed"]),
        ({"recent_scores": [90] * (rules.SCORE_PATTERN - 1)}, ["score_pattern"]),
        ({"recent_scores": [90] * (rules.SCORE_PATTERN - 2)}, []),
    ],
)
def test_what_goes_to_review(overrides: dict[str, object], reasons: list[str]) -> None:
    assert review(**overrides) == reasons


@pytest.mark.parametrize(
    ("amount", "minutes", "total", "refunded", "share"),
    [(950_000, 180, 900, 0, 190_000), (1_000, 1, 3, 0, 333), (100, 90, 100, 50, 49), (100, 0, 100, 0, 0)],
)
def test_session_share(amount: int, minutes: int, total: int, refunded: int, share: int) -> None:
    assert rules.session_share(amount, minutes, total, refunded) == share


def test_commission_rounds_down() -> None:
    assert rules.commission(950_000, 750) == 71_250 and rules.commission(999, 1) == 0


@pytest.mark.parametrize(("province", "label"), [(None, "WIB"), ("31", "WIB"), ("51", "WITA"), ("94", "WIT")])
def test_time_zone_of_a_venue(province: str | None, label: str) -> None:
    assert rules.zone_of(province)[1] == label

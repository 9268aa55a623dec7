"""The pure incentive plan, as a table a policy officer can read and as a property over any scheme and facts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.payouts import rules

TODAY = date(2026, 3, 2)
READY = rules.IncentiveFacts(date(2026, 3, 1), certificate=True, rating=True, review=True, account="active")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"certificate": False, "rating": False}, "no_certificate"),
        ({"rating": False}, "no_rating"),
        ({"review": False}, "no_review"),
        ({"account": "none"}, "no_account"),
        ({"account": "nik_mismatch"}, "nik_mismatch"),
        ({"account": "ewallet_not_kyc"}, "ewallet_not_kyc"),
        ({"account": "account_inactive"}, "account_rejected"),
        ({"account": "otp_failed"}, "account_rejected"),
        ({}, None),
    ],
)
def test_the_first_missing_condition_is_the_reason(changes: dict[str, object], reason: str | None) -> None:
    facts = rules.IncentiveFacts(**{**READY.__dict__, **changes})  # type: ignore[arg-type]
    assert rules.incentive_block(facts) == reason


def test_semi_bansos_schedule() -> None:
    plan = rules.incentive_plan(amount=600_000, count=4, interval_days=30, facts=READY, today=TODAY)
    assert [(p.instalment, p.due_on) for p in plan] == [
        (1, TODAY),
        (2, TODAY + timedelta(days=30)),
        (3, TODAY + timedelta(days=60)),
        (4, TODAY + timedelta(days=90)),
    ]


@given(
    amount=st.integers(min_value=1, max_value=10_000_000),
    count=st.integers(min_value=1, max_value=12),
    interval=st.integers(min_value=0, max_value=90),
    completed=st.booleans(),
    certificate=st.booleans(),
    rating=st.booleans(),
    review=st.booleans(),
    account=st.sampled_from(["active", "none", "nik_mismatch", "ewallet_not_kyc", "account_inactive"]),
)
def test_plan_property(
    amount: int,
    count: int,
    interval: int,
    completed: bool,
    certificate: bool,
    rating: bool,
    review: bool,
    account: str,
) -> None:
    facts = rules.IncentiveFacts(
        date(2026, 1, 5) if completed else None, certificate=certificate, rating=rating, review=review, account=account
    )
    plan = rules.incentive_plan(amount=amount, count=count, interval_days=interval, facts=facts, today=TODAY)
    if not completed:
        assert plan == []
        return
    assert len(plan) == count
    assert [p.instalment for p in plan] == list(range(1, count + 1))
    assert sum(p.amount for p in plan) == count * amount
    ready = certificate and rating and review and account == "active"
    assert all((p.blocked_reason is None) == ready for p in plan)
    assert all((p.due_on is not None) == ready for p in plan)
    assert all(p.blocked_reason in (None, *rules.BLOCKED_REASONS) for p in plan)


@pytest.mark.parametrize(
    ("kind", "typed", "normal"),
    [
        ("ewallet", "+6281234567890", "081234567890"),
        ("ewallet", "0812-3456-7890", "081234567890"),
        ("ewallet", "12345", None),
        ("bank", "0011 2233 44", "0011223344"),
        ("bank", "１２３４５６７", None),
        ("bank", "12ab5678", None),
    ],
)
def test_numbers(kind: str, typed: str, normal: str | None) -> None:
    assert rules.normal_number(kind, typed) == normal

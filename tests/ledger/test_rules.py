"""Pure rules: amounts, the effect of transfers on totals, balances, the chain, expiry dates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from prakerja.ledger import rules
from prakerja.ledger.errors import AmountInvalid, InsufficientFunds, ReferenceInvalid
from prakerja.ledger.models import GENESIS, TransferMode


@pytest.mark.parametrize("value", [1, 3_500_000, 2**62])
def test_valid_amounts(value: int) -> None:
    assert rules.validate_amount(value) == value


@pytest.mark.parametrize("value", [0, -1, 1.5, 1.0, "100", True, None, [], 2**62 + 1, "1e3"])
def test_invalid_amounts(value: object) -> None:
    with pytest.raises(AmountInvalid) as caught:
        rules.validate_amount(value)
    assert caught.value.code == "amount_invalid" and caught.value.status_code == 422


def test_reference_may_not_contain_the_separator() -> None:
    with pytest.raises(ReferenceInvalid):
        rules.validate_reference("purchase", "a|b")


def _state(*, debits_flag: bool = True, credits: int = 0) -> rules.AccountState:
    return rules.AccountState(
        id=uuid.uuid4(),
        ledger=1,
        debits_must_not_exceed_credits=debits_flag,
        credits_must_not_exceed_debits=False,
        closed=False,
        credits_posted=credits,
    )


class TestApply:
    def test_posted_moves_posted_totals(self) -> None:
        debit, credit = _state(credits=100), _state()
        rules.apply(debit, credit, TransferMode.posted, 60)
        assert (debit.debits_posted, credit.credits_posted) == (60, 60)

    def test_pending_then_partial_post_releases_the_whole_reservation(self) -> None:
        debit, credit = _state(credits=100), _state()
        rules.apply(debit, credit, TransferMode.pending, 80)
        assert debit.debits_pending == 80
        rules.apply(debit, credit, TransferMode.post_pending, 50, pending_amount=80)
        assert (debit.debits_pending, debit.debits_posted, credit.credits_pending, credit.credits_posted) == (
            0,
            50,
            0,
            50,
        )

    def test_void_releases(self) -> None:
        debit, credit = _state(credits=100), _state()
        rules.apply(debit, credit, TransferMode.pending, 80)
        rules.apply(debit, credit, TransferMode.void_pending, 80, pending_amount=80)
        assert debit.debits_pending == 0 and debit.debits_posted == 0

    def test_overdraft_refused_counting_pending(self) -> None:
        debit, credit = _state(credits=100), _state()
        rules.apply(debit, credit, TransferMode.pending, 80)
        with pytest.raises(InsufficientFunds):
            rules.apply(debit, credit, TransferMode.posted, 21)

    def test_unflagged_account_may_go_negative(self) -> None:
        debit, credit = _state(debits_flag=False), _state()
        rules.apply(debit, credit, TransferMode.posted, 10)
        assert debit.debits_posted == 10


@pytest.mark.parametrize(
    ("debits_flag", "credits_flag", "dpo", "cpo", "dp", "cp", "expected"),
    [
        (True, False, 300, 1000, 200, 0, (700, 500)),
        (False, True, 1000, 300, 0, 100, (700, 600)),
        (False, False, 500, 0, 0, 0, (-500, -500)),
    ],
)
def test_balance(
    debits_flag: bool, credits_flag: bool, dpo: int, cpo: int, dp: int, cp: int, expected: tuple[int, int]
) -> None:
    assert (
        rules.balance(
            debits_must_not_exceed_credits=debits_flag,
            credits_must_not_exceed_debits=credits_flag,
            debits_posted=dpo,
            credits_posted=cpo,
            debits_pending=dp,
            credits_pending=cp,
        )
        == expected
    )


def test_canonical_and_chain_are_deterministic_and_sensitive() -> None:
    fields = {
        "id": uuid.UUID(int=1),
        "ledger": 1,
        "code": "fund",
        "mode": "posted",
        "debit_account_id": uuid.UUID(int=2),
        "credit_account_id": uuid.UUID(int=3),
        "amount": 100,
        "pending_id": None,
        "timeout_at": None,
        "ref_type": "",
        "ref_id": "",
        "created_at": datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    }
    body = rules.canonical(**fields)  # type: ignore[arg-type]
    assert body.endswith(b"|1767225600000001")
    first = rules.chain_hash(GENESIS, GENESIS, body)
    assert first == rules.chain_hash(GENESIS, GENESIS, rules.canonical(**fields))  # type: ignore[arg-type]
    assert first != rules.chain_hash(GENESIS, GENESIS, rules.canonical(**{**fields, "amount": 101}))  # type: ignore[arg-type]
    assert first != rules.chain_hash(first, GENESIS, body)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 12, 14, 16, 59, tzinfo=UTC), False),  # 14 Dec 23:59 in Jakarta
        (datetime(2026, 12, 14, 17, 0, tzinfo=UTC), True),  # 15 Dec 00:00 in Jakarta
        (datetime(2027, 3, 1, tzinfo=UTC), True),
    ],
)
def test_expiry_on_15_december_jakarta_time(now: datetime, due: bool) -> None:
    assert rules.expiry_due(now, 2026, 12, 15) is due


def test_system_ids_are_stable() -> None:
    assert rules.system_id("expire", 1) == rules.system_id("expire", 1) != rules.system_id("expire", 2)

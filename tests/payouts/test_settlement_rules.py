"""Provider settlement's pure rules, as tables: periods, why a settlement is held back, why an organisation's account
is refused; and the simulated bank's holder-name check."""

from __future__ import annotations

from datetime import date

import pytest

from prakerja.payouts import rules
from prakerja.simulators.payments.app import same_name


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_a_period_is_a_calendar_month(period: str, start: date, end: date) -> None:
    assert rules.period_start(period) == start and rules.period_end(start) == end


@pytest.mark.parametrize("period", ["2026-3", "2026-13", "2026-00", "1999-12", "２０２６-03", "2026/03", "maret", ""])
def test_anything_else_is_not_a_period(period: str) -> None:
    assert rules.period_start(period) is None


def test_the_monthly_run_pays_the_month_before() -> None:
    assert rules.previous_period(date(2026, 4, 1)) == "2026-03"
    assert rules.previous_period(date(2027, 1, 15)) == "2026-12"


@pytest.mark.parametrize(
    ("account", "available", "owed", "reason"),
    [
        ("verified", 100, 100, None),
        ("verified", 99, 100, "payable_short"),
        ("none", 100, 100, "no_settlement_account"),
        ("rejected", 100, 100, "settlement_account_rejected"),
        ("none", 0, 100, "payable_short"),
    ],
)
def test_why_a_settlement_is_held_back(account: str, available: int, owed: int, reason: str | None) -> None:
    assert rules.settlement_block(account=account, payable_available=available, owed=owed) == reason
    assert reason is None or reason in rules.SETTLEMENT_REASONS


@pytest.mark.parametrize(
    ("status", "name_match", "failure"),
    [
        ("active", True, None),
        ("active", False, "name_mismatch"),
        ("inactive", True, "account_inactive"),
        ("not_found", False, "account_not_found"),
    ],
)
def test_why_an_organisations_account_is_refused(status: str, name_match: bool, failure: str | None) -> None:
    assert rules.settlement_account_failure(status=status, name_match=name_match) == failure
    assert failure is None or failure in rules.SETTLEMENT_REASONS


@pytest.mark.parametrize(
    ("held", "given", "same"),
    [
        ("PT Maju Jaya", "pt. maju  jaya", True),
        ("Lembaga Pelatihan Uji", "LEMBAGA PELATIHAN, UJI", True),
        ("PT Maju Jaya", "PT Maju Jaya Abadi", False),
        ("PT Maju Jaya", "", False),
    ],
)
def test_the_simulated_bank_compares_holder_names_word_by_word(held: str, given: str, same: bool) -> None:
    assert same_name(held, given) is same


def test_the_statement_reference_names_role_organisation_and_month() -> None:
    import uuid

    organisation = uuid.UUID("01a24adc-a427-711b-a0d2-2cca5a270162")
    ref = rules.statement_ref("institution", organisation, "2026-03")
    assert ref == "institution:01a24adc-a427-711b-a0d2-2cca5a270162:2026-03" and len(ref) <= 100

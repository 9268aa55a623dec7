"""The chi-square test with our own regularised gamma, and the fairness report."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.selection import rules


class TestGamma:
    @pytest.mark.parametrize(
        ("statistic", "df", "expected"),
        [
            (3.841458820694124, 1, 0.05),
            (6.634896601021214, 1, 0.01),
            (5.991464547107979, 2, 0.05),
            (18.307038053275146, 10, 0.05),
            (0.0, 3, 1.0),
            (124.342113404, 100, 0.05),
        ],
    )
    def test_known_critical_values(self, statistic: float, df: int, expected: float) -> None:
        assert rules.chi_square_sf(statistic, df) == pytest.approx(expected, rel=1e-6)

    def test_df_2_is_exponential(self) -> None:
        for x in (0.1, 1.0, 7.5, 40.0):
            assert rules.chi_square_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)

    @settings(deadline=None, max_examples=150)
    @given(
        statistic=st.floats(min_value=0, max_value=2000, allow_nan=False),
        df=st.integers(min_value=1, max_value=1500),
    )
    def test_matches_scipy_when_present(self, statistic: float, df: int) -> None:
        stats = pytest.importorskip("scipy.stats")
        assert rules.chi_square_sf(statistic, df) == pytest.approx(float(stats.chi2.sf(statistic, df)), abs=1e-9)

    def test_refuses_bad_arguments(self) -> None:
        with pytest.raises(ValueError):
            rules.chi_square_sf(1.0, 0)
        with pytest.raises(ValueError):
            rules.regularised_gamma_q(1.0, -1.0)


class TestIndependence:
    def test_balanced_table_is_zero(self) -> None:
        test = rules.independence({("3201", 0): [(100, 50), (100, 50), (100, 50), (100, 50)]})
        assert test.statistic == 0 and test.df == 3 and test.p_value == pytest.approx(1.0)

    def test_early_registrants_favoured_is_caught(self) -> None:
        test = rules.independence({("3201", 0): [(100, 90), (100, 60), (100, 30), (100, 20)]})
        assert test.p_value is not None and test.p_value < 1e-10

    def test_all_or_nothing_groups_carry_no_information(self) -> None:
        test = rules.independence({("a", 0): [(10, 10), (10, 10)], ("b", 0): [(10, 0), (10, 0)]})
        assert test.df == 0 and test.p_value is None

    def test_small_groups_skipped(self) -> None:
        test = rules.independence({("a", 0): [(2, 1), (2, 1)]})
        assert test.groups_skipped == 1 and test.df == 0


class TestReport:
    def test_all_pass(self) -> None:
        report = rules.fairness_report(
            quotas={"3201": 2, "3202": 5},
            eligible_per_stratum={"3201": 4, "3202": 3},
            selected_per_stratum={"3201": 2, "3202": 3},
            time_groups={},
            duplicate_people=0,
            already_recipients=0,
        )
        assert report.ok and report.failed() == []

    def test_each_failure_named(self) -> None:
        report = rules.fairness_report(
            quotas={"3201": 2},
            eligible_per_stratum={"3201": 4, "9999": 1},
            selected_per_stratum={"3201": 3, "9999": 1},
            time_groups={("3201", 0): [(100, 90), (100, 60), (100, 30), (100, 20)]},
            duplicate_people=1,
            already_recipients=0,
        )
        assert report.failed() == ["quota_filled", "independent_of_registration_time", "no_person_twice"]
        assert report.checks[0]["wrong"] == [
            {"stratum": "3201", "expected": 2, "selected": 3},
            {"stratum": "9999", "expected": 0, "selected": 1},
        ]


def test_transfer_id_is_stable_per_wave_and_entry() -> None:
    a = rules.funding_transfer_id("w1", "ab" * 32)
    assert a == rules.funding_transfer_id("w1", "ab" * 32) and a != rules.funding_transfer_id("w2", "ab" * 32)


def test_probability_parts() -> None:
    assert rules.probability_parts("1") == (1, 1)
    assert rules.probability_parts("0") == (0, 1)
    assert rules.probability_parts("2/4") == (2, 4)

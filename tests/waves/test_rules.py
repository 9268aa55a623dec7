"""Pure wave rules: quota files, formulas, validation, tiers, state moves."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.waves import rules
from prakerja.waves.models import StratumLevel, WaveState


class TestQuotaCsv:
    def test_reads_rows(self) -> None:
        table = rules.parse_quota_csv("stratum,quota\n3201,10\n3202,0\n")
        assert table.quotas == {"3201": 10, "3202": 0} and table.problems == []

    def test_every_bad_line_is_reported(self) -> None:
        table = rules.parse_quota_csv("stratum,quota\n3201,-5\n3202,abc\n3201,3\n3203\n")
        codes = [(p.code, p.line) for p in table.problems]
        assert codes == [("quota_negative", 2), ("quota_not_integer", 3), ("quota_bad_line", 5)]
        assert table.quotas == {"3201": 3}

    def test_duplicate_stratum(self) -> None:
        table = rules.parse_quota_csv("stratum,quota\n3201,1\n3201,2\n")
        assert [p.code for p in table.problems] == ["quota_duplicate"]

    def test_header_required(self) -> None:
        assert rules.parse_quota_csv("3201,1\n").problems[0].code == "quota_bad_header"


class TestValidate:
    def test_unknown_region_and_sum(self) -> None:
        problems = rules.validate_quotas(
            {"3201": 5, "9999": 5}, level=StratumLevel.regency, total=10, known=lambda c: c == "3201"
        )
        assert [(p.code, p.stratum) for p in problems] == [("quota_unknown_region", "9999")]

    def test_wrong_shape_is_unknown(self) -> None:
        problems = rules.validate_quotas({"32": 10}, level=StratumLevel.regency, total=10, known=None)
        assert problems[0].code == "quota_unknown_region"

    def test_negative(self) -> None:
        problems = rules.validate_quotas({"3201": -1}, level=StratumLevel.regency, total=-1, known=None)
        assert [p.code for p in problems] == ["quota_negative"]

    def test_sum_must_equal_total(self) -> None:
        problems = rules.validate_quotas({"3201": 4}, level=StratumLevel.regency, total=5, known=None)
        assert [p.code for p in problems] == ["quota_sum_mismatch"]

    def test_outside_the_waves_provinces(self) -> None:
        problems = rules.validate_quotas({"3201": 5}, level=StratumLevel.regency, total=5, known=None, provinces=["31"])
        assert [p.code for p in problems] == ["quota_outside_wave"]


class TestApportion:
    def test_largest_remainder(self) -> None:
        assert rules.apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}

    def test_proportional_to_applicants(self) -> None:
        assert rules.quotas_by_applicants(100, {"3201": 300, "3202": 100}) == {"3201": 75, "3202": 25}

    def test_labour_force_with_weights(self) -> None:
        weights, problems = rules.parse_labour_force_csv(
            "stratum,labour_force,weight\n3201,1000,1\n3202,1000,1.5\n3203,0,2\n"
        )
        assert problems == [] and weights["3202"] == Fraction(1500)
        assert rules.apportion(50, weights) == {"3201": 20, "3202": 30, "3203": 0}

    def test_all_zero(self) -> None:
        assert rules.apportion(7, {"a": 0}) == {"a": 0}

    @settings(deadline=None, max_examples=200)
    @given(
        total=st.integers(min_value=0, max_value=10_000),
        weights=st.dictionaries(
            st.from_regex(r"[1-9][0-9]{3}", fullmatch=True), st.integers(min_value=0, max_value=10**6), min_size=1
        ),
    )
    def test_sums_and_stays_within_one_of_the_exact_share(self, total: int, weights: dict[str, int]) -> None:
        result = rules.apportion(total, weights)
        whole = sum(weights.values())
        if whole == 0:
            assert set(result.values()) == {0}
            return
        assert sum(result.values()) == total
        for code, w in weights.items():
            assert abs(result[code] - Fraction(total * w, whole)) < 1


class TestTiers:
    tiers = rules.tiers_from_json(
        [{"name": "laid off", "whitelist_types": ["laid_off"]}, {"name": "poorest", "regencies": ["9101"]}]
    )

    @pytest.mark.parametrize(
        ("whitelist", "regency", "tier"),
        [({"laid_off"}, "3201", 0), ({"laid_off"}, "9101", 0), (set(), "9101", 1), (set(), "3201", 2)],
    )
    def test_first_match_wins(self, whitelist: set[str], regency: str, tier: int) -> None:
        assert rules.tier_of(self.tiers, whitelist, regency) == tier

    def test_no_tiers_everyone_zero(self) -> None:
        assert rules.tier_of([], {"laid_off"}, "3201") == 0


def test_states_move_one_step_forward() -> None:
    assert rules.can_move(WaveState.draft, WaveState.open)
    assert not rules.can_move(WaveState.open, WaveState.committed)
    assert not rules.can_move(WaveState.drawn, WaveState.committed)


def test_stratum_of() -> None:
    assert rules.stratum_of(StratumLevel.province, "3201") == "32"
    assert rules.stratum_of(StratumLevel.regency, "3201") == "3201"

"""The eligibility engine against the policy case tables (one CSV per scheme, one row per case), plus the
audit guarantees: every rule in every decision, and an inputs hash that is the same in any process."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prakerja.eligibility.rules import (
    LIST_TYPES,
    RULES,
    ApplicantFacts,
    EligibilityParams,
    age_on,
    canonical_inputs,
    evaluate,
)

HERE = Path(__file__).parent

SEMI_BANSOS = EligibilityParams(
    scheme_name="2020-semi-bansos",
    scheme_version="2020.1",
    age_min=18,
    age_max=None,
    kk_cap=2,
    exclude_other_aid=True,
)
"""2020-2022, waves 1-17: 18 and over with no upper limit, other aid excluded (2021-2022 rule), 2 per KK."""

NORMAL = EligibilityParams(
    scheme_name="2023-normal",
    scheme_version="2023.1",
    age_min=18,
    age_max=64,
    kk_cap=2,
    exclude_other_aid=False,
)
"""2023 on: 18-64, other aid allowed, 2 per KK."""

TABLES = {"cases_2020_semi_bansos.csv": SEMI_BANSOS, "cases_2023_normal.csv": NORMAL}

_YES_NO = {"yes": True, "no": False}


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _facts(row: dict[str, str]) -> ApplicantFacts:
    return ApplicantFacts(
        birth_date=date.fromisoformat(row["birth_date"]),
        wave_date=date.fromisoformat(row["wave_date"]),
        citizen=_YES_NO[row["citizen"]],
        is_student=_YES_NO[row["student"]],
        exclusion_lists=frozenset(_split(row["on_lists"])),
        kk_existing_recipients=int(row["kk_other_recipients"]),
        is_past_recipient=_YES_NO[row["past_recipient"]],
        is_revoked=_YES_NO[row["revoked"]],
    )


def _rows(filename: str) -> list[dict[str, str]]:
    with (HERE / filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _cases() -> list[Any]:
    cases = []
    for filename, params in TABLES.items():
        for row in _rows(filename):
            cases.append(pytest.param(row, params, id=f"{filename.removesuffix('.csv')}: {row['description']}"))
    return cases


@pytest.mark.parametrize(("row", "params"), _cases())
def test_case_table(row: dict[str, str], params: EligibilityParams) -> None:
    decision = evaluate(_facts(row), params)

    assert row["expected"] in ("eligible", "not eligible")
    assert decision.eligible is (row["expected"] == "eligible")
    assert decision.reason_codes == _split(row["failing_reasons"])


@pytest.mark.parametrize("filename", list(TABLES))
def test_tables_are_well_formed_and_cover_every_rule(filename: str) -> None:
    rows = _rows(filename)
    descriptions = [row["description"] for row in rows]
    assert len(descriptions) == len(set(descriptions)), "each case needs its own description"
    for row in rows:
        assert set(row.values()) - {""}, row
        assert set(_split(row["on_lists"])) <= LIST_TYPES, row["description"]

    failing = {code for row in rows for code in _split(row["failing_reasons"])}
    expected = {"age_below_min", "not_citizen", "student", "banned", "kk_cap_reached", "past_recipient", "revoked"}
    if TABLES[filename].age_max is not None:
        expected.add("age_above_max")
    if TABLES[filename].exclude_other_aid:
        expected.add("other_aid")
    assert expected <= failing
    on_lists = {name for row in rows for name in _split(row["on_lists"])}
    assert on_lists >= LIST_TYPES, f"list types without a case: {sorted(LIST_TYPES - on_lists)}"


FACTS = ApplicantFacts(
    birth_date=date(1990, 5, 10),
    wave_date=date(2023, 6, 1),
    citizen=True,
    is_student=False,
    exclusion_lists=frozenset(),
    kk_existing_recipients=0,
    is_past_recipient=False,
    is_revoked=False,
)


class TestDecision:
    def test_every_rule_is_checked_in_order_even_when_eligible(self) -> None:
        decision = evaluate(FACTS, NORMAL)

        assert decision.eligible
        assert [check.rule for check in decision.checks] == list(RULES)
        assert decision.reason_codes == []
        assert {c.rule: c.reason_code for c in decision.checks} == {
            "age": "ok",
            "citizenship": "ok",
            "not_student": "ok",
            "not_banned": "ok",
            "other_aid": "not_applicable",
            "kk_cap": "ok",
            "once_per_lifetime": "ok",
        }

    def test_switched_off_rules_say_so(self) -> None:
        no_cap = replace(NORMAL, kk_cap=None)

        decision = evaluate(replace(FACTS, kk_existing_recipients=9), no_cap)

        kk = next(c for c in decision.checks if c.rule == "kk_cap")
        assert decision.eligible
        assert (kk.passed, kk.reason_code) == (True, "not_applicable")

    def test_every_check_has_both_messages(self) -> None:
        facts = replace(FACTS, citizen=False, is_student=True, exclusion_lists={"asn", "tni", "other_aid_bsu"})

        decision = evaluate(facts, SEMI_BANSOS)

        for check in decision.checks:
            assert check.message_id and check.message_en
        banned = next(c for c in decision.checks if c.rule == "not_banned")
        assert "ASN" in banned.message_id and "TNI" in banned.message_id
        assert "civil servant" in banned.message_en

    def test_scheme_version_and_rules_version_are_recorded(self) -> None:
        decision = evaluate(FACTS, SEMI_BANSOS)

        assert decision.scheme_version == "2020-semi-bansos@2020.1"
        assert decision.rules_version.startswith("eligibility-rules/")

    def test_decision_serialises_to_json(self) -> None:
        data = json.loads(json.dumps(evaluate(FACTS, NORMAL).to_dict()))

        assert set(data["checks"][0]) == {"rule", "passed", "reason_code", "message_id", "message_en"}
        assert len(data["inputs_hash"]) == 64


class TestInputsHash:
    def test_same_inputs_same_hash_whatever_the_list_order(self) -> None:
        a = replace(FACTS, exclusion_lists={"asn", "tni", "other_aid_dtks"})
        b = replace(FACTS, exclusion_lists=frozenset(["other_aid_dtks", "tni", "asn"]))

        assert evaluate(a, NORMAL).inputs_hash == evaluate(b, NORMAL).inputs_hash

    @pytest.mark.parametrize(
        "changed",
        [
            replace(FACTS, birth_date=date(1990, 5, 11)),
            replace(FACTS, wave_date=date(2023, 6, 2)),
            replace(FACTS, citizen=False),
            replace(FACTS, is_student=True),
            replace(FACTS, exclusion_lists={"asn"}),
            replace(FACTS, kk_existing_recipients=1),
            replace(FACTS, is_past_recipient=True),
            replace(FACTS, is_revoked=True),
        ],
    )
    def test_any_changed_fact_changes_the_hash(self, changed: ApplicantFacts) -> None:
        assert evaluate(changed, NORMAL).inputs_hash != evaluate(FACTS, NORMAL).inputs_hash

    @pytest.mark.parametrize(
        "changed",
        [
            replace(NORMAL, scheme_name="other"),
            replace(NORMAL, scheme_version="2023.2"),
            replace(NORMAL, age_min=19),
            replace(NORMAL, age_max=None),
            replace(NORMAL, kk_cap=3),
            replace(NORMAL, exclude_other_aid=True),
        ],
    )
    def test_any_changed_parameter_changes_the_hash(self, changed: EligibilityParams) -> None:
        assert evaluate(FACTS, changed).inputs_hash != evaluate(FACTS, NORMAL).inputs_hash

    def test_hash_is_the_same_in_another_process(self) -> None:
        script = (
            "from datetime import date\n"
            "from prakerja.eligibility.rules import ApplicantFacts, EligibilityParams, evaluate\n"
            "facts = ApplicantFacts(date(1990, 5, 10), date(2023, 6, 1), True, False,"
            " {'tni', 'asn', 'other_aid_dtks', 'revoked'}, 1, False, False)\n"
            "params = EligibilityParams('2023-normal', '2023.1', 18, 64, 2, False)\n"
            "print(evaluate(facts, params).inputs_hash)\n"
        )
        facts = replace(FACTS, exclusion_lists={"asn", "tni", "other_aid_dtks", "revoked"}, kk_existing_recipients=1)
        hashes = {
            subprocess.run(
                [sys.executable, "-c", script],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
            ).stdout.strip()
            for seed in ("1", "2")
        }

        assert hashes == {evaluate(facts, NORMAL).inputs_hash}

    def test_canonical_inputs_are_sorted_compact_json(self) -> None:
        text = canonical_inputs(replace(FACTS, exclusion_lists={"tni", "asn"}), NORMAL).decode()

        assert text.startswith('{"facts":{"birth_date":"1990-05-10","citizen":true,"exclusion_lists":["asn","tni"],')
        assert " " not in text.replace("2023-normal", "")


class TestInputValidation:
    def test_unknown_list_type_is_refused_not_ignored(self) -> None:
        with pytest.raises(ValueError, match="unknown exclusion list types: bpjs"):
            replace(FACTS, exclusion_lists={"asn", "bpjs"})

    def test_negative_kk_count_is_refused(self) -> None:
        with pytest.raises(ValueError):
            replace(FACTS, kk_existing_recipients=-1)

    @pytest.mark.parametrize(("age_min", "age_max", "kk_cap"), [(18, 17, 2), (-1, None, 2), (18, 64, 0)])
    def test_inconsistent_parameters_are_refused(self, age_min: int, age_max: int | None, kk_cap: int) -> None:
        with pytest.raises(ValueError):
            EligibilityParams("x", "1", age_min, age_max, kk_cap, False)


class TestAge:
    @pytest.mark.parametrize(
        ("birth", "on", "age"),
        [
            (date(2000, 6, 15), date(2018, 6, 14), 17),
            (date(2000, 6, 15), date(2018, 6, 15), 18),
            (date(2000, 2, 29), date(2018, 2, 28), 17),
            (date(2000, 2, 29), date(2018, 3, 1), 18),
            (date(2000, 2, 29), date(2020, 2, 29), 20),
            (date(1999, 12, 31), date(2018, 1, 1), 18),
        ],
    )
    def test_age_in_whole_years(self, birth: date, on: date, age: int) -> None:
        assert age_on(birth, on) == age

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2080, 12, 31)), st.integers(min_value=1, max_value=99))
    def test_the_nth_birthday_is_the_first_day_of_age_n(self, birth: date, years: int) -> None:
        try:
            birthday = birth.replace(year=birth.year + years)
        except ValueError:  # 29 February in a year without it
            birthday = date(birth.year + years, 3, 1)

        assert age_on(birth, birthday) == years
        assert age_on(birth, birthday - timedelta(days=1)) == years - 1

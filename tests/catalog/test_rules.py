"""The curation checks against a case table a policy officer can read (``curation_cases.csv``: one row per case,
the checks expected to fail), plus the Jakarta calendar day the per-day limits count in."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prakerja.catalog import rules
from prakerja.catalog.rules import CourseFacts, SessionPlan
from prakerja.schemes.rules import load

CASES = list(csv.DictReader((Path(__file__).parent / "curation_cases.csv").open(encoding="utf-8")))
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 WIB


def facts(row: dict[str, str]) -> CourseFacts:
    sessions = []
    if int(row["online_hours_in_a_day"]):
        sessions.append(SessionPlan(DAY, int(row["online_hours_in_a_day"]) * 60, "online"))
    if int(row["offline_hours_in_a_day"]):
        sessions.append(SessionPlan(DAY + timedelta(days=1), int(row["offline_hours_in_a_day"]) * 60, "offline"))
    return CourseFacts(
        format=row["format"],
        hours=int(row["hours"]),
        class_size=int(row["class_size"]),
        trainer_count=int(row["trainers"]),
        price=int(row["price"]),
        outside_price=int(row["outside_price"]),
        interactive=row["interactive"] == "yes",
        sessions=tuple(sessions),
    )


@pytest.mark.parametrize("row", CASES, ids=[c["description"] for c in CASES])
def test_case_table(row: dict[str, str]) -> None:
    checks = rules.check_course(facts(row), load(row["scheme"]))
    assert [c.code for c in checks] == list(rules.CHECK_CODES)
    failing = rules.failed(checks)
    assert failing == row["failing_checks"].split()
    assert (not failing) == (row["expected"] == "approvable")
    for check in checks:
        assert check.message and check.message_en and check.message != check.message_en


def test_the_messages_say_formats_and_modes_in_words() -> None:
    row = next(r for r in CASES if r["failing_checks"] == "format_not_in_scheme")
    checks = rules.check_course(facts(row), load(row["scheme"]))
    assert checks[0].message == "Format luring (tatap muka) harus termasuk moda skema (daring)."
    assert checks[0].message_en == "The offline (classroom) format must be one of the scheme's modes (online)."
    assert not any(
        "_" in c.message + c.message_en for r in CASES for c in rules.check_course(facts(r), load(r["scheme"]))
    )


def test_every_check_fails_in_some_case() -> None:
    seen = {code for row in CASES for code in row["failing_checks"].split()}
    assert seen == set(rules.CHECK_CODES)


def test_hours_per_day_count_in_jakarta_days() -> None:
    # 23:00 UTC is 06:00 WIB the next day: two sessions on different UTC days are the same Jakarta day
    late = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    sessions = [SessionPlan(late, 120, "online"), SessionPlan(late + timedelta(hours=3), 120, "online")]
    assert rules.hours_per_day(sessions, "online") == {datetime(2026, 3, 2).date(): 4.0}


def test_inputs_hash_changes_with_the_facts() -> None:
    row = CASES[0]
    assert facts(row).inputs_hash() == facts(dict(row)).inputs_hash()
    assert facts(row).inputs_hash() != facts({**row, "price": "999999"}).inputs_hash()


def test_scheme_in_force() -> None:
    schemes = [load("2020-semi-bansos"), load("2023-normal")]
    assert rules.scheme_in_force(schemes, datetime(2021, 5, 1).date()).name == "2020-semi-bansos"  # type: ignore[union-attr]
    assert rules.scheme_in_force(schemes, datetime(2026, 3, 2).date()).name == "2023-normal"  # type: ignore[union-attr]
    assert rules.scheme_in_force(schemes, datetime(2019, 1, 1).date()) is None

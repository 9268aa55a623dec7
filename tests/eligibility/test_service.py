"""Stored decisions: every rule's outcome with the scheme version, inputs' hash and reason codes; append-only."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from prakerja.eligibility import service
from prakerja.eligibility.models import StoredDecisionRow
from prakerja.eligibility.rules import ApplicantFacts, evaluate
from prakerja.schemes.rules import load
from tests.registration.factories import create_applicant


def facts(**overrides: object) -> ApplicantFacts:
    values: dict[str, object] = {
        "birth_date": datetime.date(1995, 5, 17),
        "wave_date": datetime.date(2026, 3, 1),
        "citizen": True,
        "is_student": False,
        "exclusion_lists": frozenset(),
        "kk_existing_recipients": 0,
        "is_past_recipient": False,
        "is_revoked": False,
    } | overrides
    return ApplicantFacts(**values)  # type: ignore[arg-type]


PARAMS = service.params_for(load("2023-normal"), wave_number=60)


def test_decide_stores_the_decision(session: Session) -> None:
    snap = create_applicant(session)
    stored = service.decide(
        session, applicant_id=snap.applicant_id, facts=facts(exclusion_lists={"tni"}), params=PARAMS, context="join"
    )
    session.commit()
    row = session.get(StoredDecisionRow, stored.id)
    assert row is not None and not row.eligible and row.context == "join"
    assert row.reason_codes == ["banned"] and row.scheme_version == "2023-normal@2023.1"
    assert row.inputs_hash == evaluate(facts(exclusion_lists={"tni"}), PARAMS).inputs_hash
    assert next(c["rule"] for c in row.checks) == "age" and all("message_en" in c for c in row.checks)
    assert service.decisions_for(session, snap.applicant_id)[0].id == stored.id


def test_decide_many_in_order(session: Session) -> None:
    people = [create_applicant(session) for _ in range(3)]
    items = [
        (people[0].applicant_id, facts()),
        (people[1].applicant_id, facts(birth_date=datetime.date(2010, 1, 1))),
        (people[2].applicant_id, facts(kk_existing_recipients=2)),
    ]
    stored = service.decide_many(session, items=items, params=PARAMS, context="close")
    session.commit()
    assert [s.eligible for s in stored] == [True, False, False]
    assert stored[1].reason_codes == ["age_below_min"] and stored[2].reason_codes == ["kk_cap_reached"]
    assert session.scalar(select(func.count()).select_from(StoredDecisionRow)) == 3


def test_scheme_parameters_per_wave() -> None:
    old = load("2020-semi-bansos")
    assert service.params_for(old, wave_number=17).age_max is None
    assert service.params_for(old, wave_number=18).age_max == 64
    assert service.params_for(old, wave_number=18).exclude_other_aid is True


def test_family_card_cap_and_other_aid_start_at_their_wave() -> None:
    """The 2020 scheme added the KK cap and the other-aid exclusion from wave 12 (Permenko 3/2021):
    earlier waves must not apply them."""
    old = load("2020-semi-bansos")
    assert service.params_for(old, wave_number=11).kk_cap is None
    assert service.params_for(old, wave_number=11).exclude_other_aid is False
    assert service.params_for(old, wave_number=12).kk_cap == 2
    assert service.params_for(old, wave_number=12).exclude_other_aid is True
    assert service.params_for(load("2023-normal"), wave_number=60).kk_cap == 2


def test_decisions_are_append_only(session: Session) -> None:
    snap = create_applicant(session)
    service.decide(session, applicant_id=snap.applicant_id, facts=facts(), params=PARAMS, context="join")
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE eligibility_decisions SET eligible = false"))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM eligibility_decisions"))
    session.rollback()

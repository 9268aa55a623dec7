"""The basic ability and motivation test: timed, auto-scored, one attempt per wave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.kit.clock import Clock
from prakerja.registration.errors import AttemptClosed, AttemptExists
from prakerja.registration.models import AbilityAttempt
from prakerja.registration.rules import itembank
from prakerja.registration.service import ability
from tests.registration.conftest import csrf
from tests.registration.factories import create_applicant


def right_answers(item_ids: list[str]) -> dict[str, int]:
    answers = {}
    for item_id in item_ids:
        item = itembank.BY_ID[item_id]
        answers[item_id] = item.answer if item.answer is not None else (0 if item.reversed else 3)
    return answers


def test_scoring_table() -> None:
    ids = itembank.draw("seed")
    assert len(ids) == sum(itembank.PER_SECTION.values()) and ids == itembank.draw("seed")
    assert itembank.score(ids, right_answers(ids)).total == 100
    assert itembank.score(ids, {}).total == 0
    half = itembank.score(["v1", "n1"], {"v1": 0, "n1": 0})
    assert (half.verbal, half.numeric, half.total) == (1, 0, 50)
    assert itembank.score(["m3"], {"m3": 3}).motivation == 0  # reversed statement


class TestAttempts:
    def test_one_attempt_per_wave(self, session: Session) -> None:
        snap = create_applicant(session)
        attempt = ability.start(session, account_id=snap.account_id, wave_ref="wave-18")
        assert ability.start(session, account_id=snap.account_id, wave_ref="wave-18").id == attempt.id  # resumable
        done = ability.submit(
            session, account_id=snap.account_id, wave_ref="wave-18", answers=right_answers(attempt.item_ids)
        )
        assert done.score_total == 100
        with pytest.raises(AttemptExists):
            ability.start(session, account_id=snap.account_id, wave_ref="wave-18")
        with pytest.raises(AttemptClosed):
            ability.submit(session, account_id=snap.account_id, wave_ref="wave-18", answers={})
        assert ability.start(session, account_id=snap.account_id, wave_ref="wave-19").submitted_at is None
        assert ability.scores(session, [snap.applicant_id], "wave-18") == {snap.applicant_id: 100}

    def test_late_answers_do_not_count(self, session: Session, frozen_clock: Clock) -> None:
        snap = create_applicant(session)
        attempt = ability.start(session, account_id=snap.account_id, wave_ref="w")
        frozen_clock.advance(itembank.TIME_LIMIT + timedelta(seconds=1))  # type: ignore[attr-defined]
        done = ability.submit(
            session, account_id=snap.account_id, wave_ref="w", answers=right_answers(attempt.item_ids)
        )
        assert done.score_total == 0 and done.submitted_at is not None


def test_test_pages(client: TestClient, session: Session) -> None:
    from tests.registration.conftest import sign_up
    from tests.registration.test_wizard import complete_identity

    sign_up(client)
    complete_identity(client)
    page = client.get("/tes/wave-18")
    assert page.status_code == 200 and "Mulai tes" in page.text
    client.post("/tes/wave-18/mulai", data={"csrf_token": csrf(client, "/tes/wave-18")})
    attempt = session.scalars(select(AbilityAttempt)).one()
    answers = {f"q_{k}": str(v) for k, v in right_answers(attempt.item_ids).items()}
    client.post("/tes/wave-18/kirim", data={**answers, "csrf_token": csrf(client, "/tes/wave-18")})
    assert 'data-testid="ability-score">Nilai Anda: <strong>100 / 100</strong>' in client.get("/tes/wave-18").text

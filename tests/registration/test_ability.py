"""The basic ability and motivation test: timed, auto-scored, one attempt per wave."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.clock import Clock, utcnow
from prakerja.registration.errors import AttemptClosed, AttemptExists
from prakerja.registration.models import AbilityAttempt
from prakerja.registration.rules import itembank
from prakerja.registration.service import ability
from prakerja.waves import service as waves
from prakerja.waves.models import StratumLevel, Wave
from tests.registration.conftest import csrf
from tests.registration.factories import create_applicant

PMO = Actor(id=None, role="pmo_admin")


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
        attempt = ability.start(session, account_id=snap.account_id, wave_ref="wave-18", check_wave=any_wave)
        again = ability.start(session, account_id=snap.account_id, wave_ref="wave-18", check_wave=any_wave)
        assert again.id == attempt.id  # resumable
        done = ability.submit(
            session, account_id=snap.account_id, wave_ref="wave-18", answers=right_answers(attempt.item_ids)
        )
        assert done.score_total == 100
        with pytest.raises(AttemptExists):
            ability.start(session, account_id=snap.account_id, wave_ref="wave-18", check_wave=any_wave)
        with pytest.raises(AttemptClosed):
            ability.submit(session, account_id=snap.account_id, wave_ref="wave-18", answers={})
        other = ability.start(session, account_id=snap.account_id, wave_ref="wave-19", check_wave=any_wave)
        assert other.submitted_at is None
        assert ability.scores(session, [snap.applicant_id], "wave-18") == {snap.applicant_id: 100}

    def test_late_answers_do_not_count(self, session: Session, frozen_clock: Clock) -> None:
        snap = create_applicant(session)
        attempt = ability.start(session, account_id=snap.account_id, wave_ref="w", check_wave=any_wave)
        frozen_clock.advance(itembank.TIME_LIMIT + timedelta(seconds=1))  # type: ignore[attr-defined]
        done = ability.submit(
            session, account_id=snap.account_id, wave_ref="w", answers=right_answers(attempt.item_ids)
        )
        assert done.score_total == 0 and done.submitted_at is not None


def any_wave(session: Session, account_id: uuid.UUID, wave_ref: str) -> str:
    """A wave check that allows every reference (these tests are about attempts and scoring, not waves)."""
    return wave_ref


def make_wave(session: Session, *, opened: bool = True, provinces: tuple[str, ...] = ()) -> Wave:
    now = utcnow()
    wave = waves.create_wave(
        session,
        title="Gelombang uji",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=6),
        total_quota=10,
        stratum_level=StratumLevel.regency,
        provinces=provinces,
        priority_tiers=[],
        actor=PMO,
    )
    if opened:
        wave = waves.open_wave(session, wave.id, actor=PMO)
    session.commit()
    return wave


@pytest.fixture
def identified_client(client: TestClient, session: Session, frozen_clock: Clock) -> TestClient:
    from tests.registration.conftest import sign_up
    from tests.registration.test_wizard import complete_identity

    sign_up(client)
    complete_identity(client)
    return client


def attempts(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AbilityAttempt)) or 0)


def test_test_pages(identified_client: TestClient, session: Session) -> None:
    client = identified_client
    wave = make_wave(session)
    path = f"/tes/{wave.number}"
    page = client.get(path)
    assert page.status_code == 200 and "Mulai tes" in page.text
    client.post(f"{path}/mulai", data={"csrf_token": csrf(client, path)})
    attempt = session.scalars(select(AbilityAttempt)).one()
    assert attempt.wave_ref == str(wave.number)
    answers = {f"q_{k}": str(v) for k, v in right_answers(attempt.item_ids).items()}
    client.post(f"{path}/kirim", data={**answers, "csrf_token": csrf(client, path)})
    assert 'data-testid="ability-score">Nilai Anda: <strong>100 / 100</strong>' in client.get(path).text


class TestOnlyForAnOpenWave:
    """The test (and its item bank) is shown only for a wave that exists, is open and is open to the applicant."""

    JSON = {"accept": "application/json"}

    @pytest.mark.parametrize("ref", ["wave-18", "999", "1%20OR%201"])
    def test_made_up_wave_refused(self, identified_client: TestClient, session: Session, ref: str) -> None:
        make_wave(session)
        client = identified_client
        token = csrf(client, "/profil")
        for response in (
            client.get(f"/tes/{ref}", headers=self.JSON),
            client.post(f"/tes/{ref}/mulai", data={"csrf_token": token}, headers=self.JSON),
        ):
            assert response.status_code == 404 and response.json()["code"] == "ability_wave_not_found"
        assert attempts(session) == 0

    def test_wave_not_open_refused(self, identified_client: TestClient, session: Session) -> None:
        wave = make_wave(session, opened=False)
        token = csrf(identified_client, "/profil")
        response = identified_client.post(f"/tes/{wave.number}/mulai", data={"csrf_token": token}, headers=self.JSON)
        assert response.status_code == 409 and response.json()["code"] == "ability_wave_not_open"
        assert attempts(session) == 0

    def test_wave_for_another_region_refused(self, identified_client: TestClient, session: Session) -> None:
        wave = make_wave(session, provinces=("94",))
        token = csrf(identified_client, "/profil")
        response = identified_client.post(f"/tes/{wave.number}/mulai", data={"csrf_token": token}, headers=self.JSON)
        assert response.status_code == 409 and response.json()["code"] == "ability_wave_not_for_applicant"
        assert attempts(session) == 0

    def test_one_attempt_per_wave_however_its_number_is_written(
        self, identified_client: TestClient, session: Session
    ) -> None:
        wave = make_wave(session)
        client = identified_client
        token = csrf(client, "/profil")
        for ref in (str(wave.number), f"0{wave.number}", f"00{wave.number}"):
            started = client.post(f"/tes/{ref}/mulai", data={"csrf_token": token}, follow_redirects=False)
            assert started.status_code == 303 and started.headers["location"] == f"/tes/{wave.number}"
        arabic = "".join(chr(0x0660 + int(d)) for d in str(wave.number))
        refused = client.post(f"/tes/{arabic}/mulai", data={"csrf_token": token}, headers=self.JSON)
        assert refused.status_code == 404 and refused.json()["code"] == "ability_wave_not_found"
        assert attempts(session) == 1

    def test_answers_in_other_digits_do_not_fail(self, identified_client: TestClient, session: Session) -> None:
        wave = make_wave(session)
        client = identified_client
        path = f"/tes/{wave.number}"
        client.post(f"{path}/mulai", data={"csrf_token": csrf(client, path)})
        attempt = session.scalars(select(AbilityAttempt)).one()
        answers = {f"q_{item}": "\u00b2" for item in attempt.item_ids}  # superscript two: isdigit() but not int()
        response = client.post(f"{path}/kirim", data={**answers, "csrf_token": csrf(client, path)})
        assert response.status_code == 200

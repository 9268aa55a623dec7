"""The JSON API answers bad input with a clear 4xx, a stable code and no change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.selection.models import Draw, Result
from prakerja.waves.models import Quota, Wave, WaveState
from tests.selection.factories import add_entries, create_wave
from tests.web.test_shell import create_account, login

REF = "drand/quicknet/round/77"


@pytest.fixture
def pmo(client: TestClient, session: Session) -> TestClient:
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    assert login(client, "admin@example.org").status_code == 303
    client.headers["X-CSRF-Token"] = client.cookies["prakerja_csrf"]
    return client


def state(session: Session) -> tuple[Any, ...]:
    session.expire_all()
    return (
        session.execute(select(Wave.id, Wave.state)).all(),
        session.execute(select(Quota.stratum, Quota.quota).order_by(Quota.stratum)).all(),
        session.scalar(select(func.count()).select_from(Result)),
        session.scalar(select(func.count()).select_from(Draw)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"] and body["message_en"]


def test_create_and_quota_problems(pmo: TestClient, session: Session) -> None:
    now = datetime.now(UTC)
    created = pmo.post(
        "/api/v1/waves",
        json={
            "title": "Gelombang 1",
            "scheme": "2023-normal",
            "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(days=7)).isoformat(),
            "total_quota": 10,
        },
    )
    assert created.status_code == 201, created.text
    wave_id = created.json()["id"]
    before = state(session)
    refused(pmo.put(f"/api/v1/waves/{wave_id}/quotas", json={"quotas": {"3201": 5, "0000": 5}}), 422, "invalid_quotas")
    refused(pmo.put(f"/api/v1/waves/{wave_id}/quotas", json={"quotas": {"3201": -1}}), 422, "invalid_quotas")
    refused(pmo.put(f"/api/v1/waves/{wave_id}/quotas", json={"quotas": {"3201": 4}}), 422, "invalid_quotas")
    csv_response = pmo.put(
        f"/api/v1/waves/{wave_id}/quotas.csv", content="stratum,quota\n3201,-3\n", headers={"content-type": "text/csv"}
    )
    refused(csv_response, 422, "invalid_quotas")
    assert csv_response.json()["details"]["problems"][0]["code"] == "quota_negative"
    refused(pmo.post("/api/v1/waves", json={"title": "x"}), 422, "invalid_request")
    assert state(session) == before
    assert pmo.put(f"/api/v1/waves/{wave_id}/quotas", json={"quotas": {"3201": 10}}).json() == {"3201": 10}


def test_lottery_steps_refused_in_the_wrong_state(pmo: TestClient, session: Session) -> None:
    from prakerja.waves.models import WaveState

    open_wave = create_wave(session, state=WaveState.open, quotas={"3201": 1})
    closed = create_wave(session, quotas={"3201": 1})
    add_entries(session, closed, [("3201", 0)] * 3)
    session.commit()
    before = state(session)
    refused(
        pmo.post(f"/api/v1/waves/{open_wave.id}/seed", json={"reference": REF, "value": "aa"}),
        409,
        "wave_not_committed",
    )
    refused(
        pmo.post(f"/api/v1/waves/{closed.id}/seed", json={"reference": REF, "value": "aa"}), 409, "wave_not_committed"
    )
    refused(pmo.post(f"/api/v1/waves/{open_wave.id}/announce", json={}), 409, "wave_not_drawn")
    assert state(session) == before

    committed = pmo.post(
        f"/api/v1/waves/{closed.id}/commitment", json={"randomness_source": "drand", "randomness_reference": REF}
    )
    assert committed.status_code == 201, committed.text
    before = state(session)
    refused(pmo.put(f"/api/v1/waves/{closed.id}/quotas", json={"quotas": {"3201": 2}}), 409, "quotas_frozen")
    refused(
        pmo.post(f"/api/v1/waves/{closed.id}/seed", json={"reference": "round/1", "value": "aa"}),
        409,
        "seed_reference_mismatch",
    )
    refused(pmo.post(f"/api/v1/waves/{closed.id}/seed", json={"reference": REF, "value": "zz"}), 422, "invalid_seed")
    assert state(session) == before

    drawn = pmo.post(f"/api/v1/waves/{closed.id}/seed", json={"reference": REF, "value": "aa" * 32})
    assert drawn.status_code == 200 and drawn.json()["selected_count"] == 1
    before = state(session)
    refused(
        pmo.post(f"/api/v1/waves/{closed.id}/seed", json={"reference": REF, "value": "bb" * 32}),
        409,
        "wave_already_drawn",
    )
    assert state(session) == before
    fairness = pmo.get(f"/api/v1/waves/{closed.id}/fairness").json()
    assert fairness["ok"] is True


def test_json_calls_need_the_csrf_header(pmo: TestClient, session: Session) -> None:
    wave = create_wave(session)
    session.commit()
    del pmo.headers["X-CSRF-Token"]
    refused(pmo.put(f"/api/v1/waves/{wave.id}/quotas", json={"quotas": {"3201": 2}}), 403, "csrf_failed")


def test_applicants_cannot_run_the_lottery(client: TestClient, session: Session) -> None:
    create_account(session)
    login(client)
    client.headers["X-CSRF-Token"] = client.cookies["prakerja_csrf"]
    wave = create_wave(session)
    session.commit()
    refused(
        client.post(
            f"/api/v1/waves/{wave.id}/commitment", json={"randomness_source": "a", "randomness_reference": "b"}
        ),
        403,
        "forbidden",
    )


def test_tiers_over_json(pmo: TestClient, session: Session) -> None:
    wave = create_wave(session, state=WaveState.open)
    session.commit()
    before = state(session)
    url = f"/api/v1/waves/{wave.id}/tiers"
    refused(pmo.put(url, json=[{"name": "Miskin", "regencies": ["3201", "9999"]}]), 422, "invalid_tiers")
    refused(pmo.put(url, json=[{"name": "Miskin", "region_list": "tidak-ada"}]), 422, "invalid_tiers")
    response = pmo.put(url, json=[{"name": "Miskin", "regencies": ["3201", "9999"]}])
    assert response.json()["details"]["fields"] == [
        {
            "field": "tiers[0].regencies",
            "code": "region_unknown",
            "problem": "not in the official region list (Kemendagri)",
            "value": "9999",
        }
    ]
    assert state(session) == before
    saved = pmo.put(url, json=[{"name": "PHK", "whitelist_types": ["laid_off"]}])
    assert saved.status_code == 200 and saved.json()["priority_tiers"][0]["name"] == "PHK"
    closed = create_wave(session, state=WaveState.closed)
    session.commit()
    refused(pmo.put(f"/api/v1/waves/{closed.id}/tiers", json=[]), 409, "tiers_frozen")

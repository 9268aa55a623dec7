"""Civil-registry verification through real HTTP to the simulator on a loopback port: every outcome, slow and down
registries, wrong answers, the circuit breaker, and the job written in the same transaction as the submission."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.auth.models import Account
from prakerja.kit.clock import Clock
from prakerja.registration.models import Applicant, IdentityCheck
from prakerja.registration.providers.base import IdentityQuery, RegistryOutcome, RegistryUnavailable
from prakerja.registration.providers.http import CircuitBreaker, HttpCivilRegistry
from prakerja.registration.service import identity
from prakerja.registration.tasks import run_check
from tests.registration.conftest import Simulator, person
from tests.registration.factories import create_applicant

FAST = httpx.Timeout(connect=1.0, read=0.3, write=1.0, pool=1.0)


def query(index: int = 1, **overrides: str) -> IdentityQuery:
    p = person(index)
    fields = {
        "nik": str(p["nik"]),
        "kk": str(p["kk"]),
        "full_name": str(p["full_name"]),
        "mother_maiden_name": str(p["mother_maiden_name"]),
        "birth_date": str(p["birth_date"]),
    } | overrides
    return IdentityQuery(**fields)


def client(sim: Simulator, **kwargs: object) -> HttpCivilRegistry:
    return HttpCivilRegistry(sim.url, timeout=FAST, backoff_seconds=0.0, **kwargs)  # type: ignore[arg-type]


class TestOutcomes:
    @pytest.mark.parametrize(
        ("overrides", "outcome"),
        [
            ({}, RegistryOutcome.matched),
            ({"full_name": "Orang Lain"}, RegistryOutcome.name_mismatch),
            ({"mother_maiden_name": "Bukan Ibunya"}, RegistryOutcome.mother_name_mismatch),
            ({"kk": "3201010000009999"}, RegistryOutcome.nik_kk_mismatch),
            ({"birth_date": "1970-01-01"}, RegistryOutcome.birth_date_mismatch),
            ({"nik": "3201011505950000"}, RegistryOutcome.not_found),
        ],
    )
    def test_each_outcome(self, dukcapil_sim: Simulator, overrides: dict[str, str], outcome: RegistryOutcome) -> None:
        assert client(dukcapil_sim).verify(query(1, **overrides)) is outcome

    def test_deceased(self, dukcapil_sim: Simulator) -> None:
        assert client(dukcapil_sim).verify(query(96)) is RegistryOutcome.deceased

    def test_names_compare_without_case_accents_or_spacing(self, dukcapil_sim: Simulator) -> None:
        p = person(1)
        shouted = "  " + str(p["full_name"]).upper() + " "
        assert client(dukcapil_sim).verify(query(1, full_name=shouted)) is RegistryOutcome.matched


class TestFaults:
    def test_slow_registry_times_out_after_retries(self, dukcapil_sim: Simulator) -> None:
        dukcapil_sim.set("slow", delay_seconds=2.0)
        registry = client(dukcapil_sim, attempts=2)
        with pytest.raises(RegistryUnavailable) as raised:
            registry.verify(query())
        assert raised.value.code == "timeout"
        assert dukcapil_sim.faults.calls == 2  # retried once

    def test_down_registry_is_unavailable_then_recovers(self, dukcapil_sim: Simulator) -> None:
        dukcapil_sim.set("down")
        registry = client(dukcapil_sim, attempts=3)
        with pytest.raises(RegistryUnavailable) as raised:
            registry.verify(query())
        assert raised.value.code == "unavailable" and dukcapil_sim.faults.calls == 3
        dukcapil_sim.set("none")
        assert registry.verify(query()) is RegistryOutcome.matched

    def test_wrong_answers_are_never_taken_as_a_verdict(self, dukcapil_sim: Simulator) -> None:
        dukcapil_sim.set("wrong")
        with pytest.raises(RegistryUnavailable) as raised:
            client(dukcapil_sim, attempts=2).verify(query())
        assert raised.value.code == "bad_answer"

    def test_nothing_listening(self) -> None:
        from tests.conftest import free_port

        registry = HttpCivilRegistry(f"http://127.0.0.1:{free_port()}", timeout=FAST, attempts=2, backoff_seconds=0)
        with pytest.raises(RegistryUnavailable) as raised:
            registry.verify(query())
        assert raised.value.code == "unavailable"


class TestCircuitBreaker:
    def test_opens_after_failures_fails_fast_then_half_opens(
        self, dukcapil_sim: Simulator, frozen_clock: Clock
    ) -> None:
        breaker = CircuitBreaker(threshold=2, reset_after=timedelta(seconds=30))
        registry = client(dukcapil_sim, attempts=1, breaker=breaker)
        dukcapil_sim.set("down")
        for _ in range(2):
            with pytest.raises(RegistryUnavailable):
                registry.verify(query())
        assert breaker.is_open and dukcapil_sim.faults.calls == 2
        with pytest.raises(RegistryUnavailable) as raised:
            registry.verify(query())
        assert raised.value.code == "circuit_open"
        assert dukcapil_sim.faults.calls == 2  # failed fast: the registry was not called
        dukcapil_sim.set("none")
        frozen_clock.advance(timedelta(seconds=31))  # type: ignore[attr-defined]
        assert registry.verify(query()) is RegistryOutcome.matched
        assert not breaker.is_open


def _submitted(session: Session, index: int = 1, **overrides: str) -> uuid.UUID:
    """An applicant with person ``index``'s identity submitted through the service (job queued)."""
    p = person(index)
    snap = create_applicant(session, verified=False)
    session.execute(text("DELETE FROM registration_applicants"))
    account_id = snap.account_id
    fields = {
        "nik": str(p["nik"]),
        "kk": str(p["kk"]),
        "birth_date": str(p["birth_date"]),
        "sex": str(p["sex"]),
        "full_name": str(p["full_name"]),
        "mother_maiden_name": str(p["mother_maiden_name"]),
    } | overrides
    applicant = identity.submit_identity(
        session, account_id=account_id, submission=identity.IdentitySubmission(**fields)
    )
    session.commit()
    check = session.scalars(select(IdentityCheck).where(IdentityCheck.applicant_id == applicant.id)).one()
    return check.id


class TestJob:
    def test_job_written_in_the_same_transaction(self, session: Session) -> None:
        p = person(1)
        account = session.scalars(select(Account)).first()
        assert account is None
        snap = create_applicant(session, verified=False)
        session.execute(text("DELETE FROM registration_applicants"))
        identity.submit_identity(
            session,
            account_id=snap.account_id,
            submission=identity.IdentitySubmission(
                nik=str(p["nik"]),
                kk=str(p["kk"]),
                birth_date=str(p["birth_date"]),
                sex=str(p["sex"]),
                full_name=str(p["full_name"]),
                mother_maiden_name=str(p["mother_maiden_name"]),
            ),
        )
        jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'registration.verify_identity'"
        assert session.execute(text(jobs)).scalar_one() == 1
        session.rollback()
        assert session.execute(text(jobs)).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM registration_identity_checks")).scalar_one() == 0

    @pytest.mark.parametrize(
        ("overrides", "status"),
        [
            ({}, "matched"),
            ({"full_name": "Orang Lain"}, "name_mismatch"),
            ({"mother_maiden_name": "Ibu Lain"}, "mother_name_mismatch"),
        ],
    )
    def test_outcome_recorded_on_the_applicant(
        self, session: Session, dukcapil_sim: Simulator, overrides: dict[str, str], status: str
    ) -> None:
        check_id = _submitted(session, **overrides)
        assert run_check(check_id, client(dukcapil_sim)) == status
        session.expire_all()
        applicant = session.scalars(select(Applicant)).one()
        assert applicant.identity_status == status and applicant.identity_checked_at is not None
        # safe to run twice: an answered check is not asked again
        calls = dukcapil_sim.faults.calls
        assert run_check(check_id, client(dukcapil_sim)) is None
        assert dukcapil_sim.faults.calls == calls

    def test_registry_down_leaves_pending_and_records_the_attempt(
        self, session: Session, dukcapil_sim: Simulator
    ) -> None:
        check_id = _submitted(session)
        dukcapil_sim.set("down")
        with pytest.raises(RegistryUnavailable):
            run_check(check_id, client(dukcapil_sim, attempts=1))
        session.expire_all()
        check = session.get(IdentityCheck, check_id)
        assert check is not None and check.completed_at is None and check.last_error == "unavailable"
        assert session.scalars(select(Applicant.identity_status)).one() == "pending"
        dukcapil_sim.set("none")
        assert run_check(check_id, client(dukcapil_sim)) == "matched"

    def test_applicant_sees_the_status_and_what_to_do(
        self, session: Session, dukcapil_sim: Simulator, client: object
    ) -> None:
        from fastapi.testclient import TestClient

        from tests.registration.conftest import sign_up
        from tests.registration.test_wizard import post

        assert isinstance(client, TestClient)
        sign_up(client)
        p = person(1)
        post(
            client,
            "identitas",
            {"nik": str(p["nik"]), "kk": str(p["kk"]), "birth_date": str(p["birth_date"]), "sex": str(p["sex"])},
        )
        post(client, "nama", {"full_name": "Nama Salah", "mother_maiden_name": str(p["mother_maiden_name"])})
        check_id = session.scalars(select(IdentityCheck.id)).one()
        run_check(check_id, client_registry := HttpCivilRegistry(dukcapil_sim.url, timeout=FAST))
        client_registry.close()
        html = client.get("/profil").text
        assert 'data-status="name_mismatch"' in html
        assert "Nama lengkap tidak sama dengan data Dukcapil." in html and 'href="/profil/nama"' in html

"""A civil-registry outage, end to end (journeys issue: "a check the program cannot complete tells the applicant so
in words, and retries"): the real job through the real worker against the simulator over HTTP, the profile page in
words with the next try, and the periodic sweep finishing the check once the registry is back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.config import reset_settings
from prakerja.registration import tasks
from prakerja.registration.models import Applicant, IdentityCheck
from tests.conftest import free_port
from tests.notifications.test_jobs import run_worker
from tests.registration.conftest import Simulator
from tests.registration.test_wizard import complete_identity

OUTAGE = "Data Dukcapil sedang tidak dapat dihubungi"


@pytest.fixture
def registry_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Point the jobs' registry client (one per process) at a URL for this test."""

    def point(url: str) -> None:
        monkeypatch.setenv("PRAKERJA_DUKCAPIL_URL", url)
        reset_settings()
        tasks.registry.cache_clear()

    yield point
    monkeypatch.delenv("PRAKERJA_DUKCAPIL_URL", raising=False)
    reset_settings()
    tasks.registry.cache_clear()


def _status(client: TestClient) -> tuple[str, str]:
    html = client.get("/profil").text
    found = re.search(r'<p data-testid="identity-status" data-status="(\w+)"[^>]*>([^<]*)</p>', html)
    assert found is not None
    return found.group(1), " ".join(found.group(2).split())


def _give_up_the_jobs_own_retries(session: Session) -> None:
    """A long outage: the verification job's own retries ran out (only the periodic sweep is left)."""
    session.execute(
        text("UPDATE procrastinate_jobs SET status = 'failed' WHERE task_name = 'registration.verify_identity'")
    )
    session.commit()


@pytest.mark.parametrize("outage", ["down", "closed port"])
def test_the_applicant_reads_about_an_outage_and_the_sweep_finishes_the_check(
    applicant_client: TestClient, session: Session, dukcapil_sim: Simulator, registry_at, outage: str
) -> None:  # type: ignore[no-untyped-def]
    if outage == "down":
        dukcapil_sim.set("down")
        registry_at(dukcapil_sim.url)
    else:
        registry_at(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    complete_identity(applicant_client)  # the check is queued with the profile's identity
    run_worker(concurrency=1, wait=False)

    check = session.scalars(select(IdentityCheck)).one()
    assert check.completed_at is None and check.last_error == "unavailable"
    status, words = _status(applicant_client)
    assert status == "pending"
    assert OUTAGE in words and "Anda tidak perlu mengirim ulang apa pun" in words
    assert re.search(r"percobaan berikutnya paling lambat pukul \d\d:\d\d WI(B|TA|T), \d\d-\d\d-\d{4}", words), words

    applicant_client.get("/bahasa/en")
    assert "The civil registry cannot be reached right now" in _status(applicant_client)[1]
    applicant_client.get("/bahasa/id")

    # the registry is back; the job's own retries are spent, the periodic sweep queues another try
    dukcapil_sim.set("none")
    registry_at(dukcapil_sim.url)
    _give_up_the_jobs_own_retries(session)
    assert tasks.retry_identity_checks() == 1
    assert tasks.retry_identity_checks() == 0  # one queued try per check at a time
    run_worker(concurrency=1, wait=False)

    session.expire_all()
    assert session.scalars(select(Applicant.identity_status)).one() == "matched"
    status, words = _status(applicant_client)
    assert status == "matched" and OUTAGE not in words
    assert tasks.retry_identity_checks() == 0  # an answered check is not asked again

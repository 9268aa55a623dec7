"""Everybody who was not selected is told (SMS, e-mail, dashboard), by the announcement's jobs, exactly once."""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.kit.clock import clock
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.notifications.models import Channel, DevOutboxItem, Message
from prakerja.recipients.models import Recipient
from prakerja.registration.models import Applicant
from prakerja.registration.service import ApplicantSnapshot
from prakerja.selection import service, tasks
from prakerja.selection.rules import GENERAL_CAUSES_EN
from prakerja.waves.models import Entry, EntryStatus, Wave
from prakerja.worker import run_worker as _run_worker
from tests.registration.factories import create_applicant
from tests.selection.factories import PMO, create_wave

NOW = datetime.datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
REF = "drand/quicknet/round/999"
NOT_SELECTED_EMAIL = "Hasil seleksi Kartu Prakerja"
NOT_SELECTED_SMS = "Kartu Prakerja: belum terpilih"


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW):
        yield clock


def run_worker() -> None:
    """Burst workers until no job is left (a job may queue the next batch while the worker stops)."""
    from prakerja.db import unit_of_work

    for _ in range(20):
        with ThreadPoolExecutor(1) as pool:
            pool.submit(_run_worker, concurrency=2, wait=False).result(timeout=120)
        with unit_of_work() as check:
            left = check.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).scalar_one()
        if not left:
            return
    raise AssertionError("jobs left after 20 worker runs")


def _person(session: Session, i: int) -> ApplicantSnapshot:
    person = create_applicant(session, regency="3201", phone=f"08129990{i:04d}")
    profile = session.get(Applicant, person.applicant_id)
    assert profile is not None
    profile.phone_verified_at = NOW - timedelta(days=30)
    return person


def _entry(session: Session, wave: Wave, person: ApplicantSnapshot, status: EntryStatus) -> None:
    secret = secrets.token_bytes(32)
    session.add(
        Entry(
            id=new_id(),
            wave_id=wave.id,
            applicant_id=person.applicant_id,
            account_id=person.account_id,
            stratum="3201",
            regency="3201",
            joined_at=NOW - timedelta(days=5),
            consent_at=NOW - timedelta(days=5),
            entry_secret=secret.hex(),
            entry_hash=bytes.fromhex(lottery.entry_hash(str(wave.id), secret)),
            status=status,
            tier=0 if status is EntryStatus.eligible else None,
            ineligible_reason="not_banned" if status is EntryStatus.ineligible else None,
            active=True,
            note="",
        )
    )
    session.flush()


def _announced(session: Session, tmp_path: Path) -> tuple[Wave, list[ApplicantSnapshot]]:
    """Five in the draw for two places, one found ineligible at close; announced and committed."""
    wave = create_wave(session, quotas={"3201": 2})
    people = [_person(session, i) for i in range(6)]
    for person in people[:5]:
        _entry(session, wave, person, EntryStatus.eligible)
    _entry(session, wave, people[5], EntryStatus.ineligible)
    service.commit(session, wave.id, randomness_source="beacon", randomness_reference=REF, actor=PMO, root=tmp_path)
    service.seed(session, wave.id, reference=REF, value="42" * 32, actor=PMO)
    ledger.allocate_budget(
        session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=2026, amount=2 * 3_500_000, actor=PMO
    )
    service.announce(session, wave.id, actor=PMO)
    session.commit()
    return wave, people


def _outbox(session: Session) -> list[DevOutboxItem]:
    session.expire_all()
    return list(session.scalars(select(DevOutboxItem)))


class TestNotSelectedAreTold:
    def test_one_sms_and_one_email_each_through_the_jobs(self, session: Session, tmp_path: Path) -> None:
        wave, people = _announced(session, tmp_path)
        run_worker()
        recipients = {r.account_id for r in session.scalars(select(Recipient))}
        assert len(recipients) == 2
        others = [p for p in people if p.account_id not in recipients]
        assert len(others) == 4  # three waitlisted + one found ineligible at close

        sent = _outbox(session)
        messages = {m.id: m for m in session.scalars(select(Message))}
        told = Counter(
            (messages[item.message_id].account_id, item.channel)
            for item in sent
            if item.subject in (NOT_SELECTED_SMS,) or item.subject.startswith(NOT_SELECTED_EMAIL)
        )
        assert told == Counter({(p.account_id, ch): 1 for p in others for ch in (Channel.sms, Channel.email)})
        assert not any(account in recipients for account, _ in told)
        sms = [i for i in sent if i.subject == NOT_SELECTED_SMS]
        assert all(f"Gelombang {wave.number}" in i.body and "Dukcapil" in i.body for i in sms)
        assert all("gelombang berikutnya" in i.body and "EN:" in i.body for i in sms)
        emails = [i for i in sent if i.subject.startswith(NOT_SELECTED_EMAIL)]
        assert all("belum terpilih" in i.body and GENERAL_CAUSES_EN[1] in i.body for i in emails)
        assert all("gelombang berikutnya" in i.body and "next wave" in i.body for i in emails)

        # the job retried after it committed (e.g. the worker died before acknowledging it): nothing twice
        before = len(sent)
        assert tasks.announce_outcomes(str(wave.id)) == 0
        run_worker()
        assert len(_outbox(session)) == before
        ineligible = session.scalars(select(Entry).where(Entry.status == EntryStatus.ineligible)).one()
        assert ineligible.told_at == NOW

    def test_a_batch_rolled_back_is_redone_once(self, session: Session, tmp_path: Path) -> None:
        """A batch that fails before its commit leaves nothing behind; the retry sends each message once."""
        wave, _ = _announced(session, tmp_path)
        assert service.process_outcomes(session, wave.id, batch=10) == 5
        assert service.process_outcomes(session, wave.id, batch=10) == 1  # the applicant found ineligible
        session.rollback()  # the job's transaction failed: no message, no marker
        assert session.execute(text("SELECT count(*) FROM notifications_messages")).scalar_one() == 0
        run_worker()
        per_account = Counter(
            (m.account_id, m.channel) for m in session.scalars(select(Message)) if m.subject.startswith("Hasil")
        )
        assert len(per_account) == 4 and set(per_account.values()) == {1}
        assert len(_outbox(session)) == session.execute(text("SELECT count(*) FROM notifications_messages")).scalar()

    def test_dashboard_in_both_languages(self, session: Session, tmp_path: Path) -> None:
        _announced(session, tmp_path)
        run_worker()
        session.expire_all()
        ineligible = session.scalars(select(Entry).where(Entry.status == EntryStatus.ineligible)).one()
        for language, causes in (("id", "Dukcapil"), ("en", GENERAL_CAUSES_EN[0])):
            lines, link = service.dashboard_lines(session, ineligible.account_id, lambda s: s, language)
            assert "You were not selected in this wave. Possible causes:" in lines
            assert any(causes in line for line in lines)
            assert link == "/gelombang"

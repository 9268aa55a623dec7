"""From joining to recipients: the whole path through the services, then the announcement's guarantees."""

from __future__ import annotations

import datetime
import re
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.notifications.models import Channel, Message
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient
from prakerja.registration.models import Applicant
from prakerja.selection import service
from prakerja.waves import service as waves
from prakerja.waves.models import Entry, EntryStatus, StratumLevel, Wave, WaveState
from tests.registration.factories import create_applicant
from tests.selection.factories import PMO, add_entries, create_wave

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REF = "drand/quicknet/round/4242"


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW):
        yield clock


def _new_wave(session: Session, total: int) -> Wave:
    now = clock.now()
    wave = waves.create_wave(
        session,
        title="Gelombang uji",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        total_quota=total,
        stratum_level=StratumLevel.regency,
        actor=PMO,
    )
    return waves.open_wave(session, wave.id, actor=PMO)


def allocate(session: Session, amount: int, *, scheme: str = "2023-normal", year: int = 2026) -> None:
    ledger.allocate_budget(session, transfer_id=uuid.uuid4(), scheme=scheme, year=year, amount=amount, actor=PMO)


def _run_outcomes(session: Session, wave: Wave) -> int:
    total = 0
    while done := service.process_outcomes(session, wave.id, batch=2):
        total += done
    return total


def _through_the_draw(session: Session, root: Path, people: list[object], quotas: dict[str, int]) -> Wave:
    wave = _new_wave(session, sum(quotas.values()))
    for person in people:
        waves.join(session, account_id=person.account_id, wave_id=wave.id, consent=True)  # type: ignore[attr-defined]
    clock.advance(timedelta(days=2))
    waves.close_wave(session, wave.id, actor=PMO)
    waves.set_quotas(session, wave.id, quotas, method="csv", actor=PMO)
    service.commit(session, wave.id, randomness_source="beacon", randomness_reference=REF, actor=PMO, root=root)
    service.seed(session, wave.id, reference=REF, value="0123456789abcdef" * 2, actor=PMO)
    return wave


class TestOutcome:
    def test_recipients_cards_deadlines_and_messages(self, session: Session, tmp_path: Path) -> None:
        people = [create_applicant(session, regency="3201") for _ in range(3)]
        people += [create_applicant(session, regency="3273", phone=f"08123456700{i}") for i in range(2)]
        for profile in session.scalars(select(Applicant).where(Applicant.phone.is_not(None))):
            profile.phone_verified_at = NOW
        wave = _through_the_draw(session, tmp_path, people, {"3201": 1, "3273": 5})
        allocate(session, 3 * 3_500_000)
        draw = service.announce(session, wave.id, actor=PMO)
        assert wave.state is WaveState.announced and draw.fairness_ok
        jobs = session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'selection.announce_outcomes'")
        ).scalar_one()
        assert jobs == 1
        assert _run_outcomes(session, wave) == 5
        assert _run_outcomes(session, wave) == 0  # a second run changes nothing

        recipients = session.scalars(select(Recipient)).all()
        assert len(recipients) == 3
        assert len({r.card_number for r in recipients}) == 3
        assert all(re.fullmatch(r"[1-9][0-9]{15}", r.card_number) for r in recipients)
        assert all(r.first_purchase_deadline == draw.announced_at + timedelta(days=15) for r in recipients)
        assert all(r.training_balance == 3_500_000 for r in recipients)
        assert len({r.funding_transfer_id for r in recipients}) == 3
        for r in recipients:
            wallet = ledger.wallet(session, r.applicant_id)
            assert wallet is not None and wallet.balance == 3_500_000
        budget = ledger.state_budget(session, scheme="2023-normal", year=2026, ledger=LedgerCode.training)
        assert budget.balance == 0

        sms = session.scalars(select(Message).where(Message.channel == Channel.sms)).all()
        assert sorted(m.recipient for m in sms) == ["081234567000", "081234567001"]
        assert all("terpilih" in m.body and "paling lambat" in m.body for m in sms)
        messages = session.scalars(select(Message).where(Message.channel == Channel.email)).all()
        assert len(messages) == 5
        selected = [m for m in messages if m.subject.startswith("Anda terpilih")]
        others = [m for m in messages if m.subject.startswith("Hasil seleksi")]
        assert len(selected) == 3 and len(others) == 2
        assert all("Selamat" in m.body and "paling lambat" in m.body for m in selected)
        assert all(
            "belum terpilih" in m.body and "Dukcapil" in m.body and "gelombang berikutnya" in m.body for m in others
        )

        statuses = session.execute(select(Entry.status, func.count()).group_by(Entry.status)).all()
        assert dict(statuses) == {EntryStatus.recipient: 3, EntryStatus.not_selected: 2}
        assert not session.scalar(select(func.count()).select_from(Entry).where(Entry.active))

    def test_not_selected_rejoin_recipients_refused(self, session: Session, tmp_path: Path) -> None:
        people = [create_applicant(session, regency="3201") for _ in range(3)]
        wave = _through_the_draw(session, tmp_path, people, {"3201": 1})
        allocate(session, 3_500_000)
        service.announce(session, wave.id, actor=PMO)
        _run_outcomes(session, wave)
        later = _new_wave(session, 10)
        outcomes = dict(session.execute(select(Entry.applicant_id, Entry.status).where(Entry.wave_id == wave.id)).all())
        for person in people:
            if outcomes[person.applicant_id] is EntryStatus.recipient:
                with pytest.raises(DomainError) as caught:
                    waves.join(session, account_id=person.account_id, wave_id=later.id, consent=True)
                assert caught.value.code == "once_per_lifetime"
            else:
                receipt = waves.join(session, account_id=person.account_id, wave_id=later.id, consent=True)
                assert receipt.wave_number == later.number

    def test_dashboard_and_proof(self, session: Session, tmp_path: Path) -> None:
        people = [create_applicant(session, regency="3201") for _ in range(2)]
        wave = _through_the_draw(session, tmp_path, people, {"3201": 1})
        allocate(session, 3_500_000)
        service.announce(session, wave.id, actor=PMO)
        _run_outcomes(session, wave)
        for person in people:
            lines, link = service.dashboard_lines(session, person.account_id, lambda s: s, "id")
            assert link == f"/gelombang/{wave.id}/bukti"
            proof = service.proof_for_account(session, person.account_id, wave.id)
            proof_file = tmp_path / f"{person.account_id}.json"
            proof_file.write_bytes(proof)
            result = lottery.verify_folder(tmp_path / str(wave.id), proof_file)
            assert result.ok and result.proof is not None
            recipient = recipients.recipient_by_account(session, person.account_id)
            if recipient is not None:
                assert result.proof.outcome == "selected"
                assert any(recipient.card_number in line for line in lines)
            else:
                assert result.proof.outcome == "waitlist"
                assert any("Dukcapil" in line for line in lines)

    def test_announcement_refused_without_budget(self, session: Session, tmp_path: Path) -> None:
        people = [create_applicant(session, regency="3201") for _ in range(2)]
        wave = _through_the_draw(session, tmp_path, people, {"3201": 2})
        allocate(session, 3_500_000)
        session.commit()
        with pytest.raises(DomainError) as caught:
            service.announce(session, wave.id, actor=PMO)
        assert (caught.value.code, caught.value.details["needed"]) == ("budget_insufficient", 7_000_000)
        session.rollback()
        assert session.get(Wave, wave.id).state is WaveState.drawn  # type: ignore[union-attr]

    def test_funding_twice_moves_money_once(self, session: Session, tmp_path: Path) -> None:
        people = [create_applicant(session, regency="3201")]
        wave = _through_the_draw(session, tmp_path, people, {"3201": 1})
        allocate(session, 3_500_000)
        service.announce(session, wave.id, actor=PMO)
        _run_outcomes(session, wave)
        recipient = session.scalars(select(Recipient)).one()
        again = ledger.fund_wallet(
            session,
            transfer_id=recipient.funding_transfer_id,
            participant_id=recipient.applicant_id,
            scheme="2023-normal",
            year=2026,
            actor=PMO,
        )
        assert again.id == recipient.funding_transfer_id
        assert ledger.wallet(session, recipient.applicant_id).balance == 3_500_000  # type: ignore[union-attr]


class TestFairnessGate:
    def _drawn(self, session: Session, tmp_path: Path) -> Wave:
        wave = create_wave(session, quotas={"3201": 2})
        add_entries(session, wave, [("3201", 0)] * 5)
        service.commit(session, wave.id, randomness_source="b", randomness_reference=REF, actor=PMO, root=tmp_path)
        service.seed(session, wave.id, reference=REF, value="ff" * 32, actor=PMO)
        session.execute(
            text("UPDATE selection_results SET outcome = 'selected' WHERE wave_id = :w AND rank = 3"), {"w": wave.id}
        )
        allocate(session, 10 * 3_500_000)
        session.commit()
        return wave

    def test_refused_without_a_reason_nothing_changed(self, session: Session, tmp_path: Path) -> None:
        wave = self._drawn(session, tmp_path)
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(DomainError) as caught:
            service.announce(session, wave.id, actor=PMO)
        assert (caught.value.code, caught.value.status_code) == ("fairness_failed", 409)
        assert caught.value.details["failed"] == ["quota_filled"]
        session.rollback()
        assert session.get(Wave, wave.id).state is WaveState.drawn  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits

    def test_override_is_recorded(self, session: Session, tmp_path: Path) -> None:
        wave = self._drawn(session, tmp_path)
        draw = service.announce(session, wave.id, actor=Actor(id=None, role="pmo_admin"), override_reason="uji")
        assert draw.override_reason == "uji" and draw.fairness_ok is False
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "selection.fairness_overridden")).one()
        assert entry.reason == "uji" and entry.data == {"failed": ["quota_filled"]}


def test_a_past_recipient_in_the_draw_fails_no_person_twice(session: Session, tmp_path: Path) -> None:
    earlier = create_wave(session, state=WaveState.announced, quotas={"3201": 1})
    wave = create_wave(session, quotas={"3201": 1})
    made = add_entries(session, wave, [("3201", 0)] * 3)
    session.add(
        Recipient(
            wave_id=earlier.id,
            entry_hash=b"\x01" * 32,
            applicant_id=made[1].applicant_id,
            account_id=made[1].account_id,
            kk_index=None,
            card_number="5123456789012345",
            card_number_index=b"\x02" * 32,
            card_last4="2345",
            scheme_name="2023-normal",
            training_balance=3_500_000,
            funding_transfer_id=uuid.uuid4(),
            first_purchase_deadline=NOW,
        )
    )
    service.commit(session, wave.id, randomness_source="b", randomness_reference=REF, actor=PMO, root=tmp_path)
    draw = service.seed(session, wave.id, reference=REF, value="77" * 32, actor=PMO)
    service.record_fairness(session, wave.id)  # the job the draw queued
    assert draw.fairness_ok is False
    check = next(c for c in draw.fairness["checks"] if c["check"] == "no_person_twice")  # type: ignore[index]
    assert check["passed"] is False and check["already_recipients"] == 1

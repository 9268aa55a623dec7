"""The family-card (KK) cap inside one draw: members of one KK selected together beyond the cap are replaced from
the waitlist before the decree, without touching the published results."""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.recipients.models import Recipient
from prakerja.registration.service import ApplicantSnapshot
from prakerja.schemes.rules import Scheme
from prakerja.selection import service
from prakerja.selection.models import Result, ResultStatus
from prakerja.waves.models import Entry, EntryStatus, Wave, WaveState
from tests.registration.factories import create_applicant, make_kk
from tests.selection.factories import PMO, create_wave
from tests.web.test_shell import create_account, csrf, login

NOW = datetime.datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
REF = "drand/quicknet/round/777"
SEED = "5e" * 32


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW):
        yield clock


def _enter(session: Session, wave: Wave, people: list[tuple[ApplicantSnapshot, str, int]]) -> list[str]:
    """Eligible entries for real applicants (so their family cards are known); returns their entry hashes."""
    hashes = []
    for i, (person, stratum, tier) in enumerate(people):
        secret = secrets.token_bytes(32)
        digest = lottery.entry_hash(str(wave.id), secret)
        session.add(
            Entry(
                id=new_id(),
                wave_id=wave.id,
                applicant_id=person.applicant_id,
                account_id=person.account_id,
                stratum=stratum,
                regency=stratum,
                joined_at=NOW - timedelta(days=3, minutes=-i),
                consent_at=NOW - timedelta(days=3),
                entry_secret=secret.hex(),
                entry_hash=bytes.fromhex(digest),
                status=EntryStatus.eligible,
                tier=tier,
                active=True,
                note="",
            )
        )
        hashes.append(digest)
    session.flush()
    return hashes


def _draw(session: Session, wave: Wave, root: Path) -> None:
    service.commit(session, wave.id, randomness_source="beacon", randomness_reference=REF, actor=PMO, root=root)
    service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)


def _statuses(session: Session, wave: Wave) -> dict[str, ResultStatus]:
    return {r.entry_hash.hex(): r.status for r in session.scalars(select(Result).where(Result.wave_id == wave.id))}


def _cap(monkeypatch: pytest.MonkeyPatch, value: int) -> None:
    monkeypatch.setattr(Scheme, "kk_cap_for_wave", lambda self, number: value)


class TestKkCapInOneDraw:
    def test_two_members_selected_under_a_cap_of_one(
        self, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _cap(monkeypatch, 1)
        kk = make_kk(regency="3201")
        a1, a2 = (create_applicant(session, regency="3201", kk=kk) for _ in range(2))
        b, c = (create_applicant(session, regency="3201") for _ in range(2))
        wave = create_wave(session, quotas={"3201": 2})
        h_a1, h_a2, h_b, h_c = _enter(session, wave, [(a1, "3201", 0), (a2, "3201", 0), (b, "3201", 1), (c, "3201", 1)])
        _draw(session, wave, tmp_path)
        results_before = (tmp_path / str(wave.id) / "results.csv").read_bytes()
        drawn = _statuses(session, wave)
        assert drawn[h_a1] is drawn[h_a2] is ResultStatus.selected  # the draw picked both members
        ranked = {r.entry_hash.hex(): r for r in session.scalars(select(Result).where(Result.wave_id == wave.id))}
        keep, drop = sorted([h_a1, h_a2], key=lambda h: (ranked[h].ticket, h))
        first_waiting = min([h_b, h_c], key=lambda h: ranked[h].rank)

        changes = service.apply_kk_cap(session, wave.id, actor=PMO)

        expected = [(drop, "disqualified"), (first_waiting, "promoted")]
        assert [(c.entry_hash.hex(), c.action) for c in changes] == expected
        after = _statuses(session, wave)
        assert after[keep] is ResultStatus.selected
        assert after[drop] is ResultStatus.disqualified
        assert after[first_waiting] is ResultStatus.promoted
        dropped = session.get(Result, (wave.id, bytes.fromhex(drop)))
        assert dropped is not None and dropped.status_reason == "kk_cap:2023-normal@2023.1"
        holders = [h for h, s in after.items() if s in (ResultStatus.selected, ResultStatus.promoted)]
        assert len(holders) == 2  # the quota, never more
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "selection.disqualified", AuditEntry.reason == "kk_cap")
        ).one()
        assert entry.data["entry_hash"] == drop and entry.data["promoted"] == first_waiting
        assert entry.data["kk_cap"] == 1 and entry.data["scheme_version"] == "2023-normal@2023.1"
        assert (tmp_path / str(wave.id) / "results.csv").read_bytes() == results_before  # results stay as drawn
        assert service.apply_kk_cap(session, wave.id, actor=PMO) == []  # a second run changes nothing

        ledger.allocate_budget(
            session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=2026, amount=2 * 3_500_000, actor=PMO
        )
        service.announce(session, wave.id, actor=PMO)
        while service.process_outcomes(session, wave.id, batch=10):
            pass
        recipients = {r.applicant_id for r in session.scalars(select(Recipient))}
        promoted_person = b if first_waiting == h_b else c
        kept_person = a1 if keep == h_a1 else a2
        assert recipients == {kept_person.applicant_id, promoted_person.applicant_id}
        assert (tmp_path / str(wave.id) / "results.csv").read_bytes() == results_before

    def test_waitlisted_member_of_a_full_card_is_passed_over(
        self, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _cap(monkeypatch, 1)
        kk = make_kk(regency="3201")
        a1, a2, a3 = (create_applicant(session, regency="3201", kk=kk) for _ in range(3))
        other = create_applicant(session, regency="3201")
        wave = create_wave(session, quotas={"3201": 2})
        _h1, _h2, h3, h_other = _enter(
            session, wave, [(a1, "3201", 0), (a2, "3201", 0), (a3, "3201", 1), (other, "3201", 2)]
        )
        _draw(session, wave, tmp_path)
        changes = service.apply_kk_cap(session, wave.id, actor=PMO)
        assert [c.action for c in changes] == ["disqualified", "passed_over", "promoted"]
        after = _statuses(session, wave)
        assert after[h3] is ResultStatus.disqualified and after[h_other] is ResultStatus.promoted
        summary = session.scalars(select(AuditEntry).where(AuditEntry.action == "selection.kk_cap_applied")).one()
        assert summary.data | {} == {
            "kk_cap": 1,
            "scheme_version": "2023-normal@2023.1",
            "checked": 2,
            "disqualified": 1,
            "passed_over": 1,
            "promoted": 1,
        }

    def test_existing_recipients_count_and_the_announcement_applies_the_cap(
        self, session: Session, tmp_path: Path
    ) -> None:
        """Scheme 2023-normal as shipped (cap 2): one member of the card is a recipient of an earlier wave, two
        more are selected now; the announcement keeps one of them, promotes the waitlist and funds two people."""
        kk = make_kk(regency="3273")
        earlier_member, m1, m2 = (create_applicant(session, regency="3273", kk=kk) for _ in range(3))
        waiting = create_applicant(session, regency="3273")
        earlier = create_wave(session, state=WaveState.announced, quotas={"3273": 1})
        session.add(
            Recipient(
                wave_id=earlier.id,
                entry_hash=hashlib.sha256(b"earlier").digest(),
                applicant_id=earlier_member.applicant_id,
                account_id=earlier_member.account_id,
                kk_index=earlier_member.kk_index,
                card_number="5123456789012345",
                card_number_index=b"\x03" * 32,
                card_last4="2345",
                scheme_name="2023-normal",
                training_balance=3_500_000,
                funding_transfer_id=uuid.uuid4(),
                first_purchase_deadline=NOW,
            )
        )
        wave = create_wave(session, quotas={"3273": 2})
        h1, h2, h_wait = _enter(session, wave, [(m1, "3273", 0), (m2, "3273", 0), (waiting, "3273", 1)])
        _draw(session, wave, tmp_path)
        ledger.allocate_budget(
            session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=2026, amount=2 * 3_500_000, actor=PMO
        )
        service.announce(session, wave.id, actor=PMO)
        after = _statuses(session, wave)
        assert sorted(after[h].value for h in (h1, h2)) == ["disqualified", "selected"]
        assert after[h_wait] is ResultStatus.promoted
        while service.process_outcomes(session, wave.id, batch=10):
            pass
        in_card = session.scalar(select(func.count()).select_from(Recipient).where(Recipient.kk_index == kk_index(kk)))
        assert in_card == 2
        statuses = dict(session.execute(select(Entry.entry_hash, Entry.status).where(Entry.wave_id == wave.id)).all())
        assert statuses[bytes.fromhex(h_wait)] is EntryStatus.recipient

    @pytest.mark.parametrize("state", [WaveState.closed, WaveState.committed, WaveState.announced])
    def test_refused_unless_drawn(self, session: Session, state: WaveState) -> None:
        wave = create_wave(session, state=state, quotas={"3201": 1})
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(DomainError) as caught:
            service.apply_kk_cap(session, wave.id, actor=PMO)
        assert (caught.value.code, caught.value.status_code) == ("wave_not_drawn", 409)
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def kk_index(kk: str) -> bytes:
    from prakerja.registration.service import kk_index as index

    return index(kk)


def test_the_draw_page_applies_the_cap_and_lists_the_changes(
    client: TestClient, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cap(monkeypatch, 1)
    kk = make_kk(regency="3201")
    a1, a2 = (create_applicant(session, regency="3201", kk=kk) for _ in range(2))
    other = create_applicant(session, regency="3201")
    wave = create_wave(session, quotas={"3201": 2})
    _enter(session, wave, [(a1, "3201", 0), (a2, "3201", 0), (other, "3201", 1)])
    closed = create_wave(session, quotas={"3201": 1})
    _draw(session, wave, tmp_path)
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    session.commit()
    login(client, "admin@example.org")
    page = f"/pmo/undian/{wave.id}"
    response = client.post(f"{page}/batas-kk", data={"csrf_token": csrf(client, page)}, follow_redirects=False)
    assert response.status_code == 303
    table = client.get(page).text
    assert 'data-testid="changed-results"' in table and "kk_cap:2023-normal@2023.1" in table
    refused = client.post(
        f"/pmo/undian/{closed.id}/batas-kk", data={"csrf_token": csrf(client, page)}, follow_redirects=False
    )
    assert refused.status_code == 409 and 'data-code="wave_not_drawn"' in refused.text

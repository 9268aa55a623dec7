"""Joining a wave and closing it, with real applicants from the registration domain."""

from __future__ import annotations

import datetime
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.registration.models import ListKind
from prakerja.waves import service
from prakerja.waves.models import Entry, EntryStatus, StratumLevel, Wave, WaveState
from tests.registration.factories import create_applicant, make_nik, put_on_list

PMO = Actor(id=None, role="pmo_admin")
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW):
        yield clock


def open_wave(
    session: Session, *, provinces: tuple[str, ...] = (), tiers: list[dict[str, object]] | None = None
) -> Wave:
    wave = service.create_wave(
        session,
        title="Gelombang uji",
        scheme="2023-normal",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=6),
        total_quota=10,
        stratum_level=StratumLevel.regency,
        provinces=provinces,
        priority_tiers=tiers or [],
        actor=PMO,
    )
    return service.open_wave(session, wave.id, actor=PMO)


def entries(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Entry)) or 0)


class TestJoin:
    def test_verified_applicant_joins_and_gets_a_secret(self, session: Session) -> None:
        applicant = create_applicant(session, regency="3201")
        wave = open_wave(session)
        receipt = service.join(session, account_id=applicant.account_id, wave_id=wave.id, consent=True)
        assert len(bytes.fromhex(receipt.entry_secret)) == 32
        assert receipt.entry_hash == lottery.entry_hash(str(wave.id), bytes.fromhex(receipt.entry_secret))
        entry = session.get(Entry, receipt.entry_id)
        assert entry is not None and entry.stratum == "3201" and entry.status is EntryStatus.joined
        stored = bytes(
            session.execute(text("SELECT entry_secret FROM waves_entries WHERE id = :i"), {"i": entry.id}).scalar_one()
        )
        assert receipt.entry_secret.encode() not in stored and bytes.fromhex(receipt.entry_secret) not in stored

    @pytest.mark.parametrize(
        ("kwargs", "consent", "code", "status"),
        [
            ({"verified": False}, True, "identity_not_verified", 403),
            ({}, False, "consent_required", 422),
            ({"regency": "3171"}, True, "wave_not_for_domicile", 409),
            ({"birth_date": datetime.date(2015, 1, 1)}, True, "not_eligible", 409),
        ],
    )
    def test_refusals(self, session: Session, kwargs: dict[str, object], consent: bool, code: str, status: int) -> None:
        applicant = create_applicant(session, **kwargs)  # type: ignore[arg-type]
        wave = open_wave(session, provinces=("32",))
        with pytest.raises(DomainError) as caught:
            service.join(session, account_id=applicant.account_id, wave_id=wave.id, consent=consent)
        assert (caught.value.code, caught.value.status_code) == (code, status)
        assert entries(session) == 0

    def test_never_two_waves_at_once(self, session: Session) -> None:
        applicant = create_applicant(session)
        first, second = open_wave(session), open_wave(session)
        service.join(session, account_id=applicant.account_id, wave_id=first.id, consent=True)
        for target in (first, second):
            with pytest.raises(DomainError) as caught:
                service.join(session, account_id=applicant.account_id, wave_id=target.id, consent=True)
            assert caught.value.code == "already_in_wave"
        assert entries(session) == 1

    def test_past_recipient_and_revoked_refused(self, session: Session) -> None:
        nik_a, nik_b = make_nik(), make_nik()
        a = create_applicant(session, nik=nik_a)
        b = create_applicant(session, nik=nik_b)
        put_on_list(session, [nik_a], list_type="past_recipient")
        put_on_list(session, [nik_b], list_type="revoked")
        wave = open_wave(session)
        for person in (a, b):
            with pytest.raises(DomainError) as caught:
                service.join(session, account_id=person.account_id, wave_id=wave.id, consent=True)
            assert caught.value.code == "once_per_lifetime"
        assert entries(session) == 0

    def test_closed_wave_refused(self, session: Session) -> None:
        applicant = create_applicant(session)
        wave = open_wave(session)
        with clock.frozen(NOW + timedelta(days=7)), pytest.raises(DomainError) as caught:
            service.join(session, account_id=applicant.account_id, wave_id=wave.id, consent=True)
        assert caught.value.code == "wave_not_open"


class TestClose:
    def test_recheck_against_current_lists_and_tiers(self, session: Session) -> None:
        niks = [make_nik(regency="3201"), make_nik(regency="3201"), make_nik(regency="9301"), make_nik(regency="3201")]
        people = [create_applicant(session, nik=n, regency=n[:4]) for n in niks]
        wave = open_wave(
            session,
            tiers=[{"name": "PHK", "whitelist_types": ["laid_off"]}, {"name": "miskin ekstrem", "regencies": ["9301"]}],
        )
        for person in people:
            service.join(session, account_id=person.account_id, wave_id=wave.id, consent=True)
        put_on_list(session, [niks[0]], list_type="asn")  # became a civil servant after joining
        put_on_list(session, [niks[1]], list_type="laid_off", kind=ListKind.whitelist)
        closed = service.close_wave(session, wave.id, actor=PMO)
        assert closed.state is WaveState.closed and (closed.eligible_count, closed.ineligible_count) == (3, 1)
        got = {
            e.applicant_id: (e.status, e.tier, e.ineligible_reason)
            for e in session.scalars(select(Entry).where(Entry.wave_id == wave.id))
        }
        assert got[people[0].applicant_id] == (EntryStatus.ineligible, None, "banned")
        assert got[people[1].applicant_id] == (EntryStatus.eligible, 0, None)
        assert got[people[2].applicant_id] == (EntryStatus.eligible, 1, None)
        assert got[people[3].applicant_id] == (EntryStatus.eligible, 2, None)
        rows = service.eligible_rows(session, wave.id)
        assert [r[0] for r in rows] == sorted(r[0] for r in rows) and len(rows) == 3
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "waves.closed"))

    def test_closing_twice_refused(self, session: Session) -> None:
        wave = open_wave(session)
        service.close_wave(session, wave.id, actor=PMO)
        with pytest.raises(DomainError) as caught:
            service.close_wave(session, wave.id, actor=PMO)
        assert (caught.value.code, caught.value.status_code) == ("wave_not_open", 409)


class TestQuotas:
    def test_unknown_region_and_negative_change_nothing(self, session: Session) -> None:
        wave = open_wave(session)
        service.set_quotas(session, wave.id, {"3201": 10}, method="csv", actor=PMO)
        session.commit()
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
        cases = (
            ({"3201": 5, "0000": 5}, "quota_unknown_region"),
            ({"3201": 5, "3299": 5}, "quota_unknown_region"),  # well shaped, but no such regency in Jawa Barat
            ({"3201": -1}, "quota_negative"),
        )
        for table, code in cases:
            with pytest.raises(DomainError) as caught:
                service.set_quotas(session, wave.id, table, method="csv", actor=PMO)
            assert caught.value.code == "invalid_quotas" and caught.value.status_code == 422
            assert code in [p["code"] for p in caught.value.details["problems"]]
            session.rollback()
        assert service.quotas(session, wave.id) == {"3201": 10}
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits

    def test_csv_with_bad_lines(self, session: Session) -> None:
        wave = open_wave(session)
        with pytest.raises(DomainError) as caught:
            service.set_quotas_from_csv(session, wave.id, "stratum,quota\n3201,-4\n3202,x\n", actor=PMO)
        assert [p["line"] for p in caught.value.details["problems"]] == [2, 3]
        assert service.quotas(session, wave.id) == {}

    def test_by_applicants(self, session: Session) -> None:
        wave = open_wave(session)
        for regency in ("3201", "3201", "3201", "3273"):
            person = create_applicant(session, regency=regency)
            service.join(session, account_id=person.account_id, wave_id=wave.id, consent=True)
        assert service.set_quotas_by_applicants(session, wave.id, actor=PMO) == {"3201": 8, "3273": 2}

    def test_labour_force_with_weights(self, session: Session) -> None:
        wave = open_wave(session)
        got = service.set_quotas_by_labour_force(
            session, wave.id, "stratum,labour_force,weight\n3201,300,1\n3273,100,3\n", actor=PMO
        )
        assert got == {"3201": 5, "3273": 5}

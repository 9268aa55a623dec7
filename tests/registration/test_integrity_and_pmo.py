"""Integrity flags for review, and the PMO's applicant pages: look-up by NIK through the blind index, masked data,
decisions with reasons, and every officer action in the audit log."""

from __future__ import annotations

import datetime
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.eligibility import service as eligibility
from prakerja.eligibility.rules import ApplicantFacts, EligibilityParams
from prakerja.kit.clock import Clock
from prakerja.kit.pii import blind_index
from prakerja.registration.models import Applicant, IdentityCheck, IntegrityFlag
from prakerja.registration.service import integrity, record_signal
from tests.registration.conftest import csrf
from tests.registration.factories import create_applicant
from tests.web.test_shell import create_account, login


def flags(session: Session) -> set[tuple[str, int]]:
    session.expire_all()
    rows = session.scalars(select(IntegrityFlag)).all()
    return {(f.kind, f.detail.get("people") or f.detail.get("registrations")) for f in rows}


class TestFlags:
    def test_shared_payout_account_and_phone(self, session: Session) -> None:
        people = [create_applicant(session) for _ in range(4)]
        for p in people[:3]:
            record_signal(session, applicant_id=p.applicant_id, kind="payout_account", value="BNI-0011223344")
        for p in people[:2]:
            record_signal(session, applicant_id=p.applicant_id, kind="device", value="device-abc")
        integrity.scan(session)
        session.commit()
        assert flags(session) == {("shared_payout_account", 3)}
        assert session.scalar(select(func.count()).select_from(IntegrityFlag)) == 3
        integrity.scan(session)  # rerunnable: nothing doubles
        session.commit()
        assert session.scalar(select(func.count()).select_from(IntegrityFlag)) == 3

    def test_registration_burst_from_one_ip(self, session: Session, frozen_clock: Clock) -> None:
        for _ in range(integrity.BURST_THRESHOLD):
            snap = create_applicant(session)
            session.query(Applicant).filter(Applicant.id == snap.applicant_id).update(
                {"registration_ip_index": blind_index("10.0.0.7", "ip")}
            )
            frozen_clock.advance(timedelta(seconds=10))  # type: ignore[attr-defined]
        lone = create_applicant(session)
        session.query(Applicant).filter(Applicant.id == lone.applicant_id).update(
            {"registration_ip_index": blind_index("10.9.9.9", "ip")}
        )
        integrity.scan(session)
        session.commit()
        assert ("ip_burst", integrity.BURST_THRESHOLD) in flags(session)
        bursts = session.scalars(select(IntegrityFlag.applicant_id).where(IntegrityFlag.kind == "ip_burst")).all()
        assert len(bursts) == 1  # only the one that completed the burst
        shared = session.scalars(select(IntegrityFlag.applicant_id).where(IntegrityFlag.kind == "shared_ip")).all()
        assert len(shared) == integrity.BURST_THRESHOLD and lone.applicant_id not in shared

    def test_review_is_audited(self, session: Session) -> None:
        people = [create_applicant(session) for _ in range(3)]
        for p in people:
            record_signal(session, applicant_id=p.applicant_id, kind="phone", value="+628111")
        integrity.scan(session)
        flag = session.scalars(select(IntegrityFlag)).first()
        assert flag is not None
        integrity.review_flag(session, flag_id=flag.id, actor=Actor(id=None, role="pmo_officer"), note="keluarga")
        session.commit()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.flag_reviewed")).one()
        assert entry.reason == "keluarga" and entry.data["flag"] == "shared_phone"


def officer(client: TestClient, session: Session) -> None:
    create_account(session, email="petugas@example.org", role=Role.pmo_officer, name="Petugas")
    login(client, "petugas@example.org")


class TestPmoPages:
    def test_find_by_nik_masked_and_audited(self, client: TestClient, session: Session) -> None:
        nik = "3201011505950007"
        snap = create_applicant(
            session,
            nik=nik,
            full_name="Siti Rahmawati",
            birth_date=datetime.date(1995, 5, 15),
            ktp_district="517101",
        )
        params = EligibilityParams("2023-normal", "2023.1", 18, 64, 2, False)
        facts = ApplicantFacts(
            birth_date=snap.birth_date,
            wave_date=datetime.date(2026, 3, 1),
            citizen=True,
            is_student=False,
            exclusion_lists={"asn"},
            kk_existing_recipients=0,
            is_past_recipient=False,
            is_revoked=False,
        )
        eligibility.decide(session, applicant_id=snap.applicant_id, facts=facts, params=params, context="join")
        session.commit()
        officer(client, session)
        assert "Cari pendaftar (NIK)" in client.get("/pmo").text
        found = client.post("/pmo/pendaftar", data={"nik": nik, "csrf_token": csrf(client, "/pmo/pendaftar")})
        assert found.status_code == 200 and str(snap.applicant_id) in str(found.url)
        html = found.text
        assert nik not in html and "************0007" in html
        assert "Siti Rahmawati" not in html and "S*** R********" in html
        assert (
            'data-testid="ktp-regency">5171 Kota Denpasar<' in html and "Jl. Contoh" not in html
        )  # codes shown, never the text
        assert "Tidak layak" in html and "banned" in html and "2023-normal@2023.1" in html
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert "registration.applicant_searched" in actions and "registration.applicant_viewed" in actions
        assert all(nik not in str(e.data) for e in session.scalars(select(AuditEntry)))

    def test_unknown_nik(self, client: TestClient, session: Session) -> None:
        officer(client, session)
        response = client.post(
            "/pmo/pendaftar", data={"nik": "3201011505950001", "csrf_token": csrf(client, "/pmo/pendaftar")}
        )
        assert response.status_code == 404 and 'id="nik-error"' in response.text
        searched = select(AuditEntry.data).where(AuditEntry.action == "registration.applicant_searched")
        assert session.scalars(searched).one() == {"found": False}

    def test_recheck_is_audited_and_queues_a_job(self, client: TestClient, session: Session) -> None:
        snap = create_applicant(session)
        session.commit()
        officer(client, session)
        path = f"/pmo/pendaftar/{snap.applicant_id}"
        response = client.post(
            path + "/periksa-ulang", data={"reason": "data diperbaiki", "csrf_token": csrf(client, path)}
        )
        assert response.status_code == 200
        assert session.scalar(select(func.count()).select_from(IdentityCheck)) == 1
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "registration.identity_recheck_requested")
        ).one()
        assert entry.reason == "data diperbaiki"

    def test_applicants_cannot_use_pmo_pages(self, client: TestClient, session: Session) -> None:
        create_account(session)
        login(client)
        assert client.get("/pmo/pendaftar").status_code == 403
        assert client.get("/pmo/tanda").status_code == 403

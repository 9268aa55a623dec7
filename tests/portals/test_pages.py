"""The portals through the app: an institution's courses with curation reasons, its course form (submit, change,
refusals next to the fields, nothing written), a platform's listings with the conflict-of-interest flag, and the
officer's partner page (profile, people, designation). Each account sees only its own organisation."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course, CourseStatus, Listing
from prakerja.partners import service as partners
from prakerja.partners.models import PartnerContact
from tests.catalog.conftest import BODY, OFFICER, Partner, approve, submit
from tests.partners.conftest import create_partner
from tests.web.test_shell import create_account, csrf, login

pytestmark = pytest.mark.usefixtures("frozen_clock")

ADMIN = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000a1"), role="pmo_admin")


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name="Lembaga Pelatihan Uji", role="institution")


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Belajar Uji", role="platform")


def member(session: Session, partner: Partner, email: str, role: Role) -> None:
    create_account(session, email=email, role=role, name="Staf " + email.split("@")[0])
    partners.add_member(session, partner_id=partner.partner_id, email=email, role="admin", actor=ADMIN)
    session.commit()


def signed_in_institution(client: TestClient, session: Session, institution: Partner) -> None:
    member(session, institution, "staf@lembaga.example", Role.institution)
    response = login(client, "staf@lembaga.example")
    assert response.status_code == 303 and response.headers["location"] == "/portal/lembaga"


def course_form(**overrides: str) -> dict[str, str]:
    """BODY as the portal's form fields (sessions in Jakarta time: 02:00Z is 09:00 WIB)."""
    form = {
        "title": BODY["title"],
        "category": BODY["category"],
        "competency_standard": BODY["competency_standard"],
        "syllabus": BODY["syllabus"],
        "format": "webinar",
        "hours": "15",
        "class_size": "100",
        "price": "1.000.000",
        "outside_price": "1200000",
        "outside_url": BODY["outside_url"],
        "interactive": "ya",
        "trainer_name_0": "Budi Santoso",
        "trainer_qualification_0": "Sertifikat BNSP Pemasaran Digital",
    }
    for n in range(5):
        form |= {f"session_date_{n}": f"2026-03-{16 + n}", f"session_time_{n}": "09:00", f"session_minutes_{n}": "180"}
    return form | overrides


class TestInstitutionPortal:
    def test_an_account_without_organisation_is_told_to_ask_the_program_office(
        self, client: TestClient, session: Session
    ) -> None:
        create_account(session, email="lepas@lembaga.example", role=Role.institution, name="Lepas")
        login(client, "lepas@lembaga.example")
        response = client.get("/portal/lembaga")
        assert response.status_code == 200 and "belum ditautkan" in response.text and "PMO" in response.text
        assert client.get("/portal/lembaga/pelatihan/baru").status_code == 403

    def test_courses_with_status_and_the_curators_reasons(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id, interactive=False)
        catalog.curation.curate(
            session,
            course_id=course.id,
            decision="changes_requested",
            reasons=["not_interactive"],
            note="Tambahkan sesi tanya jawab.",
            officer=OFFICER,
        )
        other = create_partner(session, name="Lembaga Lain", role="institution")
        submit(session, other.partner_id, title="Pelatihan Lembaga Lain Sekali")
        session.commit()
        signed_in_institution(client, session, institution)
        html = client.get("/portal/lembaga").text
        assert "Lembaga Pelatihan Uji" in html and BODY["title"] in html and "Perlu perbaikan" in html
        assert "Pelatihan harus interaktif" in html and "Tambahkan sesi tanya jawab." in html
        assert "Pelatihan Lembaga Lain Sekali" not in html
        for section in ("participants", "attendance", "completions", "statements"):
            assert re.search(rf'data-testid="{section}">\s*<li class="muted">Belum ada data', html)

    def test_submit_through_the_form_goes_to_curation(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        signed_in_institution(client, session, institution)
        token = csrf(client, "/portal/lembaga/pelatihan/baru")
        response = client.post(
            "/portal/lembaga/pelatihan/baru", data=course_form(csrf_token=token), follow_redirects=False
        )
        assert response.status_code == 303
        course = session.scalars(select(Course)).one()
        assert response.headers["location"] == f"/portal/lembaga/pelatihan/{course.id}"
        assert (course.institution_id, course.status, course.price) == (
            institution.partner_id,
            CourseStatus.in_curation,
            1_000_000,
        )
        sessions = catalog.course_sessions(session, course.id)
        assert [s.starts_at.isoformat() for s in sessions][:1] == ["2026-03-16T02:00:00+00:00"]
        page = client.get(response.headers["location"]).text
        assert "Dalam kurasi" in page and 'value="09:00"' in page and 'value="2026-03-16"' in page
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.course_submitted")).one()
        assert entry.actor_role == "institution"

    def test_bad_form_shows_each_problem_and_writes_nothing(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        signed_in_institution(client, session, institution)
        token = csrf(client, "/portal/lembaga/pelatihan/baru")
        form = course_form(csrf_token=token, title="Abc", price="banyak", format="offline", trainer_name_0="")
        form |= {"session_place_1": "", "session_province_1": ""}
        response = client.post("/portal/lembaga/pelatihan/baru", data=form)
        assert response.status_code == 422 and "Data pelatihan tidak valid." in response.text
        assert 'id="title-error"' in response.text and "Judul 5-200 karakter." in response.text
        assert 'id="price-error"' in response.text and 'value="banyak"' in response.text
        assert session.scalar(select(func.count()).select_from(Course)) == 0

    def test_a_change_sends_an_approved_course_back_to_curation(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        session.commit()
        signed_in_institution(client, session, institution)
        page = client.get(f"/portal/lembaga/pelatihan/{course.id}").text
        assert "Disetujui" in page and "mengembalikan pelatihan yang sudah disetujui ke kurasi" in page
        token = csrf(client, f"/portal/lembaga/pelatihan/{course.id}")
        form = course_form(
            csrf_token=token, price="900000", trainer_qualification_0="Sertifikat BNSP", outside_price="1200000"
        )
        form["trainer_name_1"], form["trainer_qualification_1"] = "Dewi Lestari", "Praktisi iklan daring 5 tahun"
        response = client.post(f"/portal/lembaga/pelatihan/{course.id}", data=form, follow_redirects=False)
        assert response.status_code == 303
        session.expire_all()
        changed = catalog.get_course(session, course.id)
        assert (changed.status, changed.version, changed.price) == (CourseStatus.in_curation, 2, 900_000)

    def test_another_institutions_course_is_not_found(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        other = create_partner(session, name="Lembaga Lain", role="institution")
        course = submit(session, other.partner_id)
        session.commit()
        signed_in_institution(client, session, institution)
        assert client.get(f"/portal/lembaga/pelatihan/{course.id}").status_code == 404
        assert client.get("/portal/lembaga/pelatihan/bukan-id").status_code == 404

    def test_a_suspended_institution_reads_but_cannot_submit(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        signed_in_institution(client, session, institution)
        token = csrf(client, "/portal/lembaga/pelatihan/baru")
        partners.change_designation(
            session, partner_id=institution.partner_id, status="suspended", reason="Audit", actor=ADMIN
        )
        session.commit()
        html = client.get("/portal/lembaga").text
        assert "Ditangguhkan" in html and "Ajukan pelatihan baru" not in html
        response = client.post("/portal/lembaga/pelatihan/baru", data=course_form(csrf_token=token))
        assert response.status_code == 403
        assert session.scalar(select(func.count()).select_from(Course)) == 0

    def test_other_roles_cannot_open_it(self, client: TestClient, session: Session, platform: Partner) -> None:
        member(session, platform, "staf@platform.example", Role.platform)
        login(client, "staf@platform.example")
        assert client.get("/portal/lembaga").status_code == 403


class TestPlatformPortal:
    def test_list_a_course_with_the_conflict_flag(
        self, client: TestClient, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        catalog.curation.record_link(
            session,
            platform_id=platform.partner_id,
            institution_id=institution.partner_id,
            kind="ownership",
            evidence="Akta: pemilik yang sama.",
            actor=ADMIN,
        )
        member(session, platform, "staf@platform.example", Role.platform)
        response = login(client, "staf@platform.example")
        assert response.headers["location"] == "/portal/platform"
        html = client.get("/portal/platform").text
        assert "Belum ada penawaran." in html and BODY["title"] in html
        assert re.search(r'data-testid="sales-by-state">\s*<li class="muted">Belum ada data', html)
        token = csrf(client, "/portal/platform")
        url = "https://platform.example/kursus/1"
        response = client.post(
            "/portal/platform/penawaran",
            data={"course_id": str(course.id), "url": url, "price": "950000", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        listing = session.scalars(select(Listing)).one()
        assert (listing.platform_id, listing.price, listing.url) == (platform.partner_id, 950_000, url)
        html = client.get("/portal/platform").text
        assert "Rp950.000" in html and 'data-testid="conflict"' in html and "Konflik kepentingan" in html

    def test_price_above_the_curated_price_is_refused_next_to_the_field(
        self, client: TestClient, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        member(session, platform, "staf@platform.example", Role.platform)
        login(client, "staf@platform.example")
        token = csrf(client, "/portal/platform")
        for price, url, field in (
            ("2000000", "https://platform.example/k/1", "price"),
            ("900000", "http://tidak-aman.example", "url"),
        ):
            response = client.post(
                "/portal/platform/penawaran",
                data={"course_id": str(course.id), "url": url, "price": price, "csrf_token": token},
            )
            assert response.status_code == 422 and f'id="{field}-error"' in response.text
        assert session.scalar(select(func.count()).select_from(Listing)) == 0


class TestOfficerPartnerPage:
    def test_admin_manages_profile_people_and_designation(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        create_account(session, email="staf@lembaga.example", role=Role.institution, name="Staf Lembaga")
        create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin PMO")
        login(client, "admin@pmo.example")
        page = f"/pmo/mitra/{institution.partner_id}"
        html = client.get(page).text
        assert "Lembaga Pelatihan Uji" in html and "Penetapan" in html and "Ditetapkan" in html
        token = csrf(client, page)
        steps = [
            (
                "/profil",
                {"legal_name": "Yayasan Uji", "registration_number": "9120001234567", "owner_type": "university"},
            ),
            (
                "/kontak",
                {
                    "contact_name": "Rina Kartika",
                    "contact_email": "rina@uji.example",
                    "contact_phone": "0812 9876 5432",
                },
            ),
            ("/pelatih", {"trainer_name": "Budi Santoso", "trainer_qualification": "BNSP"}),
            ("/dokumen", {"document_kind": "deed", "document_reference": "Akta 1/2020"}),
            ("/anggota", {"member_email": "staf@lembaga.example", "member_role": "staff"}),
            ("/penetapan", {"status": "suspended", "reason": "Laporan terlambat"}),
        ]
        for path, data in steps:
            response = client.post(page + path, data={**data, "csrf_token": token}, follow_redirects=False)
            assert response.status_code == 303, (path, response.text[:300])
        html = client.get(page).text
        for text in ("Yayasan Uji", "9120001234567", "Perguruan tinggi", "Rina Kartika", "Budi Santoso", "Akta 1/2020"):
            assert text in html
        assert "Staf Lembaga" in html and "Ditangguhkan" in html and "Laporan terlambat" in html
        assert "rina@uji.example" not in html  # contacts' e-mail and phone are shown masked
        assert session.scalar(select(func.count()).select_from(PartnerContact)) == 1

    def test_refusals_show_on_the_page_and_write_nothing(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin PMO")
        login(client, "admin@pmo.example")
        page = f"/pmo/mitra/{institution.partner_id}"
        token = csrf(client, page)
        response = client.post(page + "/penetapan", data={"status": "delisted", "reason": "", "csrf_token": token})
        assert response.status_code == 422 and "Tuliskan alasan perubahan status." in response.text
        response = client.post(
            page + "/anggota",
            data={"member_email": "tidak.ada@example.org", "member_role": "admin", "csrf_token": token},
        )
        assert response.status_code == 422 and 'id="member_email-error"' in response.text
        response = client.post(
            page + "/penetapan",
            data={"status": "delisted", "reason": "Fiktif", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        response = client.post(page + "/penetapan", data={"status": "active", "reason": "Coba", "csrf_token": token})
        assert response.status_code == 409
        assert partners.profile(session, institution.partner_id).status == partners.PartnerStatus.delisted

    def test_officers_read_and_only_administrators_change(
        self, client: TestClient, session: Session, institution: Partner, platform: Partner
    ) -> None:
        catalog.curation.record_link(
            session,
            platform_id=platform.partner_id,
            institution_id=institution.partner_id,
            kind="shared_person",
            evidence="Direktur yang sama.",
            actor=ADMIN,
        )
        create_account(session, email="petugas@pmo.example", role=Role.pmo_officer, name="Petugas PMO")
        login(client, "petugas@pmo.example")
        page = f"/pmo/mitra/{platform.partner_id}"
        html = client.get(page).text
        assert 'data-testid="conflicts"' in html and "Lembaga Pelatihan Uji" in html
        assert "Penetapan" not in html and 'data-testid="reach"' in html
        assert 'href="/pmo/mitra"' not in html  # no link to the administrators' key page an officer cannot open
        response = client.post(
            page + "/penetapan", data={"status": "suspended", "reason": "x", "csrf_token": csrf(client, page)}
        )
        assert response.status_code == 403
        assert client.get(f"/pmo/mitra/{uuid.uuid4()}").status_code == 404
        bank = partners.create_partner(session, name="Bank Uji", role="payment_partner", actor=Actor.system())
        session.commit()
        html = client.get(f"/pmo/mitra/{bank.id}").text  # every role in words, a payment partner's too
        assert "<p>Mitra pembayaran · Status di program" in html and "payment_partner" not in html

"""The catalogue pages through the app: the public catalogue and course page, the officer's queue, decision page,
links page and partner page. Bad filters are ignored, never an error page."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.auth.models import Account, Role
from prakerja.catalog import service
from prakerja.catalog.models import CourseStatus, CurationDecision, PartnerLink
from tests.catalog.conftest import BODY, OFFLINE, Partner, approve, count, submit
from tests.ledger.conftest import allocate, funded_wallet
from tests.registration.factories import create_applicant
from tests.web.test_shell import PASSWORD, create_account, csrf, login

pytestmark = pytest.mark.usefixtures("frozen_clock")


def officer(client: TestClient, session: Session) -> None:
    create_account(session, email="kurator@example.org", role=Role.pmo_officer, name="Kurator PMO")
    assert login(client, "kurator@example.org").status_code == 303


class TestCatalogue:
    def test_search_and_course_page_in_indonesian(
        self, client: TestClient, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        service.listings.put_listing(
            session,
            course_id=course.id,
            platform_id=platform.partner_id,
            url="https://platform.example/kursus/1",
            price=950_000,
            actor=service.organisations.audit.Actor.system(),
        )
        session.commit()
        html = client.get("/pelatihan", params={"q": "memasarkan"}).text
        assert '<html lang="id">' in html and "Cari pelatihan" in html
        assert BODY["title"] in html and "Mulai Rp950.000" in html and "Pemasaran" in html
        page = client.get(f"/pelatihan/{course.id}").text
        assert "Lembaga Pelatihan Uji" in page and "Platform Belajar Uji" in page and "Rp950.000" in page
        assert "Belum ada penilaian" in page and "23:00" not in page and "09:00 WIB" in page
        assert "Budi Santoso" not in page  # trainers' names are personal data: qualifications only

    def test_bad_filters_are_ignored(self, client: TestClient, session: Session, institution: Partner) -> None:
        approve(session, submit(session, institution.partner_id))
        session.commit()
        response = client.get(
            "/pelatihan",
            params={
                "harga_maks": "abc",
                "rating_min": "9",
                "kategori": "x",
                "format": "y",
                "halaman": "-1",
                "urut": "z",
            },
        )
        assert response.status_code == 200 and BODY["title"] in response.text

    def test_filters_in_other_digits_are_ignored_not_a_server_error(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        """``"²".isdigit()`` is true but ``int("²")`` raises: such a filter was a 500 before (kit/digits.py)."""
        approve(session, submit(session, institution.partner_id))
        session.commit()
        response = client.get(
            "/pelatihan", params={"harga_maks": "\u00b2", "rating_min": "\u00b2", "halaman": "\u00b2"}
        )
        assert response.status_code == 200 and BODY["title"] in response.text
        # Arabic-Indic digits are refused with a clear 4xx by the digits policy, never a 5xx
        assert client.get("/pelatihan", params={"halaman": "\u0661\u0662"}).status_code < 500

    def test_a_course_not_approved_has_no_public_page(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        session.commit()
        assert client.get(f"/pelatihan/{course.id}").status_code == 404
        assert client.get("/pelatihan/bukan-id").status_code == 404

    def test_a_participant_filters_by_remaining_balance(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        approve(session, submit(session, institution.partner_id))  # Rp1,000,000
        approve(session, submit(session, institution.partner_id, OFFLINE))  # Rp2,500,000
        person = create_applicant(session, email="peserta@example.org")
        account = session.get(Account, person.account_id)
        assert account is not None
        from prakerja.auth.rules import hash_password

        account.password_hash = hash_password(PASSWORD)
        allocate(session)
        funded_wallet(session, participant=person.applicant_id, amount=2_000_000)
        session.commit()
        login(client, "peserta@example.org")
        html = client.get("/pelatihan").text
        assert "Rp2.000.000" in html and BODY["title"] in html and OFFLINE["title"] in html
        within = client.get("/pelatihan", params={"saldo": "1"}).text
        assert BODY["title"] in within and OFFLINE["title"] not in within


class TestOfficerPages:
    def test_signed_out_and_applicants_are_kept_out(self, client: TestClient, session: Session) -> None:
        assert client.get("/pmo/kurasi", follow_redirects=False).status_code == 303
        create_account(session)
        login(client)
        assert client.get("/pmo/kurasi").status_code == 403

    def test_officer_approves_from_the_decision_page(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        session.commit()
        officer(client, session)
        assert BODY["title"] in client.get("/pmo/kurasi").text
        page = client.get(f"/pmo/kurasi/{course.id}").text
        assert "Lolos" in page or "✓" in page
        assert "✓ Harga di Prakerja tidak boleh melebihi harga di luar Prakerja." in page  # the check in words
        assert "price_above_outside_price</code>" not in page and 'data-code="price_above_outside_price"' in page
        assert "Budi Santoso" in page  # the officer sees who the trainers are
        response = client.post(
            f"/pmo/kurasi/{course.id}",
            data={"decision": "approved", "version": "1", "note": "", "csrf_token": csrf(client, "/pmo/kurasi")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/pmo/kurasi/{course.id}"
        session.refresh(course)
        assert course.status == CourseStatus.approved

    def test_approving_a_failing_course_shows_the_refusal_and_writes_nothing(
        self, client: TestClient, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id, outside_price=0)
        session.commit()
        officer(client, session)
        response = client.post(
            f"/pmo/kurasi/{course.id}",
            data={"decision": "approved", "version": "1", "csrf_token": csrf(client, "/pmo/kurasi")},
        )
        assert response.status_code == 422
        assert "tidak dapat disetujui" in response.text and 'role="alert"' in response.text
        assert count(session, CurationDecision) == 0
        response = client.post(
            f"/pmo/kurasi/{course.id}",
            data={
                "decision": "changes_requested",
                "version": "1",
                "reasons": ["free_elsewhere", "price_above_outside_price"],
                "note": "Cantumkan harga di luar Prakerja.",
                "csrf_token": csrf(client, "/pmo/kurasi"),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        decision = session.query(CurationDecision).one()
        assert decision.reasons == ["free_elsewhere", "price_above_outside_price"]

    def test_links_page_records_a_link_shown_on_both_partner_pages(
        self, client: TestClient, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        service.listings.put_listing(
            session,
            course_id=course.id,
            platform_id=platform.partner_id,
            url="https://platform.example/kursus/1",
            price=950_000,
            actor=service.organisations.audit.Actor.system(),
        )
        session.commit()
        officer(client, session)
        bad = client.post(
            "/pmo/kurasi/tautan",
            data={"platform_id": str(uuid.uuid4()), "csrf_token": csrf(client, "/pmo/kurasi/tautan")},
        )
        assert bad.status_code == 422 and count(session, PartnerLink) == 0
        response = client.post(
            "/pmo/kurasi/tautan",
            data={
                "platform_id": str(platform.partner_id),
                "institution_id": str(institution.partner_id),
                "kind": "ownership",
                "evidence": "Akta: pemilik yang sama.",
                "csrf_token": csrf(client, "/pmo/kurasi/tautan"),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303 and count(session, PartnerLink) == 1
        for side in (platform.partner_id, institution.partner_id):
            html = client.get(f"/pmo/katalog/mitra/{side}").text
            assert "Konflik kepentingan" in html and BODY["title"] in html
        queue_course = submit(session, institution.partner_id, title="Pemasaran Lanjutan untuk UMKM")
        session.commit()
        assert re.search(r"Konflik kepentingan", client.get(f"/pmo/kurasi/{queue_course.id}").text)

"""The public routes: page, JSON, PDF, QR code, DID document, status lists."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.certificates import service
from prakerja.config import get_settings
from prakerja.kit.ids import new_id
from tests.certificates.conftest import HOLDER, OFFICER, issue_certificate


class TestCertificatePage:
    def test_page_in_indonesian_with_full_name_and_qr_to_the_public_url(
        self, session: Session, client: TestClient
    ) -> None:
        certificate = issue_certificate(session)
        session.commit()
        response = client.get(f"/sertifikat/{certificate.id}")
        assert response.status_code == 200
        html = response.text
        assert '<html lang="id">' in html
        assert "Sertifikat pelatihan Kartu Prakerja" in html and "Sertifikat ini sah." in html
        assert HOLDER in html and "Pemasaran Digital untuk UMKM" in html
        assert response.headers["x-robots-tag"] == "noindex"
        public = f"{get_settings().public_base_url}/sertifikat/{certificate.id}"
        assert public in html and "testserver" not in html

    def test_english_through_the_language_switch(self, session: Session, client: TestClient) -> None:
        certificate = issue_certificate(session)
        session.commit()
        client.get(f"/bahasa/en?next=/sertifikat/{certificate.id}")
        html = client.get(f"/sertifikat/{certificate.id}").text
        assert '<html lang="en">' in html and "This certificate is valid." in html

    def test_revoked_page_says_so_and_masks_the_name(self, session: Session, client: TestClient) -> None:
        certificate = issue_certificate(session)
        service.revoke(session, str(certificate.id), reason="Penyelesaian dibatalkan", actor=OFFICER)
        session.commit()
        html = client.get(f"/sertifikat/{certificate.id}").text
        assert "Sertifikat ini telah dicabut dan tidak berlaku lagi." in html
        assert HOLDER not in html and "Ni M**e D**i L*****i" in html

    def test_unknown_certificate_is_404_with_a_stable_code(self, client: TestClient) -> None:
        for path in (f"/sertifikat/{new_id()}", "/sertifikat/bukan-id", f"/sertifikat/{new_id()}.pdf"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "Sertifikat tidak ditemukan." in response.text
        json_response = client.get(f"/sertifikat/{new_id()}.json")
        assert json_response.status_code == 404 and json_response.json()["code"] == "certificate_not_found"
        api = client.get(f"/sertifikat/{new_id()}", headers={"Accept": "application/json"})
        assert api.status_code == 404 and api.json()["code"] == "certificate_not_found"

    def test_template_strings_are_translated(self) -> None:
        from pathlib import Path

        from prakerja.web.i18n import translations

        template = Path(service.__file__).resolve().parents[1] / "templates" / "certificate.html"
        catalogue = translations("id")
        strings = re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", template.read_text())
        assert strings and [s for s in strings if catalogue.gettext(s) == s] == []


class TestDocuments:
    def test_json_is_the_signed_credential(self, session: Session, client: TestClient) -> None:
        certificate = issue_certificate(session)
        session.commit()
        document = client.get(f"/sertifikat/{certificate.id}.json").json()
        assert document == service.credential_of(certificate)
        assert service.verify_credential(session, document).valid

    def test_pdf_and_qr(self, session: Session, client: TestClient) -> None:
        certificate = issue_certificate(session)
        session.commit()
        pdf = client.get(f"/sertifikat/{certificate.id}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 1000
        qr = client.get(f"/sertifikat/{certificate.id}/qr.svg")
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in qr.content

    def test_did_document_lists_the_signing_key(self, session: Session, client: TestClient) -> None:
        certificate = issue_certificate(session)
        session.commit()
        did_document = client.get("/.well-known/did.json").json()
        assert did_document["id"] == service.did() and did_document["id"].startswith("did:web:")
        method = did_document["verificationMethod"][0]
        assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
        assert method["id"] == f"{service.did()}#{certificate.key_id}"

    def test_status_list_credential(self, session: Session, client: TestClient) -> None:
        issue_certificate(session)
        session.commit()
        listed = client.get("/sertifikat/status/1").json()
        assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert listed["credentialSubject"]["encodedList"].startswith("u")
        assert listed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        for missing in ("/sertifikat/status/2", "/sertifikat/status/0", "/sertifikat/status/x"):
            response = client.get(missing)
            assert response.status_code == 404 and response.json()["code"] == "status_list_not_found"

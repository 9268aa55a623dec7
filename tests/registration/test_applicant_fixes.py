"""The applicant half of the journeys issue, point by point (HTTP level; the browser journey is in tests/e2e)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.registration.models import Applicant
from tests.registration.test_wizard import complete_identity, csrf, post


def test_sign_up_is_linked_from_home_and_sign_in(client: TestClient) -> None:
    assert 'href="/daftar"' in client.get("/").text
    login = client.get("/masuk").text
    assert 'href="/daftar"' in login and 'href="/lupa-sandi"' in login


def test_identity_error_keeps_nik_and_kk(applicant_client: TestClient) -> None:
    nik, kk = "3201011501900001", "3201010101090001"
    response = post(applicant_client, "identitas", {"nik": nik, "kk": kk, "birth_date": "", "sex": "F"})
    assert response.status_code == 422
    assert f'value="{nik}"' in response.text and f'value="{kk}"' in response.text


def test_unanswered_yes_no_questions_are_refused(applicant_client: TestClient, session: Session) -> None:
    complete_identity(applicant_client)
    response = post(applicant_client, "latar", {"education": "sma", "job_status": "laid_off"})
    assert response.status_code == 422
    for question in ("is_citizen", "declared_student", "has_disability", "former_migrant_worker"):
        assert f'id="{question}-error"' in response.text
    session.expire_all()
    assert session.scalars(select(Applicant.is_citizen)).first() is None


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_each_photo_problem_has_its_own_message_shown_once(applicant_client: TestClient) -> None:
    complete_identity(applicant_client)
    cases = {
        "photo_missing": ("", b"", "Belum ada foto"),
        "not_an_image": ("k.png", b"%PDF-1.4 nope", "bukan gambar JPEG atau PNG"),
        "too_small": ("k.png", _png(20, 20), "terlalu kecil"),
        "too_large": ("k.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 10), "terlalu besar"),
    }
    messages = set()
    for name, content, fragment in cases.values():
        response = post(applicant_client, "foto", {}, files={"ktp_photo": (name, content, "image/png")})
        assert response.status_code in (413, 422) and fragment in response.text
        assert response.text.count(fragment) == 1, "the message is shown once"
        messages.add(fragment)
    assert len(messages) == 4


def test_language_switch_after_a_refused_form_goes_to_a_get_page(applicant_client: TestClient) -> None:
    response = applicant_client.post(
        "/profil/telepon/kode",
        data={"code": "000000", "csrf_token": csrf(applicant_client, "/profil/telepon")},
        headers={"referer": "http://testserver/profil/telepon"},
    )
    assert response.status_code == 422
    assert "/bahasa/en?next=/profil/telepon" in response.text and "next=/profil/telepon/kode" not in response.text

"""The applicant half of the journeys issue, point by point (HTTP level; the browser journey is in tests/e2e)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.auth.models import Account
from prakerja.auth.rules import hash_password
from prakerja.eligibility import service as eligibility
from prakerja.notifications.models import Channel, Message
from prakerja.registration.models import AbilityAttempt, Applicant
from prakerja.waves import service as waves
from tests.registration.factories import create_applicant
from tests.registration.test_ability import make_wave
from tests.registration.test_wizard import complete_identity, csrf, post
from tests.selection.factories import PMO
from tests.web.test_shell import PASSWORD, login


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


# --- journeys points 3, 5, 7 and 8 (the browser journey covers the phone-sized pages) ---------------------------


def english(client: TestClient, html: str) -> TestClient:
    """Press "English" on a page: its link must lead to a page that answers a GET (never a POST-only path)."""
    link = re.search(r'href="(/bahasa/en\?next=[^"]*)"[^>]*data-testid="lang-switch"', html)
    assert link is not None, "no language switch"
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200, (link.group(1), response.status_code)
    client.get("/bahasa/id")
    return client


def _sms_code(session: Session) -> str:
    session.expire_all()
    body = session.scalars(
        select(Message.body).where(Message.channel == Channel.sms).order_by(Message.created_at.desc())
    ).first()
    code = re.search(r"\b(\d{6})\b", body or "")
    assert code is not None
    return code.group(1)


def _send_code(client: TestClient, phone: str = "0812 3456 7890") -> Response:
    return client.post("/profil/telepon/kirim", data={"phone": phone, "csrf_token": csrf(client, "/profil/telepon")})


def _confirm(client: TestClient, code: str) -> Response:
    return client.post("/profil/telepon/kode", data={"code": code, "csrf_token": csrf(client, "/profil/telepon")})


def test_pages_after_the_phone_code_and_the_ability_test_switch_language(
    applicant_client: TestClient, session: Session
) -> None:
    """Point 3: after each form the browser is on a GET page, so "English" answers 200, not 405."""
    complete_identity(applicant_client)
    sent = _send_code(applicant_client)
    assert sent.url.path == "/profil/telepon"
    english(applicant_client, sent.text)
    confirmed = _confirm(applicant_client, _sms_code(session))
    assert confirmed.url.path == "/profil/foto"
    english(applicant_client, confirmed.text)

    test = f"/tes/{make_wave(session).number}"  # the test runs only for a real wave open to the applicant
    started = applicant_client.post(f"{test}/mulai", data={"csrf_token": csrf(applicant_client, test)})
    assert started.url.path == test
    english(applicant_client, started.text)
    attempt = session.scalars(select(AbilityAttempt)).one()
    answers = {f"q_{item}": "0" for item in attempt.item_ids}
    submitted = applicant_client.post(f"{test}/kirim", data={**answers, "csrf_token": csrf(applicant_client, test)})
    assert submitted.url.path == test and 'data-testid="ability-score"' in submitted.text
    english(applicant_client, submitted.text)


def test_the_phone_step_says_where_the_code_went_keeps_the_box_and_when_a_lock_ends(
    applicant_client: TestClient, session: Session
) -> None:
    """Point 5: where the code was sent; reopening the step keeps the code box; while locked, until when."""
    complete_identity(applicant_client)
    _send_code(applicant_client)
    reopened = applicant_client.get("/profil/telepon").text
    sent = re.search(r'data-testid="code-sent">(.*?)</p>', reopened, re.S)
    assert sent is not None and "7890" in sent.group(1) and re.search(r"\d\d:\d\d WIB", sent.group(1))
    assert 'name="code"' in reopened
    applicant_client.get("/profil")
    assert 'name="code"' in applicant_client.get("/profil/telepon").text  # still there after going elsewhere
    wrong = "000000" if _sms_code(session) != "000000" else "111111"
    for _ in range(20):
        refused = _confirm(applicant_client, wrong)
        if 'data-testid="check-locked"' in refused.text:
            break
        assert refused.status_code in (422, 429)
    locked = applicant_client.get("/profil/telepon").text
    until = re.search(r'data-testid="check-locked">(.*?)</p>', locked, re.S)
    assert until is not None and re.search(r"\d\d:\d\d WIB, \d\d-\d\d-\d{4}", until.group(1)), locked[-1500:]
    assert 'name="code"' not in locked


@pytest.mark.parametrize(("regency", "zone"), [("3201", "WIB"), ("5171", "WITA"), ("9171", "WIT")])
def test_ability_deadline_in_the_persons_zone_and_the_score_with_its_scale(
    client: TestClient, session: Session, regency: str, zone: str
) -> None:
    """Point 7: the deadline in WIB, WITA or WIT by the person's province; the score out of 100, in words."""
    snapshot = create_applicant(session, regency=regency, email="peserta@example.org")
    account = session.get(Account, snapshot.account_id)
    assert account is not None
    account.password_hash = hash_password(PASSWORD)
    session.commit()
    assert login(client, "peserta@example.org").status_code == 303
    test = f"/tes/{make_wave(session).number}"
    page = client.post(f"{test}/mulai", data={"csrf_token": csrf(client, test)}).text
    deadline = re.search(r'data-testid="ability-deadline">(.*?)</p>', page, re.S)
    assert deadline is not None and re.search(rf"\d\d:\d\d {zone}, \d\d-\d\d-\d{{4}}", deadline.group(1))
    attempt = session.scalars(select(AbilityAttempt)).one()
    answers = {f"q_{item}": "0" for item in attempt.item_ids}
    scored = client.post(f"{test}/kirim", data={**answers, "csrf_token": csrf(client, test)}).text
    score = re.search(r'data-testid="ability-score">(.*?)</p>', scored, re.S)
    assert score is not None and re.search(
        r"\d+ / 100</strong> \((Sangat baik|Baik|Cukup|Perlu latihan)\)", score.group(1)
    )
    assert 'data-testid="ability-scale"' in scored and "0 sampai 100" in scored


def _open_wave(session: Session):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    wave = waves.create_wave(
        session,
        title="Gelombang Uji",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=2),
        total_quota=10,
        actor=PMO,
    )
    waves.open_wave(session, wave.id, actor=PMO)
    session.commit()
    return wave


def _signed_in(client: TestClient, session: Session, **applicant: object):  # type: ignore[no-untyped-def]
    snapshot = create_applicant(session, email="peserta@example.org", **applicant)  # type: ignore[arg-type]
    account = session.get(Account, snapshot.account_id)
    assert account is not None
    account.password_hash = hash_password(PASSWORD)
    session.commit()
    assert login(client, "peserta@example.org").status_code == 303
    return snapshot


def test_after_joining_the_receipt_switches_language_wraps_its_codes_and_offers_copy_and_proof(
    client: TestClient, session: Session
) -> None:
    """Point 3: join redirects to the receipt (a GET page); its long codes come in groups that wrap; copy and
    download are there, and the proof holds the secret."""
    wave = _open_wave(session)
    _signed_in(client, session)
    joined = client.post(
        f"/gelombang/{wave.id}/gabung", data={"consent": "yes", "csrf_token": csrf(client, "/gelombang")}
    )
    assert joined.url.path == f"/gelombang/{wave.id}/tanda-terima"
    english(client, joined.text)
    secret = re.search(r'data-testid="entry-secret" data-value="([0-9a-f]{64})">(.*?)</p>', joined.text, re.S)
    assert secret is not None
    assert re.findall(r"<span>([0-9a-f]{8})</span>", secret.group(2)) == re.findall(".{8}", secret.group(1))
    assert f'data-copy="{secret.group(1)}"' in joined.text and 'data-testid="copy-secret"' in joined.text
    proof = re.search(r'href="([^"]+\.txt)" download data-testid="download-proof"', joined.text)
    assert proof is not None
    assert secret.group(1) in client.get(proof.group(1)).text


def test_an_ineligible_join_keeps_its_decision_and_says_why_in_words(client: TestClient, session: Session) -> None:
    """Point 8: the refusal's eligibility decision is stored (not rolled back with the refusal) and its reasons
    are shown in words, not codes; the language switch after it leads to a GET page."""
    wave = _open_wave(session)
    snapshot = _signed_in(client, session, declared_student=True)
    refused = client.post(
        f"/gelombang/{wave.id}/gabung", data={"consent": "yes", "csrf_token": csrf(client, "/gelombang")}
    )
    assert refused.status_code in (403, 409, 422)
    reasons = re.search(r'<ul data-testid="join-reasons">(.*?)</ul>', refused.text, re.S)
    assert reasons is not None and "sedang menempuh pendidikan formal" in reasons.group(1)
    assert "student" not in reasons.group(1)
    english(client, refused.text)
    session.expire_all()
    stored = eligibility.decisions_for(session, snapshot.applicant_id)
    assert len(stored) == 1 and not stored[0].eligible and "student" in stored[0].reason_codes

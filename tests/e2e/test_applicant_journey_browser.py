"""The applicant's whole journey on a 360x740 phone, in Indonesian and once in English: sign-up from the home page,
the development mailbox, e-mail verification, identity with a mistake (what was typed is kept), phone code, the
wave's ability test, joining, the receipt with copy and download. No page is wider than the phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.notifications.models import Channel, Message
from prakerja.registration.models import Applicant
from prakerja.registration.rules import itembank
from prakerja.registration.service import identity
from prakerja.schemes import rules as scheme_rules
from prakerja.waves import service as waves
from tests.registration.conftest import person
from tests.selection.factories import PMO

pytestmark = pytest.mark.browser

P = person(1)
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport=PHONE, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def fits(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"


@pytest.fixture
def test_asked(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The 2023 scheme with the ability test required before joining."""
    real = scheme_rules.load("2023-normal")
    asked = real.model_copy(update={"eligibility": real.eligibility.model_copy(update={"ability_test_required": True})})
    monkeypatch.setattr(waves, "load", lambda name: asked if name == "2023-normal" else scheme_rules.load(name))
    return asked


def open_wave(session: Session):  # type: ignore[no-untyped-def]
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


def latest(session: Session, channel: Channel) -> str:
    session.expire_all()
    return (
        session.scalars(
            select(Message.body).where(Message.channel == channel).order_by(Message.created_at.desc())
        ).first()
        or ""
    )


def journey(page, live_server: str, session: Session, tmp_path, english: bool) -> None:  # type: ignore[no-untyped-def]
    t = (lambda id_, en: en) if english else (lambda id_, en: id_)
    wave = open_wave(session)
    page.goto(live_server + "/")
    if english:
        page.get_by_test_id("lang-switch").click()
        page.wait_for_url(live_server + "/")
    fits(page)
    page.get_by_test_id("signup-link").click()
    page.wait_for_url("**/daftar")
    fits(page)
    page.get_by_label(t("Nama Anda", "Your name")).fill("Agus Hidayat")
    page.get_by_label("E-mail").fill("agus@example.org")
    page.get_by_label(t("Kata sandi", "Password")).fill("kata-sandi-rahasia-sekali")
    page.get_by_role("button", name=t("Buat akun", "Create an account")).click()
    page.wait_for_url("**/daftar/terkirim")  # the same answer whether or not the e-mail is taken: nobody signed in
    fits(page)
    assert page.get_by_test_id("dev-mailbox-hint").is_visible()
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill("agus@example.org")
    page.get_by_label(t("Kata sandi", "Password")).fill("kata-sandi-rahasia-sekali")
    page.get_by_role("button", name=t("Masuk", "Sign in")).click()
    page.wait_for_url("**/dasbor")
    page.goto(live_server + "/profil")
    fits(page)
    notice = page.get_by_test_id("email-unverified").inner_text()
    assert "ag***@example.org" in notice

    # the mailbox, then the link in it
    page.get_by_role("link", name=t("kotak pesan pengembangan Anda", "your development mailbox")).click()
    page.wait_for_url("**/dev/kotak-pesan")
    fits(page)
    link = re.search(r"https?://\S+(/verifikasi-email/\S+)", latest(session, Channel.email))
    assert link is not None
    page.goto(live_server + link.group(1))  # links carry the configured public address (security issue)
    fits(page)
    page.goto(live_server + "/profil")
    assert page.get_by_test_id("email-verified").is_visible()

    # identity with a wrong birth date format: the 32 digits stay
    page.goto(live_server + "/profil/identitas")
    page.get_by_label(t("NIK (16 angka, tertera di KTP)", "NIK (16 digits, on your KTP)")).fill(str(P["nik"]))
    page.get_by_label(t("Nomor Kartu Keluarga (KK) (16 angka)", "Family card (KK) number (16 digits)")).fill(
        str(P["kk"])
    )
    page.locator(f"input[name=sex][value={P['sex']}]").check()
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    assert page.locator("#birth_date-error").is_visible()
    fits(page)
    assert page.locator("#nik").input_value() == str(P["nik"]) and page.locator("#kk").input_value() == str(P["kk"])
    page.get_by_label(t("Tanggal lahir", "Birth date")).fill(str(P["birth_date"]))
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    page.wait_for_url("**/profil/nama")
    page.get_by_label(t("Nama lengkap sesuai KTP", "Full name as on your KTP")).fill(str(P["full_name"]))
    page.get_by_label(t("Nama ibu kandung", "Mother's maiden name")).fill(str(P["mother_maiden_name"]))
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    page.wait_for_url("**/profil/alamat")
    regency = str(P["regency"])
    page.locator("#provinsi").select_option(regency[:2])
    page.get_by_role("button", name=t("Pilih", "Choose")).click()
    page.locator("#kabupaten").select_option(regency)
    page.get_by_role("button", name=t("Pilih", "Choose")).click()
    page.locator("#ktp_district").select_option(index=0)
    page.locator("#ktp_address").fill("Jl. Kenanga No. 7")
    fits(page)
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    page.wait_for_url("**/profil/latar")
    fits(page)
    choices = page.locator("label.choice").all()
    assert len(choices) == 13
    for choice in choices:  # every choice a large target with its radio button beside its label
        box, radio = choice.bounding_box(), choice.locator("input").bounding_box()
        assert box is not None and radio is not None and box["height"] >= 44 and radio["width"] >= 24
        assert radio["x"] - box["x"] < 24
    page.locator("#education").select_option("sma")
    page.locator("input[name=job_status][value=laid_off]").check()
    for question in ("has_disability", "former_migrant_worker", "declared_student"):
        page.locator(f"input[name={question}][value=tidak]").check()
    page.locator("input[name=is_citizen][value=ya]").check()
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()

    # the phone: a wrong code keeps the number, the code box stays
    page.wait_for_url("**/profil/telepon")
    page.locator("#phone").fill("0812 3456 7890")
    page.get_by_role("button", name=t("Kirim kode", "Send the code")).click()
    page.wait_for_url("**/profil/telepon")
    assert "7890" in page.get_by_test_id("code-sent").inner_text()
    fits(page)
    page.locator("#code").fill("000000" if "000000" not in latest(session, Channel.sms) else "111111")
    page.get_by_role("button", name=t("Konfirmasi", "Confirm")).click()
    assert page.locator("#code-error").is_visible()
    assert "7890" in page.locator("#phone").input_value()
    code = re.search(r"\b(\d{6})\b", latest(session, Channel.sms))
    assert code is not None
    page.locator("#code").fill(code.group(1))
    page.get_by_role("button", name=t("Konfirmasi", "Confirm")).click()
    page.wait_for_url("**/profil/foto")
    image = tmp_path / "ktp.png"
    Image.new("RGB", (800, 500), (210, 190, 160)).save(image, format="PNG")
    page.locator("#ktp_photo").set_input_files(str(image))
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    page.wait_for_url("**/profil/pernyataan")
    fits(page)
    page.locator("input[name=declaration]").check()
    page.locator("input[name=consent]").check()
    page.get_by_role("button", name=t("Simpan dan lanjut", "Save and continue")).click()
    page.wait_for_url("**/profil")
    fits(page)

    # the registry answers (the job, run here), then the wave asks for the test first
    session.expire_all()
    applicant = session.scalars(select(Applicant)).one()
    identity.record_outcome(session, identity.repository.identity_checks(session, applicant.id)[-1].id, "matched")
    session.commit()
    page.goto(live_server + "/gelombang")
    fits(page)
    page.get_by_test_id("ability-test-todo").get_by_role("link").click()
    page.wait_for_url(f"**/tes/{wave.number}")
    page.get_by_role("button", name=t("Mulai tes", "Start the test")).click()
    assert re.search(r"\d\d:\d\d WIB, ", page.get_by_test_id("ability-deadline").inner_text())
    fits(page)
    for fieldset in page.locator("fieldset").all():
        fieldset.locator("label.choice").first.click()
    page.get_by_role("button", name=t("Kirim jawaban saya", "Send my answers")).click()
    assert "/ 100" in page.get_by_test_id("ability-score").inner_text()
    fits(page)
    page.goto(live_server + "/gelombang")
    page.locator("label.choice").first.click()
    page.get_by_role("button", name=t("Gabung gelombang ini", "Join this wave")).click()
    page.wait_for_url("**/tanda-terima")
    fits(page)
    secret = page.get_by_test_id("entry-secret").get_attribute("data-value") or ""
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    page.get_by_test_id("copy-secret").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    with page.expect_download() as download:
        page.get_by_test_id("download-proof").click()
    assert secret in download.value.path().read_text()
    # the language switch works on the receipt (a GET page after the redirect)
    page.get_by_test_id("lang-switch").click()
    page.wait_for_url("**/tanda-terima")
    fits(page)
    assert itembank.TIME_LIMIT  # the test's time limit exists (sanity)


def test_journey_in_indonesian_on_a_phone(phone_page, live_server: str, session: Session, tmp_path, test_asked) -> None:  # type: ignore[no-untyped-def]
    journey(phone_page, live_server, session, tmp_path, english=False)


def test_journey_in_english_on_a_phone(phone_page, live_server: str, session: Session, tmp_path, test_asked) -> None:  # type: ignore[no-untyped-def]
    journey(phone_page, live_server, session, tmp_path, english=True)

"""Sign-up and the profile wizard in a real browser, in Indonesian: errors next to the field, then success."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.notifications.models import Channel, Message
from prakerja.registration.models import Applicant
from tests.registration.conftest import person

pytestmark = pytest.mark.browser

P = person(1)


def _sms_code(session: Session) -> str:
    session.expire_all()
    message = session.scalars(select(Message).where(Message.channel == Channel.sms)).one()
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def test_sign_up_then_wizard_in_indonesian(page, live_server: str, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/daftar")
    assert page.get_attribute("html", "lang") == "id"
    page.get_by_label("Nama Anda").fill("Agus Hidayat")
    page.get_by_label("E-mail").fill("agus@example.org")
    page.get_by_label("Kata sandi").fill("pendek")
    page.get_by_role("button", name="Buat akun").click()
    assert page.locator("#password-error").inner_text() == "Kata sandi minimal 10 karakter."
    page.get_by_label("Kata sandi").fill("kata-sandi-rahasia")
    page.get_by_role("button", name="Buat akun").click()
    page.wait_for_url("**/daftar/terkirim")  # the same answer whether or not the e-mail is taken
    assert page.get_by_role("heading", level=1).inner_text() == "Periksa e-mail Anda"
    page.goto(live_server + "/masuk?next=/profil")
    page.get_by_label("E-mail").fill("agus@example.org")
    page.get_by_label("Kata sandi").fill("kata-sandi-rahasia")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/profil")
    assert page.get_by_role("heading", level=1).inner_text() == "Profil saya"

    page.get_by_role("link", name="Lanjut").click()
    page.wait_for_url("**/profil/identitas")
    page.get_by_label("NIK (16 angka, tertera di KTP)").fill("12345")
    page.get_by_label("Nomor Kartu Keluarga (KK) (16 angka)").fill(str(P["kk"]))
    page.get_by_label("Tanggal lahir").fill(str(P["birth_date"]))
    page.get_by_label("Laki-laki").check()
    page.get_by_role("button", name="Simpan dan lanjut").click()
    assert page.locator("#nik-error").inner_text() == "NIK harus terdiri dari 16 angka."
    page.get_by_label("NIK (16 angka, tertera di KTP)").fill(str(P["nik"]))
    page.get_by_label("Nomor Kartu Keluarga (KK) (16 angka)").fill(str(P["kk"]))
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil/nama")
    page.get_by_label("Nama lengkap sesuai KTP").fill(str(P["full_name"]))
    page.get_by_label("Nama ibu kandung").fill(str(P["mother_maiden_name"]))
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil/alamat")
    page.get_by_label("Provinsi alamat KTP").select_option("31")
    page.get_by_role("button", name="Pilih").click()
    page.get_by_label("Kabupaten/kota alamat KTP").select_option("3171")
    page.get_by_role("button", name="Pilih").click()
    page.get_by_label("Kecamatan alamat KTP").select_option("317101")
    page.get_by_label("Alamat sesuai KTP").fill("Jl. Kenanga No. 7")
    assert page.get_by_label("Ya, saya tinggal di alamat KTP").is_checked()  # the common case, nothing retyped
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil/latar")
    page.get_by_label("Pendidikan terakhir").select_option("sma")
    page.get_by_label("Korban PHK").check()
    for question in ("has_disability", "former_migrant_worker", "declared_student"):
        page.locator(f"input[name={question}][value=tidak]").check()
    page.locator("input[name=is_citizen][value=ya]").check()
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil/telepon")
    page.get_by_label("Nomor ponsel").fill("0812 3456 7890")
    page.get_by_role("button", name="Kirim kode").click()
    page.get_by_label("Kode 6 angka").fill(_sms_code(session))
    page.get_by_role("button", name="Konfirmasi").click()

    page.wait_for_url("**/profil/foto")
    image = tmp_path / "ktp.png"
    Image.new("RGB", (800, 500), (210, 190, 160)).save(image, format="PNG")
    page.get_by_label("Foto KTP Anda").set_input_files(str(image))
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil/pernyataan")
    page.get_by_label("Saya menyatakan pernyataan di atas benar.").check()
    page.get_by_label("Saya setuju.").check()
    page.get_by_role("button", name="Simpan dan lanjut").click()

    page.wait_for_url("**/profil")
    assert page.get_by_test_id("profile-complete").inner_text() == "Profil Anda sudah lengkap."
    assert page.get_by_test_id("identity-status").get_attribute("data-status") == "pending"
    session.expire_all()
    applicant = session.scalars(select(Applicant)).one()
    assert applicant.consented_at is not None and applicant.phone_verified_at is not None
    assert applicant.ktp_district == applicant.domicile_district == "317101"

"""The profile wizard over HTTP: one question group per page, saved step by step, resumable; every bad input gets
a 4xx with field-level messages and leaves nothing written."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.registration.models import Applicant, IdentityCheck
from tests.registration.conftest import csrf, person, sign_up

P = person(1)


def post(client: TestClient, step: str, data: dict[str, str], files: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    return client.post(
        f"/profil/{step}",
        data={**data, "csrf_token": csrf(client, f"/profil/{step}")},
        files=files,
        follow_redirects=False,
    )


def identity(**overrides: str) -> dict[str, str]:
    return {
        "nik": str(P["nik"]),
        "kk": str(P["kk"]),
        "birth_date": str(P["birth_date"]),
        "sex": str(P["sex"]),
    } | overrides


def png(width: int = 640, height: int = 400) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 150)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int = 640, height: int = 400) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, format="JPEG")
    return buffer.getvalue()


def applicants(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Applicant)) or 0)


def jobs(session: Session, task: str = "registration.verify_identity") -> int:
    return int(
        session.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t"), {"t": task}).scalar_one()
    )


def the_applicant(session: Session) -> Applicant:
    session.expire_all()
    return session.scalars(select(Applicant)).one()


def complete_identity(client: TestClient) -> None:
    assert post(client, "identitas", identity()).status_code == 303
    names = {"full_name": str(P["full_name"]), "mother_maiden_name": str(P["mother_maiden_name"])}
    assert post(client, "nama", names).status_code == 303


class TestJourney:
    def test_steps_in_order_saved_and_resumable(self, applicant_client: TestClient, session: Session) -> None:
        c = applicant_client
        profile = c.get("/profil").text
        assert "Nomor identitas" in profile and 'data-status="unsubmitted"' in profile

        response = post(c, "identitas", identity())
        assert response.status_code == 303 and response.headers["location"] == "/profil/nama"
        assert the_applicant(session).identity_status == "unsubmitted"
        assert jobs(session) == 0

        names = {"full_name": str(P["full_name"]), "mother_maiden_name": str(P["mother_maiden_name"])}
        assert post(c, "nama", names).headers["location"] == "/profil/alamat"
        applicant = the_applicant(session)
        assert applicant.identity_status == "pending" and jobs(session) == 1

        # resumable: a new visit to /profil points at the first unfinished step
        assert 'href="/profil/alamat"' in c.get("/profil").text
        assert "Kabupaten Bogor" in c.get("/profil/alamat?provinsi=32").text
        address = {
            "ktp_address": "Jl. Melati No. 5, RT 01/RW 02",
            "ktp_district": "320101",
            "domicile_same": "ya",
        }
        assert post(c, "alamat", address).headers["location"] == "/profil/latar"
        background = {
            "education": "sma",
            "job_status": "laid_off",
            "has_disability": "tidak",
            "former_migrant_worker": "ya",
            "is_citizen": "ya",
            "declared_student": "tidak",
        }
        assert post(c, "latar", background).headers["location"] == "/profil/telepon"
        photo = {"ktp_photo": ("ktp.png", png(), "image/png")}
        assert post(c, "foto", {}, files=photo).headers["location"] == "/profil/pernyataan"
        # the declaration needs every earlier step (the phone is not verified yet)
        refused = post(c, "pernyataan", {"declaration": "ya", "consent": "ya"})
        assert refused.status_code == 409 and "Lengkapi semua langkah" in refused.text

        applicant = the_applicant(session)
        assert applicant.domicile_regency == "3201" and applicant.domicile_province == "32"
        assert applicant.former_migrant_worker is True and applicant.job_status == "laid_off"
        assert applicant.ktp_photo_path is not None and applicant.declared_at is None

    def test_personal_fields_encrypted_at_rest(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        row = session.execute(text("SELECT nik, kk, full_name, birth_date FROM registration_applicants")).one()
        for column in row:
            raw = bytes(column)
            assert str(P["nik"]).encode() not in raw and str(P["full_name"]).encode() not in raw

    def test_identity_change_after_match_is_refused(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        session.execute(text("UPDATE registration_applicants SET identity_status = 'matched'"))
        session.commit()
        response = post(applicant_client, "identitas", identity())
        assert response.status_code == 409 and "identity" not in response.text.lower().split("<title>")[0]


def assert_refused(response, status: int, field: str, message_fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text[:500]
    assert f'id="{field}-error"' in response.text, f"no message next to {field}"
    assert message_fragment in response.text


class TestBadIdentity:
    @pytest.mark.parametrize(
        ("overrides", "field", "fragment"),
        [
            ({"nik": "12345"}, "nik", "NIK harus terdiri dari 16 angka."),
            ({"nik": "32010115059abcde"}, "nik", "NIK harus terdiri dari 16 angka."),
            ({"kk": "3201"}, "kk", "Nomor KK harus terdiri dari 16 angka."),
            ({"nik": "9999" + str(P["nik"])[4:]}, "nik", "Kode provinsi pada NIK"),
            ({"kk": "9999000000000001"}, "kk", "Kode wilayah pada nomor KK"),
            ({"birth_date": "1990-01-01"}, "nik", "tidak sama dengan tanggal lahir"),
            ({"sex": "M" if P["sex"] == "F" else "F"}, "nik", "jenis kelamin"),
            ({"birth_date": "2099-01-01"}, "birth_date", "masa depan"),
            ({"birth_date": "1850-01-01"}, "birth_date", "tidak masuk akal"),
            ({"birth_date": "31-12-1990"}, "birth_date", "Tanggal lahir tidak valid"),
            ({"sex": ""}, "sex", "Pilih jenis kelamin."),
        ],
    )
    def test_refused_with_field_message_and_nothing_written(
        self, applicant_client: TestClient, session: Session, overrides: dict[str, str], field: str, fragment: str
    ) -> None:
        response = post(applicant_client, "identitas", identity(**overrides))
        assert_refused(response, 422, field, fragment)
        assert applicants(session) == 0 and jobs(session) == 0

    def test_future_birth_date_matching_the_nik_is_refused(
        self, applicant_client: TestClient, session: Session
    ) -> None:
        nik = "3201" + "01" + "150599" + "0001"  # 15 May 2099 if read as the future
        response = post(applicant_client, "identitas", identity(nik=nik, birth_date="2099-05-15", sex="M"))
        assert_refused(response, 422, "birth_date", "masa depan")
        assert applicants(session) == 0

    def test_duplicate_nik(self, client: TestClient, session: Session) -> None:
        sign_up(client, "first@example.org")
        complete_identity(client)
        client.cookies.clear()
        sign_up(client, "second@example.org")
        response = post(client, "identitas", identity())
        assert_refused(response, 409, "nik", "NIK ini sudah terdaftar.")
        assert applicants(session) == 1  # the second account's profile was not even started

    def test_english_messages_available(self, applicant_client: TestClient) -> None:
        applicant_client.get("/bahasa/en")
        response = post(applicant_client, "identitas", identity(nik="12"))
        assert response.status_code == 422 and "The NIK must be 16 digits." in response.text


class TestNames:
    @pytest.mark.parametrize(
        "name",
        ["Sukarno", "Ma'ruf Amin", "Siti-Aisyah Nur", "Dédé Sûrya", "Ni Made Ayu", "Moh. Hatta", "I Gusti Ngurah Rai"],
    )
    def test_real_names_pass(self, applicant_client: TestClient, session: Session, name: str) -> None:
        assert post(applicant_client, "identitas", identity()).status_code == 303
        response = post(applicant_client, "nama", {"full_name": name, "mother_maiden_name": "Siti Aminah"})
        assert response.status_code == 303, response.text[:300]
        assert the_applicant(session).full_name == name

    @pytest.mark.parametrize(
        ("name", "fragment"),
        [
            ("<script>alert(1)</script>", "full_name-error"),
            ("Budi <b>Santoso</b>", "full_name-error"),
            ("A" * 300, "full_name-error"),
            ("Budi2", "full_name-error"),
            ("", "full_name-error"),
        ],
    )
    def test_markup_digits_empty_and_long_names_refused(
        self, applicant_client: TestClient, session: Session, name: str, fragment: str
    ) -> None:
        assert post(applicant_client, "identitas", identity()).status_code == 303
        response = post(applicant_client, "nama", {"full_name": name, "mother_maiden_name": "Siti Aminah"})
        assert response.status_code == 422 and fragment in response.text
        assert "<script>alert(1)</script>" not in response.text  # echoed values are escaped
        applicant = the_applicant(session)
        assert applicant.full_name is None and applicant.identity_status == "unsubmitted" and jobs(session) == 0

    def test_very_long_address_refused(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        data = {"ktp_address": "Jl. " + "x" * 500, "ktp_district": "320101", "domicile_same": "ya"}
        response = post(applicant_client, "alamat", data)
        assert_refused(response, 422, "ktp_address", "paling banyak 200 karakter")
        assert the_applicant(session).domicile_district is None

    def test_unknown_district_refused(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        data = {
            "ktp_address": "Jl. Melati 5",
            "ktp_district": "320101",
            "domicile_same": "tidak",
            "domicile_address": "Jl. Kenanga 9",
            "domicile_district": "329999",
        }
        assert_refused(
            post(applicant_client, "alamat", data), 422, "domicile_district", "tidak ada dalam daftar Kemendagri"
        )
        assert the_applicant(session).domicile_district is None


class TestAddressStep:
    """Step 3: the KTP address with its district (required), and the domicile: the same, or its own address and
    district."""

    @pytest.mark.parametrize("code", ["329999", "", "12", "abcdef", "3201011"])
    def test_unknown_ktp_district_refused_nothing_written(
        self, applicant_client: TestClient, session: Session, code: str
    ) -> None:
        complete_identity(applicant_client)
        data = {"ktp_address": "Jl. Melati 5", "ktp_district": code, "domicile_same": "ya"}
        response = post(applicant_client, "alamat", data)
        assert_refused(response, 422, "ktp_district", "Kode kecamatan KTP tidak ada dalam daftar Kemendagri")
        assert 'aria-describedby="ktp_district-error"' in response.text
        applicant = the_applicant(session)
        assert applicant.ktp_address is None and applicant.ktp_district is None
        assert applicant.domicile_district is None and applicant.ktp_regency is None

    def test_english_message_for_the_ktp_district(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        data = {"ktp_address": "Jl. Melati 5", "ktp_district": "329999", "domicile_same": "ya"}
        applicant_client.cookies.set("prakerja_lang", "en")
        response = post(applicant_client, "alamat", data)
        assert response.status_code == 422
        assert "The KTP address district code is not in the Ministry of Home Affairs list." in response.text

    def test_domicile_same_as_ktp_stores_the_same_codes(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        # whatever the domicile fields hold, "same as KTP" is one answer: they are ignored
        data = {
            "ktp_address": "Jl. Melati  5",
            "ktp_district": "517101",
            "domicile_same": "ya",
            "domicile_address": "stale",
            "domicile_district": "320101",
        }
        assert post(applicant_client, "alamat", data).headers["location"] == "/profil/latar"
        a = the_applicant(session)
        assert (a.ktp_district, a.ktp_regency, a.ktp_province) == ("517101", "5171", "51")
        assert (a.domicile_district, a.domicile_regency, a.domicile_province) == ("517101", "5171", "51")
        assert a.ktp_address == a.domicile_address == "Jl. Melati 5"

    def test_domicile_elsewhere_keeps_both(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        data = {
            "ktp_address": "Jl. Melati 5",
            "ktp_district": "320101",
            "domicile_same": "tidak",
            "domicile_address": "Jl. Kenanga 9",
            "domicile_district": "517101",
        }
        assert post(applicant_client, "alamat", data).status_code == 303
        a = the_applicant(session)
        assert (a.ktp_district, a.ktp_regency, a.ktp_province) == ("320101", "3201", "32")
        assert (a.domicile_district, a.domicile_regency, a.domicile_province) == ("517101", "5171", "51")
        assert a.domicile_address == "Jl. Kenanga 9"
        page = applicant_client.get("/profil/alamat").text  # resumable: both answers shown again
        assert 'value="tidak" checked' in page and 'value="517101" selected' in page

    def test_domicile_elsewhere_needs_its_address(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        data = {"ktp_address": "Jl. Melati 5", "ktp_district": "320101", "domicile_same": "tidak"}
        response = post(applicant_client, "alamat", data)
        assert_refused(response, 422, "domicile_address", "Alamat domisili wajib diisi")
        assert 'id="domicile_district-error"' in response.text
        assert the_applicant(session).ktp_district is None

    def test_a_profile_saved_before_the_ktp_district_keeps_its_separate_domicile(
        self, applicant_client: TestClient, session: Session
    ) -> None:
        from prakerja.registration.service import identity as identity_service

        complete_identity(applicant_client)
        account_id = the_applicant(session).account_id
        assert account_id is not None
        identity_service.save_address(  # the older call: the domicile's district only
            session,
            account_id=account_id,
            ktp_address="Jl. Melati 5",
            domicile_address="Jl. Kenanga 9",
            domicile_district="517101",
        )
        session.commit()
        picker = applicant_client.get("/profil/alamat").text
        assert 'for="provinsi"' in picker and 'for="ktp_district"' not in picker  # asked, not guessed from the domicile
        page = applicant_client.get("/profil/alamat?provinsi=32&kabupaten=3201").text
        assert 'name="domicile_same" value="tidak" checked' in page and 'value="517101" selected' in page
        assert 'value="Jl. Kenanga 9"' in page

    def test_region_pickers_work_without_javascript(self, applicant_client: TestClient) -> None:
        complete_identity(applicant_client)
        c = applicant_client
        first = c.get("/profil/alamat?provinsi=32").text
        assert 'for="kabupaten"' in first and "Kabupaten Bogor" in first and 'name="ktp_district"' not in first
        form = c.get("/profil/alamat?provinsi=32&kabupaten=3201").text
        assert 'for="ktp_district"' in form and 'value="320101"' in form and 'name="domicile_same"' in form
        picker = c.get("/profil/alamat?provinsi=32&kabupaten=3201&domisili=pilih&dom_provinsi=51").text
        assert 'for="dom_kabupaten"' in picker and 'name="kabupaten" value="3201"' in picker
        chosen = c.get("/profil/alamat?provinsi=32&kabupaten=3201&domisili=pilih&dom_provinsi=51&dom_kabupaten=5171")
        assert 'value="517101"' in chosen.text and 'value="tidak" checked' in chosen.text


class TestUploads:
    @pytest.mark.parametrize(
        ("filename", "content", "status", "reason"),
        [
            ("ktp.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 10), 413, "too_large"),
            ("ktp.jpg", b"%PDF-1.4 not an image at all", 422, "not_an_image"),
            ("ktp.png", b"<html><script>alert(1)</script></html>", 422, "not_an_image"),
            ("ktp.jpg", b"\xff\xd8\xff" + png()[3:], 422, "corrupt"),
            ("ktp.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, 422, "corrupt"),
        ],
        ids=["too_large", "pdf_named_jpg", "html_named_png", "corrupt_jpg", "corrupt_png"],  # not the 2 MB bytes
    )
    def test_bad_uploads_refused_nothing_stored(
        self, applicant_client: TestClient, session: Session, filename: str, content: bytes, status: int, reason: str
    ) -> None:
        complete_identity(applicant_client)
        response = post(applicant_client, "foto", {}, files={"ktp_photo": (filename, content, "image/jpeg")})
        assert_refused(response, status, "ktp_photo", "JPEG atau PNG")
        assert the_applicant(session).ktp_photo_path is None

    def test_tiny_image_refused(self, applicant_client: TestClient, session: Session) -> None:
        complete_identity(applicant_client)
        response = post(applicant_client, "foto", {}, files={"ktp_photo": ("k.png", png(20, 20), "image/png")})
        assert response.status_code == 422 and the_applicant(session).ktp_photo_path is None

    def test_jpeg_stored_encrypted(self, applicant_client: TestClient, session: Session) -> None:
        from prakerja.registration.providers.storage import default_storage

        complete_identity(applicant_client)
        data = jpeg()
        response = post(
            applicant_client, "foto", {}, files={"ktp_photo": ("foto.bin", data, "application/octet-stream")}
        )
        assert response.status_code == 303
        key = the_applicant(session).ktp_photo_path
        assert key is not None and key.endswith(".jpeg")
        storage = default_storage()
        assert storage.get(key) == data
        assert data[:64] not in storage._path(key).read_bytes()  # type: ignore[attr-defined]


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/profil/identitas", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/masuk")


def test_identity_checks_are_not_written_for_refused_input(applicant_client: TestClient, session: Session) -> None:
    post(applicant_client, "identitas", identity(nik="1"))
    assert session.scalar(select(func.count()).select_from(IdentityCheck)) == 0

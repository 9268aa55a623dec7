"""Numbers are ASCII digits after mapping Unicode decimal digits (``kit.digits``): ``08١٢...`` is the same phone as
``0812...``, an Arabic-Indic NIK in a list is the same NIK, and digit look-alikes that are not decimal digits are
refused, never a 5xx."""

from __future__ import annotations

import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.money import MoneyError, rupiah
from prakerja.registration import rules
from prakerja.registration.models import PhoneOtp
from prakerja.registration.service import checks, list_types_for, lists, nik_index
from tests.registration.conftest import csrf, sign_up
from tests.registration.test_phone import otp_code

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENDED = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NIK = "3201011505950001"


def test_policy() -> None:
    from prakerja.kit.digits import ascii_digits, read_number

    for table in (ARABIC, EXTENDED, DEVANAGARI, FULLWIDTH):
        assert read_number("0812".translate(table)) == "0812"
    assert ascii_digits("08١٢ 34") == "0812 34"
    for look_alike in ("\u00b2", "\u2460", "1\u00b9", "", "12a"):
        assert read_number(look_alike) is None


def test_phone_numbers_in_other_digits_are_the_same_number() -> None:
    assert checks.phone_problems("08١٢ ٣٤٥٦ ٧٨٩٠") == ([], "+6281234567890")
    problems, normalised = checks.phone_problems("0812345678\u00b2")
    assert normalised is None and problems[0].code == "phone_invalid"


def test_one_phone_per_applicant_holds_in_other_digits(client: TestClient, session: Session) -> None:
    def send(phone: str):  # type: ignore[no-untyped-def]
        form = {"phone": phone, "csrf_token": csrf(client, "/profil/telepon")}
        return client.post("/profil/telepon/kirim", data=form)

    sign_up(client, "a@example.org")
    assert send("0812 3456 7890").status_code == 200
    code = otp_code(session)
    confirmed = client.post(
        "/profil/telepon/kode",
        data={"code": code.translate(ARABIC), "csrf_token": csrf(client, "/profil/telepon")},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303  # a code typed in Arabic-Indic digits is the same code
    client.cookies.clear()
    sign_up(client, "b@example.org")
    response = send("08١٢ ٣٤٥٦ ٧٨٩٠")
    assert response.status_code == 409 and "Nomor ponsel ini sudah terdaftar." in response.text
    assert session.scalar(select(func.count()).select_from(PhoneOtp)) == 1


def test_nik_and_kk_in_other_digits_are_read_as_ascii() -> None:
    assert rules.normalize_number(NIK.translate(ARABIC)) == NIK
    assert rules.validate_nik(NIK.translate(EXTENDED)) == []
    assert [e.code for e in rules.validate_nik(NIK[:-1] + "\u00b9")] == ["nik_format"]
    assert [e.code for e in rules.validate_kk("3201" + "\u2460" * 12)] == ["kk_format"]


def test_list_import_reads_other_digits_as_the_same_nik(session: Session) -> None:
    data = f"nik\n{NIK.translate(ARABIC)}\n{NIK[:-1]}\u00b2\n".encode()
    result = lists.import_list(
        session,
        data=data,
        filename="asn.csv",
        list_type="asn",
        source="BKN",
        as_of=datetime.date(2026, 1, 31),
        mode="merge",
        actor=Actor.system(),
        via="cli",
    )
    session.commit()
    assert (result.rows_read, result.rows_invalid) == (2, 1)
    assert list_types_for(session, [nik_index(NIK)]) == {nik_index(NIK): {"asn"}}


def test_region_codes_in_other_digits() -> None:
    assert checks.address_problems(
        ktp_address="Jl. Mawar 1", domicile_address="", district="", ktp_district="32.01.01".translate(ARABIC),
        domicile_same_as_ktp=True,
    ) == []  # fmt: skip


def test_money_refuses_look_alikes() -> None:
    assert rupiah("-١٢٠٠٠") == -12000
    with pytest.raises(MoneyError):
        rupiah("\u00b2")


def test_certificate_status_list_number_look_alike_is_404(client: TestClient) -> None:
    assert client.get("/sertifikat/status/\u00b2").status_code == 404

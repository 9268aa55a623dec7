"""Numbers are ASCII digits only (``kit.digits``): ``08١٢...`` is not a phone number (it cannot slip past the
one-phone-per-applicant rule under another blind index), an Arabic-Indic NIK in a list import is an invalid row,
and digit look-alikes that ``isdigit()`` accepts but ``int()`` does not are refused, never a 5xx."""

from __future__ import annotations

import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.money import MoneyError, rupiah
from prakerja.notifications.models import Channel, Message
from prakerja.registration import rules
from prakerja.registration.errors import ListFileInvalid
from prakerja.registration.models import PhoneOtp
from prakerja.registration.service import checks, list_types_for, lists, nik_index
from tests.registration.conftest import csrf, sign_up
from tests.registration.test_phone import otp_code

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENDED = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
OTHER_DIGITS = [ARABIC, EXTENDED, DEVANAGARI, FULLWIDTH]
NIK = "3201011505950001"


def test_policy() -> None:
    from prakerja.kit.digits import is_ascii_number, read_number

    assert read_number("0812") == "0812" and is_ascii_number("0")
    for table in OTHER_DIGITS:
        assert read_number("0812".translate(table)) is None
    for look_alike in ("\u00b2", "\u2460", "1\u00b9", "", "12a", "08١٢"):
        assert read_number(look_alike) is None


@pytest.mark.parametrize("table", OTHER_DIGITS)
def test_phone_numbers_in_other_digits_refused(table: dict[int, str]) -> None:
    for typed in ("0812 3456 7890".translate(table), "08" + "12 3456 7890".translate(table), "0812345678\u00b2"):
        problems, normalised = checks.phone_problems(typed)
        assert normalised is None and [p.code for p in problems] == ["phone_invalid"]


def test_one_phone_per_applicant_cannot_be_bypassed_with_other_digits(client: TestClient, session: Session) -> None:
    def send(phone: str):  # type: ignore[no-untyped-def]
        form = {"phone": phone, "csrf_token": csrf(client, "/profil/telepon")}
        return client.post("/profil/telepon/kirim", data=form)

    sign_up(client, "a@example.org")
    assert send("0812 3456 7890").status_code == 200
    code = otp_code(session)
    wrong_digits = client.post(
        "/profil/telepon/kode",
        data={"code": code.translate(ARABIC), "csrf_token": csrf(client, "/profil/telepon")},
        follow_redirects=False,
    )
    assert wrong_digits.status_code == 422
    client.cookies.clear()
    sign_up(client, "b@example.org")
    response = send("08١٢ ٣٤٥٦ ٧٨٩٠")
    assert response.status_code == 422 and 'id="phone-error"' in response.text
    assert session.scalar(select(func.count()).select_from(PhoneOtp)) == 1
    assert session.scalar(select(func.count()).select_from(Message).where(Message.channel == Channel.sms)) == 1


@pytest.mark.parametrize("table", OTHER_DIGITS)
def test_nik_and_kk_in_other_digits_refused(table: dict[int, str]) -> None:
    assert [e.code for e in rules.validate_nik(NIK.translate(table))] == ["nik_format"]
    assert [e.code for e in rules.validate_kk("3201010101010001".translate(table))] == ["kk_format"]
    assert [e.code for e in rules.validate_nik(NIK[:-1] + "\u00b9")] == ["nik_format"]


def _import(session: Session, niks: list[str]):  # type: ignore[no-untyped-def]
    result = lists.import_list(
        session,
        data=("nik\n" + "".join(f"{n}\n" for n in niks)).encode(),
        filename="asn.csv",
        list_type="asn",
        source="BKN",
        as_of=datetime.date(2026, 1, 31),
        mode="merge",
        actor=Actor.system(),
        via="cli",
    )
    session.commit()
    return result


def test_list_import_counts_other_digits_as_invalid(session: Session) -> None:
    result = _import(session, [NIK, NIK.translate(ARABIC), NIK.translate(FULLWIDTH), f"{NIK[:-1]}\u00b2"])
    assert (result.rows_read, result.rows_invalid) == (4, 3)
    assert list_types_for(session, [nik_index(NIK)]) == {nik_index(NIK): {"asn"}}


def test_a_list_of_only_other_digits_is_refused(session: Session) -> None:
    with pytest.raises(ListFileInvalid) as refused:
        _import(session, [NIK.translate(ARABIC)])
    assert refused.value.code == "list_file_empty"


def test_region_codes_in_other_digits_refused() -> None:
    problems = checks.address_problems(
        ktp_address="Jl. Mawar 1", domicile_address="", district="", ktp_district="32.01.01".translate(ARABIC),
        domicile_same_as_ktp=True,
    )  # fmt: skip
    assert [p.code for p in problems] == ["district_unknown"]


def test_money_refuses_other_digits() -> None:
    assert rupiah("-12000") == -12000
    for typed in ("-١٢٠٠٠", "\u00b2", "１２"):
        with pytest.raises(MoneyError):
            rupiah(typed)


def test_certificate_status_list_number_look_alike_is_404(client: TestClient) -> None:
    assert client.get("/sertifikat/status/\u00b2").status_code == 404

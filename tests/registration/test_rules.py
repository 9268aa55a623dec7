"""Identity rules of the registration form, as tables: NIK, KK, birth date and names.

Each row reads: the value typed, what else the form said, and the error codes expected (none = accepted)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.registration import rules
from prakerja.registration.rules import (
    ERROR_CODES,
    NAME_MAX_LENGTH,
    FieldError,
    normalize_name,
    parse_nik,
    validate_birth_date,
    validate_identity,
    validate_kk,
    validate_name,
    validate_nik,
)

TODAY = date(2026, 11, 29)
BORN = date(1995, 8, 15)
MAN, WOMAN, UNKNOWN = False, True, None


def nik(district: str = "320101", ddmmyy: str = "150895", serial: str = "0001") -> str:
    """NIK = district code + DDMMYY (day + 40 for women) + serial."""
    return district + ddmmyy + serial


def codes(errors: list[FieldError]) -> list[str]:
    assert all(e.message_id and e.message_en for e in errors)
    return [e.code for e in errors]


# ----------------------------------------------------------------------------------------------------- NIK

# fmt: off
NIK_CASES = [
    # description, NIK typed, declared birth date, declared sex, expected error codes
    ("man born 15 Aug 1995 in Cibinong, Bogor", nik(), BORN, MAN, []),
    ("woman born 15 Aug 1995: day written 55", nik(ddmmyy="550895"), BORN, WOMAN, []),
    ("woman born on the 1st: day written 41", nik(ddmmyy="410190"), date(1990, 1, 1), WOMAN, []),
    ("woman born on the 31st: day written 71", nik(ddmmyy="711299"), date(1999, 12, 31), WOMAN, []),
    ("man born in 2005 (two-digit year 05)", nik(ddmmyy="010105"), date(2005, 1, 1), MAN, []),
    ("man born in 1905 has the same digits as 2005", nik(ddmmyy="010105"), date(1905, 1, 1), MAN, []),
    ("born 29 Feb 2000 (leap year)", nik(ddmmyy="290200"), date(2000, 2, 29), MAN, []),
    ("sex unknown: read from the NIK", nik(ddmmyy="550895"), BORN, UNKNOWN, []),
    ("spaces and dots typed inside the NIK", "3201 0115.0895 0001", BORN, MAN, []),
    ("Jakarta Selatan, Tebet", nik(district="317401"), BORN, MAN, []),
    ("Denpasar Selatan, Bali", nik(district="517101"), BORN, MAN, []),
    ("Merauke, issued before the 2022 Papua split (code 9101)", nik(district="910101"), BORN, MAN, []),
    ("Merauke, issued after the split (current code 9301)", nik(district="930101"), BORN, MAN, []),
    ("15 digits", nik()[:-1], BORN, MAN, ["nik_format"]),
    ("17 digits", nik() + "1", BORN, MAN, ["nik_format"]),
    ("a letter inside", "32010115O8950001", BORN, MAN, ["nik_format"]),
    ("Arabic-Indic digits", "٣٢٠١٠١١٥٠٨٩٥٠٠٠١", BORN, MAN, ["nik_format"]),
    ("empty", "", BORN, MAN, ["nik_format"]),
    ("serial 0000 is never issued", nik(serial="0000"), BORN, MAN, ["nik_format"]),
    ("script instead of a number", "<script>1</script>", BORN, MAN, ["nik_format"]),
    ("a megabyte of digits", "3" * 1_000_000, BORN, MAN, ["nik_format"]),
    ("province 99 does not exist", nik(district="990101"), BORN, MAN, ["nik_unknown_province"]),
    ("province 00 does not exist", nik(district="000101"), BORN, MAN, ["nik_unknown_province"]),
    ("regency 3299 unknown in Jawa Barat", nik(district="329901"), BORN, MAN, ["nik_unknown_regency"]),
    ("district 320199 unknown in Bogor", nik(district="320199"), BORN, MAN, ["nik_unknown_district"]),
    ("month 13", nik(ddmmyy="151395"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("month 00", nik(ddmmyy="150095"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("day 00", nik(ddmmyy="000895"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("day 32 (men 01-31, women 41-71)", nik(ddmmyy="320895"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("day 40", nik(ddmmyy="400895"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("day 72", nik(ddmmyy="720895"), BORN, WOMAN, ["nik_birthdate_invalid"]),
    ("30 February", nik(ddmmyy="300295"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("29 Feb in 1901/2001 (no leap year)", nik(ddmmyy="290201"), date(2001, 2, 28), MAN, ["nik_birthdate_invalid"]),
    ("woman, 31 April (day 71, month 04)", nik(ddmmyy="710495"), date(1995, 4, 30), WOMAN, ["nik_birthdate_invalid"]),
    ("unknown district and invalid date: both reported", nik(district="320199", ddmmyy="151395"), BORN, MAN,
     ["nik_unknown_district", "nik_birthdate_invalid"]),
    ("day differs", nik(), date(1995, 8, 16), MAN, ["nik_birthdate_mismatch"]),
    ("month differs", nik(), date(1995, 9, 15), MAN, ["nik_birthdate_mismatch"]),
    ("year differs", nik(), date(1996, 8, 15), MAN, ["nik_birthdate_mismatch"]),
    ("day and month swapped", nik(ddmmyy="081595"), BORN, MAN, ["nik_birthdate_invalid"]),
    ("woman whose NIK has no +40", nik(), BORN, WOMAN, ["nik_sex_mismatch"]),
    ("man whose NIK has +40", nik(ddmmyy="550895"), BORN, MAN, ["nik_sex_mismatch"]),
    ("woman with +40 but another day", nik(ddmmyy="560895"), BORN, WOMAN, ["nik_birthdate_mismatch"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("value", "born", "female", "expected"), [c[1:] for c in NIK_CASES], ids=[c[0] for c in NIK_CASES]
)
def test_nik(value: str, born: date, female: bool | None, expected: list[str]) -> None:
    errors = validate_nik(value, birth_date=born, female=female)

    assert codes(errors) == expected
    assert all(e.field == "nik" for e in errors)


def test_nik_without_birth_date_checks_the_number_and_the_sex() -> None:
    assert validate_nik(nik()) == []
    assert codes(validate_nik(nik(), female=True)) == ["nik_sex_mismatch"]


# fmt: off
CENTURY_CASES = [
    # description, DDMMYY, reference date (today), birth date read from the NIK
    ("95 read in 2026 is 1995", "150895", date(2026, 11, 29), date(1995, 8, 15)),
    ("05 read in 2026 is 2005", "150805", date(2026, 11, 29), date(2005, 8, 15)),
    ("26 before the birthday is 1926 (2026 would be in the future)", "301226", date(2026, 11, 29), date(1926, 12, 30)),
    ("26 on or after the birthday is 2026 (a baby)", "011126", date(2026, 11, 29), date(2026, 11, 1)),
    ("30 read in 2026 is 1930", "010130", date(2026, 11, 29), date(1930, 1, 1)),
    ("00 with 29 February is 2000", "290200", date(2026, 11, 29), date(2000, 2, 29)),
    ("women's +40 is removed", "550895", date(2026, 11, 29), date(1995, 8, 15)),
    ("read in 2020, 25 is 1925", "010125", date(2020, 6, 1), date(1925, 1, 1)),
]
# fmt: on


@pytest.mark.parametrize(("ddmmyy", "today", "born"), [c[1:] for c in CENTURY_CASES], ids=[c[0] for c in CENTURY_CASES])
def test_century_is_the_latest_not_after_today(ddmmyy: str, today: date, born: date) -> None:
    parsed = parse_nik(nik(ddmmyy=ddmmyy))

    assert parsed is not None
    assert parsed.birth_date(today) == born
    assert 0 <= (today - born).days < 100 * 366


def test_parse_nik_parts() -> None:
    parsed = parse_nik("3171 0145 0899 0123")

    assert parsed is not None
    assert (parsed.province_code, parsed.regency_code, parsed.district_code) == ("31", "3171", "317101")
    assert (parsed.birth_day, parsed.birth_month, parsed.birth_year_2digits, parsed.sex) == (5, 8, 99, "F")
    assert parsed.serial == "0123"
    assert "0123" not in repr(parsed)


# ------------------------------------------------------------------------------------------------------ KK

# fmt: off
KK_CASES = [
    # description, KK, regency of the KTP address (None: not asked yet), expected codes
    ("issued in Cibinong, Bogor", "3201012003150004", None, []),
    ("issued in Bogor, KTP address in Bogor", "3201012003150004", "3201", []),
    ("issued in Merauke before the split (9101), KTP address now 9301", "9101012003150004", "9301", []),
    ("issued in Merauke after the split, KTP address 9301", "9301012003150004", "9301", []),
    ("spaces typed inside", "3201 0120 0315 0004", "3201", []),
    ("only the first 4 digits must be a known region (district not checked)", "3201992003150004", None, []),
    ("KTP regency unknown: that is the address field's error, not the KK's", "3201012003150004", "9999", []),
    ("15 digits", "320101200315000", None, ["kk_format"]),
    ("letters", "KK32010120031500", None, ["kk_format"]),
    ("all zeros", "0000000000000000", None, ["kk_format"]),
    ("empty", "", None, ["kk_format"]),
    ("a megabyte of digits", "3" * 1_000_000, None, ["kk_format"]),
    ("province 99 unknown", "9901012003150004", None, ["kk_unknown_region"]),
    ("regency 3299 unknown", "3299012003150004", None, ["kk_unknown_region"]),
    ("issued in Bogor, KTP address in Denpasar", "3201012003150004", "5171", ["kk_region_mismatch"]),
    ("issued in Sorong (9201, now 9601), KTP address Merauke", "9201012003150004", "9301", ["kk_region_mismatch"]),
]
# fmt: on


@pytest.mark.parametrize(("value", "ktp_regency", "expected"), [c[1:] for c in KK_CASES], ids=[c[0] for c in KK_CASES])
def test_kk(value: str, ktp_regency: str | None, expected: list[str]) -> None:
    errors = validate_kk(value, ktp_regency_code=ktp_regency)

    assert codes(errors) == expected
    assert all(e.field == "kk" for e in errors)


# ---------------------------------------------------------------------------------------------- birth date

# fmt: off
BIRTH_DATE_CASES = [
    ("born today", TODAY, []),
    ("born 30 years ago", date(1996, 5, 1), []),
    ("exactly 120 years old today", date(1906, 11, 29), []),
    ("tomorrow", date(2026, 11, 30), ["birthdate_future"]),
    ("next century", date(2126, 1, 1), ["birthdate_future"]),
    ("121 years old", date(1905, 11, 29), ["birthdate_implausible"]),
    ("year 1800", date(1800, 1, 1), ["birthdate_implausible"]),
]
# fmt: on


@pytest.mark.parametrize(("born", "expected"), [c[1:] for c in BIRTH_DATE_CASES], ids=[c[0] for c in BIRTH_DATE_CASES])
def test_birth_date(born: date, expected: list[str]) -> None:
    assert codes(validate_birth_date(born, reference_date=TODAY)) == expected


# --------------------------------------------------------------------------------------------------- names

REAL_NAMES = [
    "Sukarno",
    "Ni Luh Putu Ayu",
    "Nur'aini",
    "Nur’aini",
    "Siti-Aisyah",
    "Raden Ajeng Kartini",
    "Déwi",
    "Dewi\u0301",  # e + combining acute, as some keyboards send it
    "I Gusti Ngurah Rai",
    "Moh. Hatta",
    "Budi Santoso, S.Kom",
    "Andi Muh. Rizal",
    "O'o",
    "BAMBANG PAMUNGKAS",
    "Christine Hakim",
    "Nyoman  Suwarni",  # two spaces are folded into one
    " Wayan Sudirta ",
    "A" * NAME_MAX_LENGTH,
]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_pass(name: str) -> None:
    assert validate_name(name) == []


# fmt: off
BAD_NAMES = [
    ("script tag", "<script>alert(1)</script>", ["name_invalid_characters"]),
    ("img onerror", '<img src=x onerror="alert(1)">', ["name_invalid_characters"]),
    ("angle bracket alone", "Budi >", ["name_invalid_characters"]),
    ("HTML entity", "Budi &#60;", ["name_invalid_characters"]),
    ("SQL", "Budi'; DROP TABLE applicants;--", ["name_invalid_characters"]),
    ("template braces", "{{7*7}}", ["name_invalid_characters"]),
    ("digits", "Budi 2", ["name_invalid_characters"]),
    ("NUL byte", "Budi\x00", ["name_invalid_characters"]),
    ("newline", "Budi\nSantoso", ["name_invalid_characters"]),
    ("tab", "Budi\tSantoso", ["name_invalid_characters"]),
    ("zero-width space", "Bu\u200bdi", ["name_invalid_characters"]),
    ("right-to-left override", "Budi\u202eosotnaS", ["name_invalid_characters"]),
    ("Cyrillic look-alike", "Вudi", ["name_invalid_characters"]),
    ("emoji", "Budi 😀", ["name_invalid_characters"]),
    ("empty", "", ["name_required"]),
    ("spaces only", "   ", ["name_required"]),
    ("punctuation only", "-'.", ["name_no_letters"]),
    ("one character too long", "A" * (NAME_MAX_LENGTH + 1), ["name_too_long"]),
    ("a megabyte", "A" * 1_000_000, ["name_too_long"]),
    ("a megabyte of script", "<script>" * 125_000, ["name_too_long"]),
]
# fmt: on


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in BAD_NAMES], ids=[c[0] for c in BAD_NAMES])
def test_bad_names_fail(value: str, expected: list[str]) -> None:
    errors = validate_name(value, field="mother_maiden_name")

    assert codes(errors) == expected
    assert errors[0].field == "mother_maiden_name"


def test_messages_never_repeat_the_value() -> None:
    error = validate_name("<b>Budi</b>")[0]

    assert "Budi" not in error.message_id + error.message_en


def test_name_too_long_message_names_the_limit() -> None:
    error = validate_name("A" * 200, max_length=60)[0]

    assert "60" in error.message_id and "60" in error.message_en


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Nyoman   Suwarni ", "Nyoman Suwarni"),
        ("Nur’aini", "Nur'aini"),
        ("Dewi\u0301", "Dewí"),
        ("Siti\u00a0Aisyah", "Siti Aisyah"),
    ],
)
def test_normalize_name(raw: str, normalized: str) -> None:
    assert normalize_name(raw) == normalized


# ---------------------------------------------------------------------------------------------- whole form


class TestValidateIdentity:
    def test_a_correct_form_has_no_errors(self) -> None:
        errors = validate_identity(
            nik=nik(ddmmyy="550895"), kk="3201012003150004", birth_date=date(1995, 8, 15), female=True, today=TODAY
        )

        assert errors == []

    def test_every_field_error_is_returned_at_once(self) -> None:
        errors = validate_identity(
            nik=nik(district="990101"), kk="123", birth_date=date(2030, 1, 1), female=False, today=TODAY
        )

        assert [(e.field, e.code) for e in errors] == [
            ("nik", "nik_unknown_province"),
            ("nik", "nik_birthdate_mismatch"),
            ("kk", "kk_format"),
            ("birth_date", "birthdate_future"),
        ]

    def test_nik_typed_into_the_kk_field(self) -> None:
        errors = validate_identity(nik=nik(), kk=nik(), birth_date=date(1995, 8, 15), female=False, today=TODAY)

        assert [(e.field, e.code) for e in errors] == [("kk", "kk_same_as_nik")]

    def test_unreadable_birth_date_still_checks_the_numbers(self) -> None:
        errors = validate_identity(nik=nik(), kk="3201012003150004", birth_date=None, female=True, today=TODAY)

        assert codes(errors) == ["nik_sex_mismatch"]

    def test_kk_region_against_the_ktp_address(self) -> None:
        errors = validate_identity(
            nik=nik(),
            kk="3201012003150004",
            birth_date=date(1995, 8, 15),
            today=TODAY,
            ktp_regency_code="5171",
        )

        assert codes(errors) == ["kk_region_mismatch"]


def test_every_error_code_is_exercised() -> None:
    seen = {code for case in NIK_CASES for code in case[-1]}
    seen |= {code for case in KK_CASES for code in case[-1]}
    seen |= {code for case in BIRTH_DATE_CASES for code in case[-1]}
    seen |= {code for case in BAD_NAMES for code in case[-1]}
    seen.add("kk_same_as_nik")

    assert seen == ERROR_CODES


class TestAsciiNamesTakeTheShortPath:
    """Plain-ASCII names skip the Unicode database (a fifth of a submission's Python); the answers stay the same."""

    @staticmethod
    def _normalize_by_unicode(value: str) -> str:
        text = unicodedata.normalize("NFC", value).translate(rules._APOSTROPHES)
        text = "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)
        return re.sub(" {2,}", " ", text).strip(" ")

    @given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
    @settings(max_examples=400, deadline=None)
    def test_same_answers_as_the_unicode_path(self, value: str) -> None:
        assert rules.normalize_name(value) == self._normalize_by_unicode(value)
        assert rules._validate_ascii_name(value, field="full_name", max_length=20) == rules._validate_unicode_name(
            value, field="full_name", max_length=20
        )

    @pytest.mark.parametrize(
        "value", ["Budi Santoso", "  Nur`aini  ", "Budi, S.Kom", "B\x00udi", "12345", "...", "", "Siti\x7f", "A" * 30]
    )
    def test_examples(self, value: str) -> None:
        assert rules._validate_ascii_name(value, field="full_name", max_length=20) == rules._validate_unicode_name(
            value, field="full_name", max_length=20
        )

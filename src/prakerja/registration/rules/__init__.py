"""Pure identity rules for the registration form: NIK, KK, birth date and names. No I/O, no database.

Every check returns a list of :class:`FieldError` (empty when the value is fine) instead of raising, so a form
can show every field's problem at once. Codes are stable; messages are Bahasa Indonesia first, then English,
and never repeat the value that was typed (it is personal data).

These checks only catch what can be known without the civil registry (Dukcapil): the NIK has no check digit,
so a well-formed NIK can still belong to nobody, or to somebody else. The registry check comes after.

NIK layout: ``PPRRDD DDMMYY SSSS``

- ``PPRRDD``: Kemendagri province, regency/city and district codes of the place where the NIK was first issued.
  The NIK never changes ("berlaku seumur hidup", UU 23/2006 Pasal 13), so its region is not where the person
  lives now, and a code retired since issue (the 2022 Papua split) is still valid: see
  :mod:`prakerja.registration.rules.regions`. District codes are checked against the shipped official list.
- ``DDMMYY``: the birth date; women have 40 added to the day (born on the 7th: ``47``).
- ``SSSS``: a serial, from 0001.

**Century.** The NIK holds only two digits of the year. :meth:`ParsedNik.birth_date` picks the most recent
date with those digits that is not after the reference date (usually today): ``YY=95`` read in 2026 is 1995,
``YY=05`` is 2005, ``YY=30`` is 1930. The resulting age is always between 0 and 99; a person aged 100 or more
is read a century late, which cannot matter here because the comparison with the declared birth date uses the
two digits only and eligibility uses the declared (and registry-verified) date, never the NIK's.

KK (Kartu Keluarga) number: 16 digits, the first 6 the district code of the office that issued it, then the
issue date and a serial. **Region policy**: the KK's first 2 digits must be a known province and its first 4 a
known regency/city (current or retired); otherwise the number is refused (``kk_unknown_region``). The KK's
regency should also be the regency of the KTP address, or a retired code whose successor it is
(``kk_region_mismatch``, :func:`kk_region_mismatch`): the KTP address is printed from the KK, so the two agree
for almost everybody. Almost: a regency split off after the KK was issued keeps the parent's code on the card
(only fully retired codes are mapped), and a family that moved may hold a card not yet re-issued. So the services
raise a mismatch as an **integrity flag for review**, never as a refusal (docs/registration.md); the civil
registry's ``nik_kk_mismatch`` answer is the authoritative check of the pair. The KK is **not** compared with
the NIK's region: the NIK keeps the region of first registration for life while a family that moves gets a new
KK where it lives.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from prakerja.registration.rules import regions

Sex = Literal["M", "F"]
"""``M`` (laki-laki) or ``F`` (perempuan), as stored on the applicant. The checks take ``female: bool``."""

NAME_MAX_LENGTH: Final = 100
"""Longest accepted name, in characters after normalisation. (New civil records are limited to 60 letters by
Permendagri 73/2022, but older records can be longer; the registry check decides.)"""
MAX_AGE_YEARS: Final = 120
"""A declared birth date making the person older than this is refused as implausible."""
FEMALE_DAY_OFFSET: Final = 40

_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_SEPARATORS = re.compile(r"[\s.\-]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_NAME_PUNCTUATION: Final = frozenset(" '-.,")
"""Besides Latin letters, a name may hold spaces, apostrophes (Nur'aini), hyphens (Siti-Aisyah), full stops
and commas (abbreviated titles such as "Moh." or "Budi, S.Kom")."""

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "nik_format": ("NIK harus terdiri dari 16 angka.", "The NIK must be 16 digits."),
    "nik_unknown_province": (
        "Kode provinsi pada NIK (2 angka pertama) tidak dikenal.",
        "The province code in the NIK (first 2 digits) is not known.",
    ),
    "nik_unknown_regency": (
        "Kode kabupaten/kota pada NIK (angka ke-3 dan ke-4) tidak dikenal.",
        "The regency/city code in the NIK (digits 3-4) is not known.",
    ),
    "nik_unknown_district": (
        "Kode kecamatan pada NIK (angka ke-5 dan ke-6) tidak dikenal.",
        "The district code in the NIK (digits 5-6) is not known.",
    ),
    "nik_birthdate_invalid": (
        "Tanggal lahir di dalam NIK (angka ke-7 sampai ke-12) bukan tanggal yang sah.",
        "The birth date inside the NIK (digits 7-12) is not a valid date.",
    ),
    "nik_birthdate_mismatch": (
        "Tanggal lahir di dalam NIK tidak sama dengan tanggal lahir yang Anda isi.",
        "The birth date inside the NIK does not match the birth date you entered.",
    ),
    "nik_sex_mismatch": (
        "NIK tidak sesuai dengan jenis kelamin yang Anda isi (tanggal lahir perempuan ditambah 40).",
        "The NIK does not match the sex you entered (women's birth day has 40 added).",
    ),
    "kk_format": ("Nomor KK harus terdiri dari 16 angka.", "The family card (KK) number must be 16 digits."),
    "kk_unknown_region": (
        "Kode wilayah pada nomor KK (4 angka pertama) tidak dikenal.",
        "The region code in the family card (KK) number (first 4 digits) is not known.",
    ),
    "kk_region_mismatch": (
        "Wilayah pada nomor KK tidak sama dengan kabupaten/kota alamat KTP Anda.",
        "The region in the family card (KK) number does not match the regency/city of your KTP address.",
    ),
    "kk_same_as_nik": (
        "Nomor KK tidak boleh sama dengan NIK. Lihat nomor di bagian atas Kartu Keluarga.",
        "The family card (KK) number must differ from the NIK. Use the number at the top of the family card.",
    ),
    "birthdate_future": (
        "Tanggal lahir tidak boleh di masa depan.",
        "The birth date cannot be in the future.",
    ),
    "birthdate_implausible": (
        f"Tanggal lahir tidak masuk akal (usia lebih dari {MAX_AGE_YEARS} tahun).",
        f"The birth date is not plausible (older than {MAX_AGE_YEARS} years).",
    ),
    "name_required": ("Nama wajib diisi.", "The name is required."),
    "name_too_long": (
        "Nama terlalu panjang (paling banyak {max_length} karakter).",
        "The name is too long (at most {max_length} characters).",
    ),
    "name_invalid_characters": (
        "Nama hanya boleh berisi huruf latin, spasi, tanda petik ('), tanda hubung (-), titik dan koma.",
        "A name may only contain Latin letters, spaces, apostrophes ('), hyphens (-), full stops and commas.",
    ),
    "name_no_letters": ("Nama harus berisi huruf.", "A name must contain letters."),
}

ERROR_CODES: Final = frozenset(_MESSAGES)
"""Every code these rules can return."""


@dataclass(slots=True)
class FieldError:
    """One problem with one form field. (Not frozen, so that it satisfies protocols with plain attributes.)"""

    field: str
    """The form field, e.g. ``nik``, ``kk``, ``birth_date``, ``full_name``."""
    code: str
    """Stable machine-readable code, one of :data:`ERROR_CODES`."""
    message_id: str
    """Message in Bahasa Indonesia."""
    message_en: str
    """Message in English."""

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message_id": self.message_id, "message_en": self.message_en}


def _error(field: str, code: str, **params: object) -> FieldError:
    message_id, message_en = _MESSAGES[code]
    return FieldError(field, code, message_id.format(**params), message_en.format(**params))


# ------------------------------------------------------------------------------------------------- numbers


def normalize_number(value: str) -> str:
    """Removes the spaces, dots and hyphens people type inside a NIK or KK (``3201 0115 0895 0001``).
    Store the normalised value; the checks below normalise the same way and accept ASCII ``0-9`` only
    (``prakerja.kit.digits``: one policy for every number)."""
    return _SEPARATORS.sub("", value)


def _sixteen_digits(value: str) -> str | None:
    number = normalize_number(value)
    return number if _SIXTEEN_DIGITS.fullmatch(number) else None


@dataclass(frozen=True, slots=True)
class ParsedNik:
    """The parts of a well-formed NIK (16 digits, non-zero serial). Region codes are not checked here."""

    province_code: str
    regency_code: str
    """4 digits: province + regency."""
    district_code: str
    """6 digits: province + regency + district."""
    birth_day: int
    """Day of birth with the women's offset removed (1-31 when the NIK is valid)."""
    birth_month: int
    birth_year_2digits: int
    female: bool
    """True when the day field is above 40."""
    serial: str = dataclasses.field(repr=False)

    @property
    def sex(self) -> Sex:
        return "F" if self.female else "M"

    def birth_date(self, reference_date: date) -> date | None:
        """The birth date in the century that makes it the most recent such date not after ``reference_date``
        (see the module docstring); None when the NIK's date does not exist in either candidate century."""
        year = reference_date.year - (reference_date.year - self.birth_year_2digits) % 100
        for candidate in (year, year - 100, year - 200):
            try:
                found = date(candidate, self.birth_month, self.birth_day)
            except ValueError:
                continue
            if found <= reference_date:
                return found
        return None

    def has_valid_date(self) -> bool:
        """True when DDMMYY is a real calendar date in 19YY or 20YY (29 February only in a leap year)."""
        for year in (1900 + self.birth_year_2digits, 2000 + self.birth_year_2digits):
            try:
                date(year, self.birth_month, self.birth_day)
            except ValueError:
                continue
            return True
        return False


def parse_nik(value: str) -> ParsedNik | None:
    """Splits a NIK into its parts; None when it is not 16 digits or its serial is 0000."""
    nik = _sixteen_digits(value)
    if nik is None or nik[12:] == "0000":
        return None
    day_field = int(nik[6:8])
    female = day_field > FEMALE_DAY_OFFSET
    return ParsedNik(
        province_code=nik[:2],
        regency_code=nik[:4],
        district_code=nik[:6],
        birth_day=day_field - FEMALE_DAY_OFFSET if female else day_field,
        birth_month=int(nik[8:10]),
        birth_year_2digits=int(nik[10:12]),
        female=female,
        serial=nik[12:],
    )


def _region_errors(field: str, prefix: str) -> list[FieldError]:
    """Checks a 6-digit region prefix level by level and reports only the first unknown level."""
    return [dataclasses.replace(error) for error in _region_errors_cached(field, prefix)]  # callers own their list


@functools.lru_cache(maxsize=16384)
def _region_errors_cached(field: str, prefix: str) -> tuple[FieldError, ...]:
    """Cached (the region lists never change while the process runs): a bulk import checks many NIKs of the same
    few districts."""
    return tuple(_region_errors_uncached(field, prefix))


def _region_errors_uncached(field: str, prefix: str) -> list[FieldError]:
    if regions.province(prefix[:2], include_retired=True) is None:
        return [_error(field, "nik_unknown_province")]
    if regions.regency(prefix[:4], include_retired=True) is None:
        return [_error(field, "nik_unknown_regency")]
    if regions.district(prefix[:6], include_retired=True) is None:
        return [_error(field, "nik_unknown_district")]
    return []


def validate_nik(
    value: str,
    *,
    birth_date: date | None = None,
    female: bool | None = None,
    field: str = "nik",
) -> list[FieldError]:
    """Checks a NIK on its own and, when given, against the declared birth date and sex.

    - ``nik_format``: not 16 digits (after removing spaces, dots, hyphens), or serial ``0000``; nothing else is
      checked then.
    - ``nik_unknown_province`` / ``nik_unknown_regency`` / ``nik_unknown_district``: the first level whose code
      is in neither the current nor the retired list.
    - ``nik_birthdate_invalid``: DDMMYY (day minus 40 for women) is not a calendar date.
    - ``nik_birthdate_mismatch``: day, month or two-digit year differ from ``birth_date``.
    - ``nik_sex_mismatch``: the date matches but the +40 says the other sex than ``female``. With
      ``female=None`` either encoding is accepted (the sex is then read from the NIK).
    """
    parsed = parse_nik(value)
    if parsed is None:
        return [_error(field, "nik_format")]
    errors = _region_errors(field, parsed.district_code)
    if not parsed.has_valid_date():
        errors.append(_error(field, "nik_birthdate_invalid"))
        return errors
    if birth_date is not None and (parsed.birth_day, parsed.birth_month, parsed.birth_year_2digits) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        errors.append(_error(field, "nik_birthdate_mismatch"))
    elif female is not None and parsed.female != female:
        errors.append(_error(field, "nik_sex_mismatch"))
    return errors


def validate_kk(
    value: str,
    *,
    ktp_regency_code: str | None = None,
    field: str = "kk",
) -> list[FieldError]:
    """Checks a family card (KK) number; see the module docstring for the region policy.

    - ``kk_format``: not 16 digits (after removing spaces, dots, hyphens), or all zeros.
    - ``kk_unknown_region``: the first 2 digits are not a known province or the first 4 not a known regency/city
      (current or retired).
    - ``kk_region_mismatch``: ``ktp_regency_code`` is a known regency and the KK's regency, mapped to its
      current code, differs from it. An unknown ``ktp_regency_code`` is the address field's problem, not the KK's.
    """
    kk = _sixteen_digits(value)
    if kk is None or set(kk) == {"0"}:
        return [_error(field, "kk_format")]
    if regions.province(kk[:2], include_retired=True) is None or regions.regency(kk[:4], include_retired=True) is None:
        return [_error(field, "kk_unknown_region")]
    if ktp_regency_code is not None:
        mismatch = kk_region_mismatch(kk, ktp_regency_code, field=field)
        if mismatch is not None:
            return [mismatch]
    return []


def kk_region_mismatch(kk: str, ktp_regency_code: str, *, field: str = "kk") -> FieldError | None:
    """``kk_region_mismatch`` when the well-formed KK's regency (mapped to its current code) is not the KTP
    address's regency; None when they agree or either region is unknown (those are other fields' errors)."""
    number = _sixteen_digits(kk)
    declared = regions.current_code(ktp_regency_code) if len(ktp_regency_code) == 4 else None
    if number is None or declared is None:
        return None
    issued = regions.current_code(number[:4])
    if issued is None or issued == declared:
        return None
    return _error(field, "kk_region_mismatch")


# ---------------------------------------------------------------------------------------------- birth date


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on a day. Someone born on 29 February turns a year older on 1 March in other years."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def validate_birth_date(
    birth_date: date,
    *,
    reference_date: date,
    field: str = "birth_date",
) -> list[FieldError]:
    """``birthdate_future`` after ``reference_date`` (usually today); ``birthdate_implausible`` when the person
    would be older than :data:`MAX_AGE_YEARS`. Age limits of the program are eligibility rules, not checked here."""
    if birth_date > reference_date:
        return [_error(field, "birthdate_future")]
    if age_on(birth_date, reference_date) > MAX_AGE_YEARS:
        return [_error(field, "birthdate_implausible")]
    return []


# ---------------------------------------------------------------------------------------------------- names


_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ASCII_NAME_CHARACTERS: Final = frozenset(string.ascii_letters) | _NAME_PUNCTUATION
"""In ASCII, the Latin letters are a-z and A-Z, the control characters are the only ones refused by category, and
nothing combines: names in plain ASCII (most of them) are checked without the Unicode database."""


def normalize_name(value: str) -> str:
    """NFC form, typographic apostrophes made ``'``, every kind of space made `` ``, outer spaces removed and
    inner runs of spaces made one.
    Store the normalised name; :func:`validate_name` checks this form."""
    if value.isascii():  # already NFC; the one ASCII space is " ", the one ASCII apostrophe to replace "`"
        return re.sub(" {2,}", " ", value.replace("`", "'")).strip(" ")
    text = unicodedata.normalize("NFC", value).translate(_APOSTROPHES)
    text = "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)
    return re.sub(" {2,}", " ", text).strip(" ")


@functools.lru_cache(maxsize=4096)
def _is_latin_letter(char: str) -> bool:
    """Cached: two Unicode database look-ups per character were a tenth of an identity submission's CPU."""
    return unicodedata.category(char).startswith("L") and unicodedata.name(char, "").startswith("LATIN ")


def validate_name(value: str, *, field: str = "full_name", max_length: int = NAME_MAX_LENGTH) -> list[FieldError]:
    """A person's name as written on the KTP (also used for the mother's maiden name).

    Accepted: Latin letters with or without diacritics, spaces, ``'``, ``-``, ``.`` and ``,``; single-word
    names (Sukarno). Refused: empty (``name_required``), longer than ``max_length`` (``name_too_long``), any
    other character, among them ``<``, ``>``, digits, control and invisible characters
    (``name_invalid_characters``), and punctuation without letters (``name_no_letters``).
    """
    if len(value) > 10 * max_length:  # refuse huge input before scanning it character by character
        return [_error(field, "name_too_long", max_length=max_length)]
    if value.isascii():
        return _validate_ascii_name(value, field=field, max_length=max_length)
    return _validate_unicode_name(value, field=field, max_length=max_length)


def _validate_ascii_name(value: str, *, field: str, max_length: int) -> list[FieldError]:
    """:func:`validate_name` for ASCII input: the same checks in the same order, without the Unicode database."""
    if _ASCII_CONTROL.search(value):
        return [_error(field, "name_invalid_characters")]
    name = normalize_name(value)
    if not name:
        return [_error(field, "name_required")]
    if len(name) > max_length:
        return [_error(field, "name_too_long", max_length=max_length)]
    if not _ASCII_NAME_CHARACTERS.issuperset(name):
        return [_error(field, "name_invalid_characters")]
    if not any(char.isalpha() for char in name):
        return [_error(field, "name_no_letters")]
    return []


def _validate_unicode_name(value: str, *, field: str, max_length: int) -> list[FieldError]:
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for char in value):
        return [_error(field, "name_invalid_characters")]
    name = normalize_name(value)
    if not name:
        return [_error(field, "name_required")]
    if len(name) > max_length:
        return [_error(field, "name_too_long", max_length=max_length)]
    previous = ""
    for char in name:
        combining_after_letter = unicodedata.category(char) == "Mn" and _is_latin_letter(previous)
        if not (_is_latin_letter(char) or char in _NAME_PUNCTUATION or combining_after_letter):
            return [_error(field, "name_invalid_characters")]
        if not combining_after_letter:
            previous = char
    if not any(_is_latin_letter(char) for char in name):
        return [_error(field, "name_no_letters")]
    return []


# ------------------------------------------------------------------------------------------------ the form


def validate_identity(
    *,
    nik: str,
    kk: str,
    birth_date: date | None,
    today: date,
    female: bool | None = None,
    ktp_regency_code: str | None = None,
) -> list[FieldError]:
    """The identity numbers and the birth date together, every error at once, in form order.

    ``birth_date`` is None when the form's date could not be read (the caller reports that); the NIK is then
    checked on its own. Adds ``kk_same_as_nik`` when the KK field holds the NIK, the most common mix-up.
    Names are checked separately with :func:`validate_name`.
    """
    errors = validate_nik(nik, birth_date=birth_date, female=female)
    kk_errors = validate_kk(kk, ktp_regency_code=ktp_regency_code)
    if not kk_errors and normalize_number(kk) == normalize_number(nik):
        kk_errors = [_error("kk", "kk_same_as_nik")]
    errors += kk_errors
    if birth_date is not None:
        errors += validate_birth_date(birth_date, reference_date=today)
    return errors

"""Field checks for the wizard and the API, built on the pure rules (``registration.rules``, ``regions``).

Each returns a list of field problems ``(field, code, message_id, message_en)``; empty means fine."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from prakerja.kit.clock import clock
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.errors import Problem
from prakerja.kit.text import invisible_characters
from prakerja.registration import rules
from prakerja.registration.errors import FieldProblem
from prakerja.registration.rules import regions

MAX_ADDRESS = 200
_MARKUP = re.compile(r"[<>{}\\]|javascript:|&#", re.IGNORECASE)


_KK_SAME = (
    "Nomor KK tidak boleh sama dengan NIK. Lihat nomor di bagian atas Kartu Keluarga.",
    "The family card (KK) number must differ from the NIK. Use the number at the top of the family card.",
)


def digits(value: str) -> str:
    """A typed code (region, number) without dots and spaces; check it with ``is_ascii_number`` (ASCII digits
    only: ``prakerja.kit.digits``)."""
    return value.strip().replace(".", "").replace(" ", "")


def identity_problems(
    *, nik: str, kk: str, birth_date: str, sex: str
) -> tuple[list[FieldProblem], datetime.date | None]:
    """NIK and KK format and regions, the birth date (real, not future, plausible) and its agreement with the
    NIK (day + 40 for women), and the KK's region agreeing with the NIK's."""
    problems: list[FieldProblem] = []
    if sex not in ("M", "F"):
        problems.append(Problem("sex", "sex_required", "Pilih jenis kelamin.", "Choose a sex."))
    born: datetime.date | None = None
    try:
        born = datetime.date.fromisoformat(birth_date.strip()) if len(birth_date.strip()) == 10 else None
    except ValueError:
        born = None
    if born is None:
        problems.append(
            Problem(
                "birth_date",
                "birth_date_invalid",
                "Tanggal lahir tidak valid (format TTTT-BB-HH).",
                "The birth date is not valid (format YYYY-MM-DD).",
            )
        )
    today = clock.today_jakarta().date()
    problems.extend(rules.validate_nik(nik, birth_date=born, female=(sex == "F") if sex in ("M", "F") else None))
    kk_problems: list[FieldProblem] = list(rules.validate_kk(kk))
    if not kk_problems and rules.normalize_number(kk) == rules.normalize_number(nik):
        kk_problems = [rules.FieldError("kk", "kk_same_as_nik", *_KK_SAME)]
    problems.extend(kk_problems)
    if born is not None:
        problems.extend(rules.validate_birth_date(born, reference_date=today))
    return problems, (born if not problems else None)


def text_problems(
    field: str, value: str, *, required: bool, max_length: int, label_id: str, label_en: str
) -> list[FieldProblem]:
    cleaned = value.strip()
    if not cleaned:
        if required:
            return [Problem(field, f"{field}_required", f"{label_id} wajib diisi.", f"{label_en} is required.")]
        return []
    if len(cleaned) > max_length:
        return [
            Problem(
                field,
                f"{field}_too_long",
                f"{label_id} paling banyak {max_length} karakter.",
                f"{label_en} must be at most {max_length} characters.",
            )
        ]
    if _MARKUP.search(cleaned) or invisible_characters(cleaned):
        return [
            Problem(
                field,
                f"{field}_invalid_characters",
                f"{label_id} berisi karakter yang tidak diizinkan.",
                f"{label_en} contains characters that are not allowed.",
            )
        ]
    return []


def name_problems(*, full_name: str, mother_maiden_name: str) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    problems.extend(rules.validate_name(full_name, field="full_name"))
    problems.extend(rules.validate_name(mother_maiden_name, field="mother_maiden_name"))
    return problems


def _district_problem(field: str, district: str, *, which_id: str, which_en: str) -> list[FieldProblem]:
    code = digits(district)
    if len(code) == 6 and is_ascii_number(code) and regions.district(code) is not None:
        return []
    return [
        Problem(
            field,
            "district_unknown",
            f"Kode kecamatan {which_id} tidak ada dalam daftar Kemendagri.",
            f"The {which_en} district code is not in the Ministry of Home Affairs list.",
        )
    ]


def address_problems(
    *,
    ktp_address: str,
    domicile_address: str,
    district: str,
    ktp_district: str | None = None,
    domicile_same_as_ktp: bool = False,
) -> list[FieldProblem]:
    """The address step. ``ktp_district`` None: a caller that asks only the domicile's region (the domicile
    district is then required). ``domicile_same_as_ktp``: the domicile is the KTP address, so only the KTP
    district is checked and the domicile fields are ignored; otherwise a separate domicile needs its address."""
    problems: list[FieldProblem] = []
    problems += text_problems(
        "ktp_address", ktp_address, required=True, max_length=MAX_ADDRESS, label_id="Alamat KTP", label_en="KTP address"
    )
    if ktp_district is not None or domicile_same_as_ktp:
        problems += _district_problem("ktp_district", ktp_district or "", which_id="KTP", which_en="KTP address")
    if domicile_same_as_ktp:
        return problems
    problems += text_problems(
        "domicile_address",
        domicile_address,
        required=ktp_district is not None,
        max_length=MAX_ADDRESS,
        label_id="Alamat domisili",
        label_en="Domicile address",
    )
    problems += _district_problem("domicile_district", district, which_id="domisili", which_en="domicile")
    return problems


_YES_NO_REQUIRED = {
    "has_disability": ("Jawab: apakah Anda penyandang disabilitas?", "Answer: do you have a disability?"),
    "former_migrant_worker": ("Jawab: apakah Anda mantan pekerja migran?", "Answer: are you a former migrant worker?"),
    "is_citizen": ("Jawab: apakah Anda warga negara Indonesia?", "Answer: are you an Indonesian citizen?"),
    "declared_student": (
        "Jawab: apakah Anda sedang sekolah atau kuliah?",
        "Answer: are you at school or university now?",
    ),
}


def yes_no_problems(answers: dict[str, bool | None]) -> list[FieldProblem]:
    """A yes/no question left unanswered is refused, never saved as yes or no."""
    return [
        Problem(name, "answer_required", *_YES_NO_REQUIRED[name])
        for name, answer in answers.items()
        if answer is None and name in _YES_NO_REQUIRED
    ]


def choice_problems(
    *, education: str, job_status: str, educations: Sequence[str], job_statuses: Sequence[str]
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if education not in educations:
        problems.append(
            Problem("education", "education_required", "Pilih pendidikan terakhir.", "Choose your education.")
        )
    if job_status not in job_statuses:
        problems.append(
            Problem("job_status", "job_status_required", "Pilih status pekerjaan.", "Choose your job status.")
        )
    return problems


def declaration_problems(*, declaration: bool, consent: bool) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not declaration:
        problems.append(
            Problem(
                "declaration",
                "declaration_required",
                "Centang pernyataan bahwa data Anda benar.",
                "Tick the statement that your data is true.",
            )
        )
    if not consent:
        problems.append(
            Problem(
                "consent",
                "consent_required",
                "Centang persetujuan penggunaan data.",
                "Tick the consent to the use of your data.",
            )
        )
    return problems


def phone_problems(phone: str) -> tuple[list[FieldProblem], str | None]:
    """Indonesian mobile numbers: ``08...``, ``628...`` or ``+628...``, 10-13 digits; normalised to ``+628...``.
    ASCII digits only (``prakerja.kit.digits``): ``08١٢...`` is refused, never stored under another index."""
    raw = phone.strip().replace(" ", "").replace("-", "")
    if raw.startswith("+"):
        raw = raw[1:]
    if raw.startswith("0"):
        raw = "62" + raw[1:]
    if not (is_ascii_number(raw) and raw.startswith("628") and 10 <= len(raw) - 1 <= 13):
        return [
            Problem(
                "phone",
                "phone_invalid",
                "Nomor ponsel tidak valid (contoh 0812 3456 7890).",
                "The mobile number is not valid (e.g. 0812 3456 7890).",
            )
        ], None
    return [], "+" + raw


def kk_region_problems(*, kk: str, ktp_regency: str | None) -> list[FieldProblem]:
    """The KK's region against the KTP address's regency (when known). Not a refusal: the caller raises an
    integrity flag for review with this field-level message (see ``rules`` on the region policy)."""
    if not ktp_regency:
        return []
    mismatch = rules.kk_region_mismatch(kk, ktp_regency)
    return [mismatch] if mismatch is not None else []

"""The course form of the institution portal, the pure part: form fields to the partner API's course body (the same
``CourseCreate`` the API validates), and the API's field paths back to form fields so each message sits next to
its field. Times are typed in Jakarta time (WIB)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from prakerja.catalog.schemas import CourseCreate, CourseOut
from prakerja.kit.clock import JAKARTA

MAX_ROWS = 60
"""Trainer and session rows read from one form."""
EXTRA_TRAINER_ROWS = 2
EXTRA_SESSION_ROWS = 3
MIN_TRAINER_ROWS = 2
MIN_SESSION_ROWS = 6
"""A new course's form: room for a typical schedule without any script."""
JAKARTA_OFFSET = "+07:00"

HINTS: dict[str, tuple[str, str]] = {
    "title": ("Judul 5-200 karakter.", "A title of 5-200 characters."),
    "category": ("Pilih kategori.", "Choose a category."),
    "competency_standard": ("Standar kompetensi 3-300 karakter.", "A competency standard of 3-300 characters."),
    "syllabus": ("Silabus paling sedikit 20 karakter.", "A syllabus of at least 20 characters."),
    "format": ("Pilih bentuk pelatihan.", "Choose how the course is delivered."),
    "hours": ("Jumlah jam: angka bulat lebih dari 0.", "Hours: a whole number above 0."),
    "class_size": ("Ukuran kelas: angka bulat lebih dari 0.", "Class size: a whole number above 0."),
    "price": ("Harga dalam rupiah: angka bulat lebih dari 0.", "Price in rupiah: a whole number above 0."),
    "outside_price": (
        "Harga di luar program dalam rupiah (0 jika gratis).",
        "Price outside the program in rupiah (0 when free).",
    ),
    "outside_url": ("Alamat web diawali https://.", "A web address starting with https://."),
    "trainers": (
        "Isi paling sedikit satu pelatih dengan kualifikasinya.",
        "Add at least one trainer and qualification.",
    ),
    "trainer_name": ("Nama pelatih 2-200 karakter.", "A trainer's name of 2-200 characters."),
    "trainer_qualification": ("Kualifikasi 2-300 karakter.", "A qualification of 2-300 characters."),
    "session_date": ("Tanggal dan jam mulai yang benar.", "A valid start date and time."),
    "session_minutes": ("Durasi 1-1440 menit.", "A duration of 1-1440 minutes."),
    "session_type": (
        "Jenis sesi wajib untuk pelatihan campuran dan harus sesuai bentuk pelatihan.",
        "A session type is required for a hybrid course and must match the course's format.",
    ),
    "session_place": (
        "Sesi luring perlu alamat tempat dan provinsi.",
        "An offline session needs the venue's address and province.",
    ),
    "session_province": ("Pilih provinsi tempat.", "Choose the venue's province."),
    "sessions": ("Dua sesi tidak boleh mulai pada waktu yang sama.", "Two sessions cannot start at the same time."),
    "url": ("Alamat halaman pelatihan di platform, diawali https://.", "The course's page on the platform (https://)."),
}

_API_TO_FORM = {
    "name": "trainer_name",
    "qualification": "trainer_qualification",
    "starts_at": "session_date",
    "duration_minutes": "session_minutes",
    "training_type": "session_type",
    "place": "session_place",
    "province_code": "session_province",
}


def whole_number(value: str) -> int | str:
    """``1.200.000`` and ``1200000`` are both a whole number; anything else stays text (and is refused)."""
    cleaned = re.sub(r"[.\s,]", "", value)
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 12 else value


def rows(form: Mapping[str, str], prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Numbered row fields (``trainer_name_0`` ...) as dicts, index kept, empty rows dropped."""
    found = []
    for index in range(MAX_ROWS):
        row = {f: form.get(f"{prefix}_{f}_{index}", "").strip() for f in fields}
        if any(row.values()):
            found.append({"index": str(index), **row})
    return found


def course_body(form: Mapping[str, str]) -> tuple[dict[str, Any], list[int], list[int]]:
    """The form as the partner API's course body; with the form row index of each trainer and session."""
    trainers = rows(form, "trainer", ("name", "qualification"))
    sessions = rows(form, "session", ("date", "time", "minutes", "type", "place", "province"))
    body: dict[str, Any] = {
        "title": form.get("title", ""),
        "category": form.get("category", ""),
        "competency_standard": form.get("competency_standard", ""),
        "syllabus": form.get("syllabus", ""),
        "format": form.get("format", ""),
        "hours": whole_number(form.get("hours", "")),
        "class_size": whole_number(form.get("class_size", "")),
        "price": whole_number(form.get("price", "")),
        "outside_price": whole_number(form.get("outside_price", "")),
        "outside_url": form.get("outside_url", "").strip(),
        "interactive": form.get("interactive") == "ya",
        "trainers": [{"name": t["name"], "qualification": t["qualification"]} for t in trainers],
        "sessions": [
            {
                "starts_at": f"{s['date']}T{s['time'] or '00:00'}:00{JAKARTA_OFFSET}",
                "duration_minutes": whole_number(s["minutes"]),
                "training_type": s["type"] or None,
                "place": s["place"],
                "province_code": s["province"] or None,
            }
            for s in sessions
        ],
    }
    return body, [int(t["index"]) for t in trainers], [int(s["index"]) for s in sessions]


def form_field(path: tuple[Any, ...] | str, trainer_rows: list[int], session_rows: list[int]) -> str:
    """The form field of an API field path: ``("sessions", 1, "place")`` or ``"sessions.1.province_code"``."""
    parts: tuple[Any, ...] = tuple(path.split(".")) if isinstance(path, str) else path
    if not parts:
        return "sessions"
    head = str(parts[0])
    if head in ("trainers", "sessions") and len(parts) >= 3 and str(parts[1]).isdigit():
        position, leaf = int(parts[1]), str(parts[2])
        indexes = trainer_rows if head == "trainers" else session_rows
        row = indexes[position] if position < len(indexes) else position
        return f"{_API_TO_FORM.get(leaf, head)}_{row}"
    return head


def _model_error_field(message: str, session_rows: list[int]) -> str:
    """A whole-course check names its session as ``sessions[i]``: point at that row's fields."""
    found = re.search(r"sessions\[(\d+)\]", message)
    if found is None:
        return "sessions"
    position = int(found.group(1))
    row = session_rows[position] if position < len(session_rows) else position
    field = "session_type" if "training_type" in message else "session_place"
    return f"{field}_{row}"


def _hint(field: str) -> tuple[str, str]:
    return HINTS.get(re.sub(r"_\d+$", "", field), ("Periksa isian ini.", "Check this field."))


def field_problems(error: ValidationError, trainer_rows: list[int], session_rows: list[int]) -> list[dict[str, str]]:
    """Pydantic's errors as ``[{field, message, message_en}]`` on the form's fields (``web.forms.field_errors``)."""
    problems = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        if not loc or (len(loc) == 1 and loc[0] == "__root__"):
            field = _model_error_field(str(item.get("msg", "")), session_rows)
        else:
            field = form_field(loc, trainer_rows, session_rows)
        message, message_en = _hint(field)
        problems.append({"field": field, "message": message, "message_en": message_en})
    return problems


def api_problems(
    fields: list[dict[str, str]], trainer_rows: list[int], session_rows: list[int]
) -> list[dict[str, str]]:
    """The catalogue's own refusals (``{field: "sessions.0.province_code", problem}``) on the form's fields."""
    problems = []
    for item in fields:
        field = form_field(str(item.get("field", "")), trainer_rows, session_rows)
        message, message_en = _hint(field)
        problems.append({"field": field, "message": message, "message_en": message_en})
    return problems


def parse_course(form: Mapping[str, str]) -> tuple[CourseCreate | None, list[dict[str, str]]]:
    """The course, or the problems to show next to the fields."""
    body, trainer_rows, session_rows = course_body(form)
    try:
        return CourseCreate.model_validate(body), []
    except ValidationError as error:
        return None, field_problems(error, trainer_rows, session_rows)


def remap(problems: list[dict[str, str]], form: Mapping[str, str]) -> list[dict[str, str]]:
    """The catalogue's field paths (``sessions.0.province_code``) on the form's fields."""
    _, trainer_rows, session_rows = course_body(form)
    return api_problems(problems, trainer_rows, session_rows)


def form_values(course: CourseOut) -> dict[str, str]:
    """A stored course as the form's fields (times in Jakarta time), to edit it."""
    values: dict[str, str] = {
        "title": course.title,
        "category": course.category,
        "competency_standard": course.competency_standard,
        "syllabus": course.syllabus,
        "format": course.format,
        "hours": str(course.hours),
        "class_size": str(course.class_size),
        "price": str(course.price),
        "outside_price": str(course.outside_price),
        "outside_url": course.outside_url,
        "interactive": "ya" if course.interactive else "",
    }
    for i, t in enumerate(course.trainers):
        values[f"trainer_name_{i}"], values[f"trainer_qualification_{i}"] = t.name, t.qualification
    for i, s in enumerate(course.sessions):
        local = s.starts_at.astimezone(JAKARTA)
        values[f"session_date_{i}"] = local.strftime("%Y-%m-%d")
        values[f"session_time_{i}"] = local.strftime("%H:%M")
        values[f"session_minutes_{i}"] = str(s.duration_minutes)
        values[f"session_type_{i}"] = s.training_type if course.format == "hybrid" else ""
        values[f"session_place_{i}"] = s.place
        values[f"session_province_{i}"] = s.province_code or ""
    return values


def row_count(values: Mapping[str, str], prefix: str, extra: int, minimum: int) -> int:
    """How many numbered rows the form shows: those filled in, then ``extra`` empty ones, at least ``minimum``."""
    used = [int(m.group(1)) for key in values if (m := re.fullmatch(rf"{prefix}_[a-z]+_(\d+)", key)) and values[key]]
    return min(max((max(used) + 1 if used else 0) + extra, minimum), MAX_ROWS)


def month_start(value: str) -> date | None:
    """``2026-03`` -> 1 March 2026; None for anything else (ASCII digits only)."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(start: date) -> date:
    """The month's last day."""
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)

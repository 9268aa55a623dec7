"""The course form, the pure part: fields to the partner API's body (Jakarta time), problems back on the fields
they belong to, and a stored course back to fields."""

from __future__ import annotations

from datetime import UTC, datetime

from prakerja.catalog.schemas import CourseOut, SessionOut, Trainer
from prakerja.portals import rules

BASE = {
    "title": "Fotografi Produk untuk Toko Daring",
    "category": "marketing",
    "competency_standard": "SKKNI Fotografi",
    "syllabus": "Cahaya, sudut, latar dan penyuntingan foto produk.",
    "format": "offline",
    "hours": "16",
    "class_size": "25",
    "price": "2.500.000",
    "outside_price": "2750000",
    "interactive": "ya",
    "trainer_name_0": "",
    "trainer_qualification_0": "",
    "trainer_name_1": "Pelatih Foto",
    "trainer_qualification_1": "Fotografer 8 tahun",
    "session_date_0": "2026-03-16",
    "session_time_0": "08:00",
    "session_minutes_0": "480",
    "session_place_0": "Jl. Gajah Mada 10, Denpasar",
    "session_province_0": "51",
    "session_date_2": "2026-03-17",
    "session_time_2": "08:00",
    "session_minutes_2": "480",
    "session_place_2": "",
    "session_province_2": "",
}


def test_a_form_becomes_the_api_body_in_jakarta_time() -> None:
    data, problems = rules.parse_course({**BASE, "session_place_2": "Jl. Gajah Mada 10", "session_province_2": "51"})
    assert problems == [] and data is not None
    assert data.price == 2_500_000 and data.interactive is True
    assert [t.name for t in data.trainers] == ["Pelatih Foto"]  # the empty first row is skipped
    assert [s.starts_at.astimezone(UTC) for s in data.sessions] == [
        datetime(2026, 3, 16, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 17, 1, 0, tzinfo=UTC),
    ]


def test_problems_sit_on_the_rows_the_person_typed_in() -> None:
    data, problems = rules.parse_course({**BASE, "price": "dua juta", "trainer_qualification_1": "x"})
    assert data is None
    fields = {p["field"]: p["message"] for p in problems}
    assert fields["price"].startswith("Harga dalam rupiah")
    assert "trainer_qualification_1" in fields  # row 1 of the form, though it is the API's trainers[0]
    data, problems = rules.parse_course(BASE)  # session row 2 is offline without a place
    assert data is None and [p["field"] for p in problems] == ["session_place_2"]
    assert rules.remap([{"field": "sessions.1.province_code", "problem": "unknown"}], BASE)[0]["field"] == (
        "session_province_2"
    )


def test_a_stored_course_back_to_fields_and_rows() -> None:
    course = CourseOut(
        course_id="c",
        status="approved",
        version=1,
        title="T",
        category="marketing",
        competency_standard="S",
        syllabus="Y",
        trainers=[Trainer(name="Budi Santoso", qualification="BNSP")],
        format="webinar",
        hours=3,
        sessions=[
            SessionOut(
                session_id="s",
                starts_at=datetime(2026, 3, 16, 2, 0, tzinfo=UTC),
                duration_minutes=180,
                training_type="online",
                place="",
                province_code=None,
            )
        ],
        class_size=10,
        price=100_000,
        outside_price=0,
        outside_url="",
        interactive=True,
        scheme="2023-normal",
        reasons=[],
        note="",
        decided_at=None,
    )
    values = rules.form_values(course)
    assert (values["session_date_0"], values["session_time_0"], values["session_type_0"]) == ("2026-03-16", "09:00", "")
    assert values["trainer_name_0"] == "Budi Santoso" and values["interactive"] == "ya"
    assert rules.row_count(values, "session", extra=3, minimum=6) == 6
    assert rules.row_count(values, "trainer", extra=2, minimum=2) == 3
    assert rules.whole_number("1.200.000") == 1_200_000 and rules.whole_number("12a") == "12a"

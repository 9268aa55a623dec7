"""Demo data: institutions with approved courses (webinar, offline, self-paced), a platform that lists them, and
one recorded platform-institution link. Idempotent: a course already there (same institution and title) is kept."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.catalog import service
from prakerja.catalog.errors import LinkExists
from prakerja.catalog.schemas import CourseCreate
from prakerja.kit.clock import JAKARTA, clock

INSTITUTIONS = ("Lembaga Pelatihan Nusantara Digital", "Balai Kursus Kuliner Sejahtera")
PLATFORMS = ("Platform Belajar Demo", "Pasar Kursus Demo")


@dataclass(frozen=True)
class DemoCatalog:
    institutions: dict[str, uuid.UUID]
    platforms: dict[str, uuid.UUID]
    courses: dict[str, uuid.UUID]
    """Title -> course id."""


def _days(first: datetime, count: int, hours: int, **session: Any) -> list[dict[str, Any]]:
    return [{"starts_at": first + timedelta(days=n), "duration_minutes": hours * 60, **session} for n in range(count)]


def _courses(first: datetime) -> list[tuple[str, dict[str, Any]]]:
    trainer = {"name": "Pelatih Demo", "qualification": "Sertifikat BNSP, 5 tahun mengajar"}
    second = {"name": "Asisten Demo", "qualification": "Praktisi industri 3 tahun"}
    return [
        (
            INSTITUTIONS[0],
            {
                "title": "Strategi Pemasaran Digital untuk UMKM",
                "category": "marketing",
                "competency_standard": "SKKNI Pemasaran Digital: merencanakan kampanye media sosial",
                "syllabus": "Memasarkan produk di media sosial, riset kata kunci, iklan berbayar, "
                "mengukur hasil kampanye, studi kasus usaha mikro.",
                "trainers": [trainer, second],
                "format": "webinar",
                "hours": 15,
                "sessions": _days(first, 5, 3),
                "class_size": 100,
                "price": 1_200_000,
                "outside_price": 1_500_000,
                "interactive": True,
            },
        ),
        (
            INSTITUTIONS[0],
            {
                "title": "Dasar Pemrograman Web untuk Pemula",
                "category": "technology",
                "competency_standard": "SKKNI Pengembang Web Junior",
                "syllabus": "HTML, CSS dan JavaScript dasar; membuat halaman toko daring sederhana; "
                "mengunggah situs; latihan proyek mandiri dengan umpan balik pelatih.",
                "trainers": [trainer],
                "format": "self_paced",
                "hours": 20,
                "sessions": [],
                "class_size": 500,
                "price": 900_000,
                "outside_price": 950_000,
                "interactive": True,
            },
        ),
        (
            INSTITUTIONS[1],
            {
                "title": "Memasak Kue Tradisional untuk Usaha Rumahan",
                "category": "food",
                "competency_standard": "SKKNI Pengolahan Makanan: membuat kue basah",
                "syllabus": "Bahan dan alat, resep kue basah Nusantara, kebersihan dapur, "
                "menghitung harga pokok, mengemas dan menjual kue.",
                "trainers": [trainer, second],
                "format": "offline",
                "hours": 16,
                "sessions": _days(
                    first, 2, 8, place="Jl. Gajah Mada No. 10, Denpasar", province_code="51", training_type="offline"
                ),
                "class_size": 25,
                "price": 2_500_000,
                "outside_price": 2_750_000,
                "interactive": True,
            },
        ),
    ]


def seed_demo_catalog(
    session: Session, *, actor: Actor | None = None, first_session: datetime | None = None
) -> DemoCatalog:
    """Create (or find) the demo institutions and platforms, submit, approve and list their courses, and record
    that the first platform and the first institution share an owner (a conflict of interest the pages show).
    The courses with sessions hold one a day from ``first_session`` (default: 09:00 WIB two weeks from today)."""
    actor = actor or Actor.system()
    orgs = service.organisations
    institutions = {
        name: orgs.ensure(session, name=name, role=orgs.INSTITUTION, actor=actor).id for name in INSTITUTIONS
    }
    platforms = {name: orgs.ensure(session, name=name, role=orgs.PLATFORM, actor=actor).id for name in PLATFORMS}
    today = clock.today_jakarta().date()
    first = first_session or datetime.combine(today + timedelta(days=14), time(9, 0), JAKARTA)
    existing = {
        (c.institution_id, c.title): c.id
        for institution_id in institutions.values()
        for c in service.curation.institution_courses(session, institution_id)
    }
    courses: dict[str, uuid.UUID] = {}
    for institution, body in _courses(first):
        institution_id = institutions[institution]
        found = existing.get((institution_id, body["title"]))
        if found is None:
            course = service.courses.submit(
                session, institution_id=institution_id, data=CourseCreate.model_validate(body), actor=actor
            )
            service.curation.curate(
                session, course_id=course.id, decision="approved", reasons=[], note="Data demo.", officer=actor
            )
            for n, platform_id in enumerate(platforms.values()):
                service.listings.put_listing(
                    session,
                    course_id=course.id,
                    platform_id=platform_id,
                    url=f"https://platform-{n + 1}.example/kursus/{course.id}",
                    price=course.price - n * 50_000,
                    actor=actor,
                )
            found = course.id
        courses[body["title"]] = found
    with contextlib.suppress(LinkExists):
        service.curation.record_link(
            session,
            platform_id=platforms[PLATFORMS[0]],
            institution_id=institutions[INSTITUTIONS[0]],
            kind="ownership",
            evidence="Demo: akta perusahaan menunjukkan pemilik yang sama.",
            actor=actor,
        )
    return DemoCatalog(institutions, platforms, courses)

"""Catalogue fixtures: an institution and a platform with signing keys, a valid course body, and helpers that
submit and approve through the service."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.catalog import service
from prakerja.catalog.models import Course
from prakerja.catalog.schemas import CourseCreate
from tests.partners.conftest import Partner, SignedClient, create_partner, signed_client  # noqa: F401

OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000c1"), role="pmo_officer")

BODY: dict[str, Any] = {
    "title": "Strategi Pemasaran Digital untuk UMKM",
    "category": "marketing",
    "competency_standard": "SKKNI Pemasaran Digital: merencanakan kampanye media sosial",
    "syllabus": "Memasarkan produk di media sosial, riset kata kunci, iklan berbayar, mengukur hasil kampanye.",
    "trainers": [
        {"name": "Budi Santoso", "qualification": "Sertifikat BNSP Pemasaran Digital"},
        {"name": "Dewi Lestari", "qualification": "Praktisi iklan daring 5 tahun"},
    ],
    "format": "webinar",
    "hours": 15,
    "sessions": [{"starts_at": f"2026-03-{16 + n}T02:00:00Z", "duration_minutes": 180} for n in range(5)],
    "class_size": 100,
    "price": 1_000_000,
    "outside_price": 1_200_000,
    "outside_url": "https://kursus.example/pemasaran",
    "interactive": True,
}
"""A course that passes every check of the 2023 scheme (the clock is frozen in March 2026)."""

OFFLINE: dict[str, Any] = {
    **BODY,
    "title": "Memasak Kue Tradisional untuk Usaha Rumahan",
    "category": "food",
    "competency_standard": "SKKNI Pengolahan Makanan: membuat kue basah",
    "syllabus": "Bahan dan alat, resep kue basah Nusantara, kebersihan dapur, menghitung harga pokok.",
    "format": "offline",
    "hours": 16,
    "sessions": [
        {
            "starts_at": f"2026-03-{16 + n}T01:00:00Z",
            "duration_minutes": 480,
            "place": "Jl. Gajah Mada No. 10, Denpasar",
            "province_code": "51",
        }
        for n in range(2)
    ],
    "class_size": 25,
    "price": 2_500_000,
    "outside_price": 2_750_000,
}


def body(base: dict[str, Any] = BODY, **overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **overrides}


def submit(session: Session, institution_id: uuid.UUID, base: dict[str, Any] = BODY, **overrides: Any) -> Course:
    return service.courses.submit(
        session,
        institution_id=institution_id,
        data=CourseCreate.model_validate(body(base, **overrides)),
        actor=Actor(id=None, role="partner:institution"),
    )


def approve(session: Session, course: Course) -> None:
    service.curation.curate(session, course_id=course.id, decision="approved", reasons=[], note="", officer=OFFICER)


def count(session: Session, model: type, **where: Any) -> int:
    session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(session.scalar(stmt) or 0)


def audit_actions(session: Session) -> list[str]:
    session.rollback()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name="Lembaga Pelatihan Uji", role="institution")


@pytest.fixture
def other_institution(session: Session) -> Partner:
    return create_partner(session, name="Balai Kursus Lain", role="institution")


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Belajar Uji", role="platform")

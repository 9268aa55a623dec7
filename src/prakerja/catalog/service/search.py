"""The participants' catalogue: search, filters and the course page. Reads only; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from prakerja.catalog import repository
from prakerja.catalog.errors import CourseNotFound
from prakerja.catalog.models import Course, CourseSession, CourseStatus, ListingStatus
from prakerja.catalog.repository import CourseCard, SearchFilters, SearchHit
from prakerja.catalog.service import courses, curation, organisations
from prakerja.ledger import service as ledger
from prakerja.registration import service as registration
from prakerja.registration.service.regions import province_name, province_names

if TYPE_CHECKING:
    import asyncpg

PAGE_SIZE = 20

__all__ = ["PAGE_SIZE", "CourseCard", "SearchFilters", "SearchHit"]


@dataclass(frozen=True)
class Results:
    hits: list[SearchHit]
    total: int
    page: int
    institutions: dict[uuid.UUID, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def search(session: Session, filters: SearchFilters, *, page: int = 1) -> Results:
    """One page of approved courses matching the filters (cards: the columns the catalogue shows), how many match,
    and the names of the page's institutions: two statements."""
    page = max(1, page)
    hits, total = repository.search(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    institutions = organisations.names_of(session, {hit.course.institution_id for hit in hits}) if hits else {}
    return Results(hits, total, page, institutions)


async def search_on_loop(conn: asyncpg.Connection, filters: SearchFilters, *, page: int = 1) -> Results:
    """``search`` on a loop connection (``db.on_loop``, ADR 0014): the same statements, the same answer (a test
    holds the two equal), on the event loop with no ``Session`` and no worker thread."""
    page = max(1, page)
    hits, total = await repository.search_on_loop(conn, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    ids = {hit.course.institution_id for hit in hits}
    institutions = await organisations.names_of_on_loop(conn, ids) if hits else {}
    return Results(hits, total, page, institutions)


def remaining_balance(session: Session, account_id: uuid.UUID) -> int | None:
    """What a signed-in participant can still spend, from the ledger; None without a funded wallet."""
    applicant = registration.applicant_for_account(session, account_id)
    if applicant is None:
        return None
    wallet = ledger.wallet(session, applicant.applicant_id)
    return int(wallet.available) if wallet is not None else None


def provinces(session: Session) -> list[tuple[str, str]]:
    """(code, name) of provinces with an offline session of an approved course."""
    return [(code, province_name(code) or code) for code in repository.offline_provinces(session)]


async def provinces_on_loop(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """``provinces`` on a loop connection (the same statement and answer)."""
    return [(code, province_name(code) or code) for code in await repository.offline_provinces_on_loop(conn)]


def province_label(code: str | None) -> str:
    return (province_name(code) or code) if code else ""


def all_provinces() -> dict[str, str]:
    return province_names()


@dataclass(frozen=True)
class Offer:
    platform: str
    url: str
    price: int
    conflict_of_interest: bool


@dataclass(frozen=True)
class CoursePage:
    course: Course
    institution: str
    sessions: list[CourseSession]
    offers: list[Offer]
    trainer_qualifications: list[str]
    rating_average: Decimal | None
    rating_count: int


def course_page(session: Session, course_id: uuid.UUID) -> CoursePage:
    """An approved course with its institution, sessions, the platforms selling it and its ratings."""
    course = repository.course(session, course_id)
    if course is None or course.status != CourseStatus.approved:
        raise CourseNotFound()
    names = organisations.names(session)
    offers = [
        Offer(
            platform=names.get(lst.platform_id, "?"),
            url=lst.url,
            price=lst.price,
            conflict_of_interest=curation.linked(session, lst.platform_id, course.institution_id),
        )
        for lst in repository.listings_of_course(session, course.id)
        if lst.status == ListingStatus.listed
    ]
    return CoursePage(
        course=course,
        institution=names.get(course.institution_id, "?"),
        sessions=[s for s in repository.sessions_of(session, course.id) if s.cancelled_at is None],
        offers=offers,
        trainer_qualifications=[t.qualification for t in courses.trainers(course)],
        rating_average=course.rating_average,
        rating_count=course.rating_count,
    )

"""Every query on the catalogue's tables. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import ColumnElement, and_, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from prakerja.catalog.models import (
    Course,
    CourseSession,
    CourseStatus,
    CurationDecision,
    Listing,
    ListingStatus,
    PartnerLink,
    TrainingType,
)
from prakerja.kit.loop import Later

SEARCH_CONFIG = "indonesian"
"""PostgreSQL's Indonesian text-search configuration (Snowball stemmer): ``pemasaran`` and ``memasarkan`` both
become ``pasar``."""


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


def course(session: Session, course_id: uuid.UUID, *, lock: bool = False) -> Course | None:
    stmt = select(Course).where(Course.id == course_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def courses(session: Session, course_ids: Iterable[uuid.UUID]) -> list[Course]:
    ids = list(course_ids)
    return list(session.scalars(select(Course).where(Course.id.in_(ids)))) if ids else []


def sessions_of(session: Session, course_id: uuid.UUID) -> list[CourseSession]:
    return list(
        session.scalars(
            select(CourseSession).where(CourseSession.course_id == course_id).order_by(CourseSession.position)
        )
    )


def course_session(session: Session, session_id: uuid.UUID, *, lock: bool = False) -> CourseSession | None:
    query = select(CourseSession).where(CourseSession.id == session_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def remove_sessions(session: Session, course_id: uuid.UUID) -> None:
    session.execute(delete(CourseSession).where(CourseSession.course_id == course_id))


def decisions_of(session: Session, course_id: uuid.UUID) -> list[CurationDecision]:
    """Newest first."""
    return list(
        session.scalars(
            select(CurationDecision)
            .where(CurationDecision.course_id == course_id)
            .order_by(CurationDecision.created_at.desc(), CurationDecision.id.desc())
        )
    )


def curation_queue(session: Session, limit: int = 200) -> list[Course]:
    """Courses waiting for an officer, the longest-waiting first."""
    return list(
        session.scalars(
            select(Course)
            .where(Course.status == CourseStatus.in_curation)
            .order_by(Course.updated_at, Course.id)
            .limit(limit)
        )
    )


def courses_of_institution(session: Session, institution_id: uuid.UUID) -> list[Course]:
    return list(
        session.scalars(select(Course).where(Course.institution_id == institution_id).order_by(Course.created_at))
    )


def listing(session: Session, course_id: uuid.UUID, platform_id: uuid.UUID, *, lock: bool = False) -> Listing | None:
    stmt = select(Listing).where(Listing.course_id == course_id, Listing.platform_id == platform_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def course_and_listing(session: Session, course_id: uuid.UUID, platform_id: uuid.UUID) -> tuple[Course, Listing] | None:
    """The course and the platform's listing of it, in one statement (None when either is missing)."""
    row = session.execute(
        select(Course, Listing)
        .join(Listing, Listing.course_id == Course.id)
        .where(Course.id == course_id, Listing.platform_id == platform_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


_COURSE_AND_LISTING_SQL = (
    "SELECT c.id, c.institution_id, c.title, c.status, l.price, l.status FROM catalog_courses c"
    " JOIN catalog_listings l ON l.course_id = c.id WHERE c.id = %s AND l.platform_id = %s"
)


async def course_and_listing_on_loop(
    conn: AsyncConnection[Any], course_id: uuid.UUID, platform_id: uuid.UUID
) -> Later[tuple[Any, ...] | None]:
    """:func:`course_and_listing` on a loop connection (ADR 0014), the columns a purchase needs: course id,
    institution, title, course status, listing price, listing status."""
    cur = await conn.execute(_COURSE_AND_LISTING_SQL, (course_id, platform_id))

    async def row() -> tuple[Any, ...] | None:
        return await cur.fetchone()

    return row


_SESSIONS_SQL = (
    "SELECT id, starts_at, training_type, cancelled_at FROM catalog_course_sessions WHERE course_id = %s"
    " ORDER BY position"
)


async def sessions_of_on_loop(conn: AsyncConnection[Any], course_id: uuid.UUID) -> Later[list[tuple[Any, ...]]]:
    """:func:`sessions_of` on a loop connection (ADR 0014): id, start, training type, cancellation, in order."""
    cur = await conn.execute(_SESSIONS_SQL, (course_id,))

    async def rows() -> list[tuple[Any, ...]]:
        return await cur.fetchall()

    return rows


def listings_of_course(session: Session, course_id: uuid.UUID) -> list[Listing]:
    return list(session.scalars(select(Listing).where(Listing.course_id == course_id).order_by(Listing.price)))


def listings_of_platform(session: Session, platform_id: uuid.UUID) -> list[Listing]:
    return list(session.scalars(select(Listing).where(Listing.platform_id == platform_id).order_by(Listing.created_at)))


def listings_of_courses(session: Session, course_ids: Sequence[uuid.UUID]) -> list[Listing]:
    if not course_ids:
        return []
    return list(session.scalars(select(Listing).where(Listing.course_id.in_(list(course_ids)))))


def suspend_listings_above(session: Session, course_id: uuid.UUID, price: int, at: datetime) -> list[uuid.UUID]:
    """Listings of the course priced above ``price`` become suspended; returns their platforms."""
    rows = session.execute(
        update(Listing)
        .where(Listing.course_id == course_id, Listing.status == ListingStatus.listed, Listing.price > price)
        .values(status=ListingStatus.suspended, updated_at=at)
        .returning(Listing.platform_id)
    )
    return [r[0] for r in rows]


def active_links(session: Session) -> list[PartnerLink]:
    return list(
        session.scalars(select(PartnerLink).where(PartnerLink.removed_at.is_(None)).order_by(PartnerLink.created_at))
    )


def link(session: Session, link_id: uuid.UUID, *, lock: bool = False) -> PartnerLink | None:
    stmt = select(PartnerLink).where(PartnerLink.id == link_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def active_link(session: Session, platform_id: uuid.UUID, institution_id: uuid.UUID, kind: str) -> PartnerLink | None:
    return session.scalars(
        select(PartnerLink).where(
            PartnerLink.platform_id == platform_id,
            PartnerLink.institution_id == institution_id,
            PartnerLink.kind == kind,
            PartnerLink.removed_at.is_(None),
        )
    ).first()


def links_touching(session: Session, partner_ids: Sequence[uuid.UUID]) -> list[PartnerLink]:
    """Active links where any of the partners is the platform or the institution."""
    if not partner_ids:
        return []
    ids = list(partner_ids)
    return list(
        session.scalars(
            select(PartnerLink).where(
                PartnerLink.removed_at.is_(None),
                or_(PartnerLink.platform_id.in_(ids), PartnerLink.institution_id.in_(ids)),
            )
        )
    )


@dataclass(frozen=True)
class SearchFilters:
    """The participant's search; every field optional."""

    query: str = ""
    category: str | None = None
    format: str | None = None
    province_code: str | None = None
    max_price: int | None = None
    min_rating: float | None = None
    sort: str = "relevance"
    """``relevance`` (with a query), ``rating`` or ``price``."""


@dataclass(frozen=True)
class SearchHit:
    course: Course
    from_price: int
    """The lowest price a platform sells it for, or the curated price when nobody lists it yet."""


def _from_price() -> ColumnElement[int]:
    lowest = (
        select(func.min(Listing.price))
        .where(Listing.course_id == Course.id, Listing.status == ListingStatus.listed)
        .correlate(Course)
        .scalar_subquery()
    )
    return func.coalesce(lowest, Course.price)


def _filtered(filters: SearchFilters) -> tuple[Any, Any]:
    from_price = _from_price()
    stmt = select(Course, from_price.label("from_price")).where(Course.status == CourseStatus.approved)
    rank = None
    if filters.query.strip():
        tsquery = func.websearch_to_tsquery(cast(literal(SEARCH_CONFIG), REGCONFIG), filters.query.strip())
        stmt = stmt.where(Course.search.op("@@")(tsquery))
        rank = func.ts_rank(Course.search, tsquery)
    if filters.category:
        stmt = stmt.where(Course.category == filters.category)
    if filters.format:
        stmt = stmt.where(Course.format == filters.format)
    if filters.province_code:
        stmt = stmt.where(
            exists().where(
                and_(
                    CourseSession.course_id == Course.id,
                    CourseSession.training_type == TrainingType.offline,
                    CourseSession.province_code == filters.province_code,
                    CourseSession.cancelled_at.is_(None),
                )
            )
        )
    if filters.max_price is not None:
        stmt = stmt.where(from_price <= filters.max_price)
    if filters.min_rating is not None:
        stmt = stmt.where(Course.rating_average >= filters.min_rating)
    return stmt, rank


def search(session: Session, filters: SearchFilters, *, limit: int, offset: int) -> tuple[list[SearchHit], int]:
    """Approved courses matching the filters, one page of them, and how many match in all."""
    stmt, rank = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    by_rating = (Course.rating_average.desc().nulls_last(), Course.rating_count.desc())
    if filters.sort == "price":
        order = [stmt.selected_columns.from_price.asc(), *by_rating]
    elif filters.sort == "rating" or rank is None:
        order = [*by_rating]
    else:
        order = [rank.desc(), *by_rating]
    rows = session.execute(stmt.order_by(*order, Course.title, Course.id).limit(limit).offset(offset))
    return [SearchHit(course=row[0], from_price=int(row[1])) for row in rows], int(total)


def offline_provinces(session: Session) -> list[str]:
    """Province codes with an offline session of an approved course."""
    return list(
        session.scalars(
            select(CourseSession.province_code)
            .join(Course, Course.id == CourseSession.course_id)
            .where(
                Course.status == CourseStatus.approved,
                CourseSession.training_type == TrainingType.offline,
                CourseSession.province_code.is_not(None),
            )
            .distinct()
            .order_by(CourseSession.province_code)
        )
    )


def approved_courses(session: Session, limit: int = 500) -> list[Course]:
    """Approved courses by title (a platform's listing form)."""
    return list(
        session.scalars(
            select(Course).where(Course.status == CourseStatus.approved).order_by(Course.title, Course.id).limit(limit)
        )
    )

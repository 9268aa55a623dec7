"""Every query on the catalogue's tables. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from prakerja.catalog.models import (
    Course,
    CourseFormat,
    CourseSession,
    CourseStatus,
    CurationDecision,
    Listing,
    ListingStatus,
    PartnerLink,
)
from prakerja.db import arguments, positional, positional_cached
from prakerja.kit.loop import Later, ready

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


def course_and_listing_sql(course: str, platform: str) -> str:
    """:func:`course_and_listing`'s columns a purchase needs (course id, institution, title, course status, listing
    price, listing status) for the course and platform given as SQL expressions: a row source of at most one row
    another domain composes into its statement (ADR 0031)."""
    return (
        "SELECT c.id, c.institution_id, c.title, c.status, l.price, l.status AS listing_status FROM catalog_courses c"
        f" JOIN catalog_listings l ON l.course_id = c.id WHERE c.id = {course} AND l.platform_id = {platform}"
    )


_SESSIONS_SQL = (
    "SELECT id, starts_at, training_type, cancelled_at FROM catalog_course_sessions WHERE course_id = %s"
    " ORDER BY position"
)
_SESSIONS_ON_LOOP = positional(_SESSIONS_SQL)[0]


async def sessions_of_on_loop(conn: asyncpg.Connection, course_id: uuid.UUID) -> Later[list[tuple[Any, ...]]]:
    """:func:`sessions_of` on a loop connection (ADR 0014): id, start, training type, cancellation, in order."""
    return ready(await conn.fetch(_SESSIONS_ON_LOOP, course_id))


SESSIONS_LATERAL_SQL = (
    "SELECT array_agg(id ORDER BY position) AS session_ids, array_agg(starts_at ORDER BY position) AS session_starts,"
    " array_agg(training_type::text ORDER BY position) AS session_types, array_agg(cancelled_at ORDER BY position)"
    " AS session_cancelled FROM catalog_course_sessions WHERE course_id = {course_id}"
)
""":func:`sessions_of_on_loop`'s rows as one row of aligned arrays (NULL when there are none), for a ``LATERAL``
join of a statement another domain composes (ADR 0032); ``course_id`` an SQL expression of that statement."""


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


@dataclass(frozen=True, slots=True)
class CourseCard:
    """What the catalogue shows of a course in a list of results (the columns it reads, no ORM entity)."""

    id: uuid.UUID
    title: str
    institution_id: uuid.UUID
    category: str
    format: CourseFormat
    hours: int
    rating_average: Decimal | None
    rating_count: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    course: CourseCard
    from_price: int
    """The lowest price a platform sells it for, or the curated price when nobody lists it yet."""


_FROM_PRICE = (
    "coalesce((SELECT min(l.price) FROM catalog_listings l WHERE l.course_id = c.id AND l.status = 'listed'), c.price)"
)
_BY_RATING = "c.rating_average DESC NULLS LAST, c.rating_count DESC"


def _search_sql(filters: SearchFilters) -> tuple[str, str, dict[str, Any]]:
    """The catalogue search as SQL for psycopg (``%(name)s`` parameters): the page statement (the page's cards, each
    row with ``count(*) OVER ()``, how many match in all) and the count alone (for a page past the last one, which
    has no row to carry the count). Both paths (``search`` on a ``Session``, ``search_on_loop`` on a loop
    connection) run this same text. Only the columns a card shows are read; the lowest listed price is a
    subquery in the select list, which PostgreSQL evaluates for the page's rows only (after the sort and limit),
    unless a price filter or sort needs it for every match."""
    params: dict[str, Any] = {}
    sources = "catalog_courses c"
    where = ["c.status = 'approved'"]
    query = filters.query.strip()
    if query:
        sources += f", websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %(query)s) AS q"
        where.append("c.search @@ q")
        params["query"] = query
    if filters.category:
        where.append("c.category = %(category)s")
        params["category"] = filters.category
    if filters.format:
        where.append("c.format = %(format)s")
        params["format"] = filters.format
    if filters.province_code:
        where.append(
            "EXISTS (SELECT 1 FROM catalog_course_sessions s WHERE s.course_id = c.id AND s.training_type = "
            "'offline' AND s.province_code = %(province_code)s AND s.cancelled_at IS NULL)"
        )
        params["province_code"] = filters.province_code
    if filters.max_price is not None:
        where.append(f"{_FROM_PRICE} <= %(max_price)s")
        params["max_price"] = int(filters.max_price)
    if filters.min_rating is not None:
        where.append("c.rating_average >= %(min_rating)s")
        params["min_rating"] = filters.min_rating
    if filters.sort == "price":
        order = f"from_price ASC, {_BY_RATING}"
    elif filters.sort == "rating" or not query:
        order = _BY_RATING
    else:
        order = f"ts_rank(c.search, q) DESC, {_BY_RATING}"
    body = f"FROM {sources} WHERE {' AND '.join(where)}"
    page = (
        "SELECT c.id, c.title, c.institution_id, c.category, c.format, c.hours, c.rating_average, c.rating_count, "
        f"{_FROM_PRICE} AS from_price, count(*) OVER () AS total {body} "
        f"ORDER BY {order}, c.title, c.id LIMIT %(limit)s OFFSET %(offset)s"
    )
    return page, f"SELECT count(*) {body}", params


def _hits(rows: Sequence[Any]) -> list[SearchHit]:
    return [
        SearchHit(
            course=CourseCard(
                id=row[0],
                title=row[1],
                institution_id=row[2],
                category=row[3],
                format=CourseFormat(row[4]),
                hours=row[5],
                rating_average=row[6],
                rating_count=row[7],
            ),
            from_price=int(row[8]),
        )
        for row in rows
    ]


def search(session: Session, filters: SearchFilters, *, limit: int, offset: int) -> tuple[list[SearchHit], int]:
    """Approved courses matching the filters, one page of them, and how many match in all: one statement (two for a
    page past the last one)."""
    page, count, params = _search_sql(filters)
    connection = session.connection()
    rows = connection.exec_driver_sql(page, {**params, "limit": limit, "offset": offset}).all()
    if rows:
        return _hits(rows), int(rows[0][9])
    total = connection.exec_driver_sql(count, params).scalar() if offset else 0
    return [], int(total or 0)


async def search_on_loop(
    conn: asyncpg.Connection, filters: SearchFilters, *, limit: int, offset: int
) -> tuple[list[SearchHit], int]:
    """``search`` on a loop connection (``db.on_loop``, ADR 0014): the same statement, the same answer (a test holds
    the two equal). A read: outside a transaction block it commits nothing."""
    page, count, params = _search_sql(filters)
    page_sql, names = positional_cached(page)
    rows = await conn.fetch(page_sql, *arguments(names, {**params, "limit": limit, "offset": offset}))
    if rows:
        return _hits(rows), int(rows[0][9])
    if not offset:
        return [], 0
    count_sql, names = positional_cached(count)
    found = await conn.fetchval(count_sql, *arguments(names, params))
    return [], int(found or 0)


_OFFLINE_PROVINCES_SQL = (
    "WITH RECURSIVE codes(code) AS ("
    " (SELECT province_code FROM catalog_course_sessions WHERE province_code IS NOT NULL"
    " ORDER BY province_code LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT s.province_code FROM catalog_course_sessions s WHERE s.province_code > codes.code"
    " ORDER BY s.province_code LIMIT 1) FROM codes WHERE codes.code IS NOT NULL)"
    " SELECT code FROM codes CROSS JOIN LATERAL (SELECT 1 FROM catalog_course_sessions s"
    " JOIN catalog_courses c ON c.id = s.course_id WHERE s.province_code = codes.code"
    " AND s.training_type = 'offline' AND c.status = 'approved' LIMIT 1) AS found"
    " WHERE code IS NOT NULL ORDER BY code"
)
"""Every catalogue page asks it. The province codes present are found by skipping through the sessions' index on
``(province_code, course_id)`` (one probe per province, not one row per session), then each is kept when it has an
offline session of an approved course (a ``LATERAL ... LIMIT 1`` probe that stops at the first; an ``EXISTS`` would let
the planner turn it back into a join of every offline session). Reading every offline session joined to its course
cost ~25 ms of PostgreSQL CPU a page with a third of 20,000 courses offline (docs/benchmarks.md)."""


def offline_provinces(session: Session) -> list[str]:
    """Province codes with an offline session of an approved course."""
    return [row[0] for row in session.connection().exec_driver_sql(_OFFLINE_PROVINCES_SQL)]


async def offline_provinces_on_loop(conn: asyncpg.Connection) -> list[str]:
    """``offline_provinces`` on a loop connection (the same statement; a test holds the two equal)."""
    return [row[0] for row in await conn.fetch(_OFFLINE_PROVINCES_SQL)]


def approved_courses(session: Session, limit: int = 500) -> list[Course]:
    """Approved courses by title (a platform's listing form)."""
    return list(
        session.scalars(
            select(Course).where(Course.status == CourseStatus.approved).order_by(Course.title, Course.id).limit(limit)
        )
    )

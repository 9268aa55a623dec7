"""The catalogue search's one statement (the page with its count, the columns a card shows) answers as the ORM
query it replaced did, and its loop-connection twin (``db.on_loop``, ADR 0014) answers as the ``Session`` path
does, on varied catalogues and filters."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, cast, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.audit.service import Actor
from prakerja.catalog import repository, service
from prakerja.catalog.models import Course, CourseSession, CourseStatus, Listing, ListingStatus, TrainingType
from prakerja.catalog.service.search import Results, SearchFilters
from tests.catalog.conftest import BODY, OFFLINE, Partner, approve, submit
from tests.conftest import run_async
from tests.partners.conftest import create_partner

pytestmark = pytest.mark.usefixtures("frozen_clock")


# -- the ORM query the catalogue used before (kept here as the reference) -------------------------------------------


def _old_from_price() -> Any:
    lowest = (
        select(func.min(Listing.price))
        .where(Listing.course_id == Course.id, Listing.status == ListingStatus.listed)
        .correlate(Course)
        .scalar_subquery()
    )
    return func.coalesce(lowest, Course.price)


def old_search(session: Session, filters: SearchFilters, *, limit: int, offset: int) -> tuple[list[Any], int]:
    from_price = _old_from_price()
    stmt = select(Course, from_price.label("from_price")).where(Course.status == CourseStatus.approved)
    rank = None
    if filters.query.strip():
        tsquery = func.websearch_to_tsquery(cast(literal("indonesian"), REGCONFIG), filters.query.strip())
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
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    by_rating = (Course.rating_average.desc().nulls_last(), Course.rating_count.desc())
    if filters.sort == "price":
        order = [stmt.selected_columns.from_price.asc(), *by_rating]
    elif filters.sort == "rating" or rank is None:
        order = [*by_rating]
    else:
        order = [rank.desc(), *by_rating]
    rows = session.execute(stmt.order_by(*order, Course.title, Course.id).limit(limit).offset(offset))
    return [(row[0], int(row[1])) for row in rows], int(total)


# -- a varied catalogue ------------------------------------------------------------------------------------------------

TITLES = [
    ("Pemasaran Media Sosial untuk Pemula", "marketing", "webinar", "iklan konten pelanggan kampanye"),
    ("Pemasaran Digital Lanjutan", "marketing", "self_paced", "strategi merek iklan berbayar pasar"),
    ("Membuat Kue Basah Nusantara", "food", "offline", "kue resep dapur usaha rumahan"),
    ("Kue Kering dan Roti", "food", "offline", "roti kue oven harga pokok"),
    ("Kopi Barista Dasar", "food", "webinar", "kopi seduh kafe pelanggan"),
    ("Pemrograman Web Dasar", "technology", "self_paced", "situs basis data kode toko daring"),
    ("Analisis Data untuk UMKM", "technology", "webinar", "data laporan dasbor usaha"),
    ("Akuntansi dan Pajak UMKM", "finance", "webinar", "pajak pembukuan laporan keuangan kas"),
    ("Desain Logo dan Poster", "creative", "self_paced", "desain logo warna tipografi"),
    ("Menjahit Busana Batik", "manufacturing", "offline", "batik kain pola pakaian"),
    ("Pemasaran Kue Rumahan", "food", "webinar", "kue pemasaran pelanggan iklan"),
    ("Bahasa Inggris Wawancara Kerja", "language", "webinar", "bahasa inggris percakapan wawancara"),
]
RATINGS = [Decimal("4.50"), None, Decimal("3.75"), Decimal("4.50"), None, Decimal("2.00"), Decimal("5.00")]
PROVINCES = ["51", "31", "51", "35"]


@pytest.fixture
def catalogue(session: Session, institution: Partner, other_institution: Partner, platform: Partner) -> list[Course]:
    other_platform = create_partner(session, name="Platform Kedua Uji", role="platform")
    made = []
    for n, (title, category, fmt, words) in enumerate(TITLES):
        base = OFFLINE if fmt == "offline" else BODY
        extra: dict[str, Any] = {}
        if fmt == "offline":
            province = PROVINCES[n % len(PROVINCES)]
            extra["sessions"] = [{**s, "province_code": province} for s in OFFLINE["sessions"]]
        if fmt == "self_paced":
            extra["sessions"] = []
            extra["class_size"] = 500
        course = submit(
            session,
            (institution if n % 2 else other_institution).partner_id,
            base,
            title=title,
            category=category,
            format=fmt,
            competency_standard=f"SKKNI {title}",
            syllabus=f"Materi {words}; latihan dan umpan balik untuk usaha.",
            price=(base["price"] // 100_000 + n) * 100_000,
            outside_price=(base["price"] // 100_000 + n + 2) * 100_000,
            **extra,
        )
        approve(session, course)
        made.append(course)
        for k, seller in enumerate((platform, other_platform)[: n % 3]):
            service.listings.put_listing(
                session,
                course_id=course.id,
                platform_id=seller.partner_id,
                url=f"https://platform.example/kursus/{n}/{k}",
                price=course.price - 50_000 * (k + n % 2),
                actor=Actor.system(),
            )
    waiting = submit(session, institution.partner_id, BODY, title="Pemasaran Kue Belum Dikurasi")
    offline_sessions = [{**s, "province_code": "73"} for s in OFFLINE["sessions"]]
    submit(session, institution.partner_id, OFFLINE, title="Kue Sulawesi Belum Dikurasi", sessions=offline_sessions)
    session.flush()
    # an online session with a province code (allowed by the schema) is no offline class there
    first_online = select(CourseSession.id).where(CourseSession.course_id == made[0].id).limit(1).scalar_subquery()
    session.execute(update(CourseSession).where(CourseSession.id == first_online).values(province_code="61"))
    for n, course in enumerate(made):
        rating = RATINGS[n % len(RATINGS)]
        session.execute(
            update(Course)
            .where(Course.id == course.id)
            .values(rating_average=rating, rating_count=0 if rating is None else 3 + n % 4)
        )
    # one platform's listing suspended (not a price any more), one course's offline sessions all cancelled
    session.execute(
        update(Listing)
        .where(Listing.course_id == made[2].id, Listing.platform_id == platform.partner_id)
        .values(status=ListingStatus.suspended)
    )
    session.execute(update(CourseSession).where(CourseSession.course_id == made[9].id).values(cancelled_at=func.now()))
    session.commit()
    assert waiting.status != CourseStatus.approved
    return made


def _run(coroutine: Any) -> Any:
    return run_async(coroutine)


def _on_loop_results(filters: SearchFilters, page: int) -> Results:
    async def ask() -> Results:
        async with db.on_loop() as conn:
            return await service.search.search_on_loop(conn, filters, page=page)

    return _run(ask())


def _on_loop_page(filters: SearchFilters, limit: int, offset: int) -> tuple[list[Any], int]:
    async def ask() -> tuple[list[Any], int]:
        async with db.on_loop() as conn:
            return await repository.search_on_loop(conn, filters, limit=limit, offset=offset)

    return _run(ask())


def _same(session: Session, filters: SearchFilters, limit: int, offset: int) -> None:
    old_rows, old_total = old_search(session, filters, limit=limit, offset=offset)
    hits, total = repository.search(session, filters, limit=limit, offset=offset)
    assert total == old_total
    assert [(h.course.id, h.from_price) for h in hits] == [(c.id, price) for c, price in old_rows]
    for hit, (course, _) in zip(hits, old_rows, strict=True):  # what the card shows, as the entity had it
        assert (
            hit.course.title,
            hit.course.institution_id,
            hit.course.category,
            hit.course.format,
            hit.course.hours,
            hit.course.rating_average,
            hit.course.rating_count,
        ) == (
            course.title,
            course.institution_id,
            course.category,
            course.format,
            course.hours,
            course.rating_average,
            course.rating_count,
        )
    assert _on_loop_page(filters, limit, offset) == (hits, total)


QUERIES = ["", "pemasaran", "memasarkan", "kue", "kue -pemasaran", '"kue basah"', "pajak OR batik", "umkm", "zzzz"]

CASES: list[tuple[dict[str, Any], int, int]] = [
    ({}, 20, 0),
    ({}, 5, 5),
    ({}, 5, 10),
    ({}, 5, 100),  # past the last page: no row, the count still answered
    ({"query": "kue"}, 20, 0),
    ({"query": "kue"}, 2, 2),
    ({"query": "pemasaran", "sort": "price"}, 20, 0),
    ({"query": "pemasaran", "sort": "rating"}, 20, 0),
    ({"query": "zzzz"}, 20, 0),
    ({"query": "zzzz"}, 20, 20),
    ({"category": "food"}, 20, 0),
    ({"format": "offline"}, 20, 0),
    ({"province_code": "51"}, 20, 0),
    ({"province_code": "31"}, 20, 0),  # only cancelled sessions there
    ({"province_code": "35"}, 20, 0),
    ({"province_code": "99"}, 20, 0),
    ({"max_price": 1_000_000}, 20, 0),
    ({"max_price": 0}, 20, 0),
    ({"min_rating": 4}, 20, 0),
    ({"min_rating": 5, "sort": "price"}, 20, 0),
    ({"query": "kue", "category": "food", "format": "offline", "max_price": 3_000_000, "sort": "price"}, 20, 0),
    ({"query": "'; DROP TABLE catalog_courses; --"}, 20, 0),
]


@pytest.mark.parametrize(("filters", "limit", "offset"), CASES)
def test_the_page_and_count_match_the_old_query(
    session: Session, catalogue: list[Course], filters: dict[str, Any], limit: int, offset: int
) -> None:
    _same(session, SearchFilters(**filters), limit, offset)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.sampled_from(QUERIES),
    category=st.sampled_from([None, "food", "marketing", "technology"]),
    fmt=st.sampled_from([None, "webinar", "offline", "self_paced"]),
    province=st.sampled_from([None, "51", "31", "35"]),
    max_price=st.sampled_from([None, 0, 900_000, 1_500_000, 3_000_000]),
    min_rating=st.sampled_from([None, 1, 3, 4, 5]),
    sort=st.sampled_from(["relevance", "rating", "price"]),
    limit=st.integers(1, 6),
    offset=st.integers(0, 14),
)
def test_any_filters_match_the_old_query(
    session: Session,
    catalogue: list[Course],
    query: str,
    category: str | None,
    fmt: str | None,
    province: str | None,
    max_price: int | None,
    min_rating: int | None,
    sort: str,
    limit: int,
    offset: int,
) -> None:
    filters = SearchFilters(
        query=query,
        category=category,
        format=fmt,
        province_code=province,
        max_price=max_price,
        min_rating=min_rating,
        sort=sort,
    )
    _same(session, filters, limit, offset)
    session.rollback()


@pytest.mark.parametrize("query", QUERIES)
def test_the_loop_twin_answers_as_the_session_path(session: Session, catalogue: list[Course], query: str) -> None:
    for filters in (SearchFilters(query=query), SearchFilters(query=query, sort="price", category="food")):
        for page in (1, 2):
            found = service.search.search(session, filters, page=page)
            assert _on_loop_results(filters, page) == found
            assert set(found.institutions) == {hit.course.institution_id for hit in found.hits}


def old_offline_provinces(session: Session) -> list[str]:
    """The query the catalogue used before (every offline session joined to its course, distinct codes)."""
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


def test_provinces_match_the_old_query_and_the_loop(session: Session, catalogue: list[Course]) -> None:
    async def ask() -> list[tuple[str, str]]:
        async with db.on_loop() as conn:
            return await service.search.provinces_on_loop(conn)

    found = service.search.provinces(session)
    assert _run(ask()) == found
    assert repository.offline_provinces(session) == old_offline_provinces(session)
    # Bali (51) and Jawa Timur (35) have offline sessions; Jakarta (31) too (a cancelled session still counts);
    # not Sulawesi Selatan (73: a course not yet approved) nor Kalimantan Barat (61: an online session)
    assert [code for code, _ in found] == ["31", "35", "51"]


def test_partner_names_on_the_loop_match(session: Session, catalogue: list[Course], institution: Partner) -> None:
    from prakerja.partners import service as partners

    ids = {c.institution_id for c in catalogue} | {uuid.uuid4()}

    async def ask(wanted: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        async with db.on_loop() as conn:
            return await partners.partner_names_on_loop(conn, wanted)

    assert _run(ask(ids)) == partners.partner_names(session, ids)
    assert _run(ask(set())) == {} and _run(ask({institution.partner_id})) == {
        institution.partner_id: "Lembaga Pelatihan Uji"
    }

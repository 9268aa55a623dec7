"""The participants' catalogue: PostgreSQL full-text search with the Indonesian stemmer, and the filters."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.catalog import service
from prakerja.catalog.models import Course
from prakerja.catalog.service.search import SearchFilters
from tests.catalog.conftest import BODY, OFFLINE, Partner, approve, submit

pytestmark = pytest.mark.usefixtures("frozen_clock")

SELF_PACED = {
    **BODY,
    "title": "Dasar Pemrograman Web untuk Pemula",
    "category": "technology",
    "competency_standard": "SKKNI Pengembang Web Junior",
    "syllabus": "HTML, CSS dan JavaScript dasar; membuat halaman toko daring; latihan proyek dengan umpan balik.",
    "format": "self_paced",
    "sessions": [],
    "class_size": 500,
    "price": 600_000,
    "outside_price": 650_000,
}


@pytest.fixture
def catalogue(session: Session, institution: Partner) -> dict[str, Course]:
    courses = {}
    for name, base in (("marketing", BODY), ("cooking", OFFLINE), ("web", SELF_PACED)):
        course = submit(session, institution.partner_id, base)
        approve(session, course)
        courses[name] = course
    courses["waiting"] = submit(session, institution.partner_id, BODY, title="Pemasaran Lanjutan Belum Dikurasi")
    session.flush()
    return courses


def titles(session: Session, **filters: object) -> list[str]:
    return [hit.course.title for hit in service.search.search(session, SearchFilters(**filters)).hits]  # type: ignore[arg-type]


def test_the_embedded_postgresql_has_the_indonesian_configuration(session: Session) -> None:
    assert session.scalar(text("SELECT count(*) FROM pg_ts_config WHERE cfgname = 'indonesian'")) == 1
    # what the stemmer really does with the words the tests search for
    stems = {
        word: session.scalar(text("SELECT to_tsvector('indonesian', :w)::text"), {"w": word})
        for word in ("pemasaran", "memasarkan", "pasar", "memasak", "kue")
    }
    assert stems == {
        "pemasaran": "'pasar':1",
        "memasarkan": "'pasar':1",
        "pasar": "'pasar':1",
        "memasak": "'pasak':1",
        "kue": "'kue':1",
    }


class TestFullText:
    def test_a_different_form_of_the_word_finds_the_course(self, session: Session, catalogue: dict) -> None:
        # the title says "Pemasaran"; "memasarkan" and "pasar" share its stem
        assert titles(session, query="memasarkan") == [BODY["title"]]
        assert titles(session, query="pasar") == [BODY["title"]]
        assert titles(session, query="kue tradisional") == [OFFLINE["title"]]

    def test_only_approved_courses_are_found(self, session: Session, catalogue: dict) -> None:
        assert "Pemasaran Lanjutan Belum Dikurasi" not in titles(session, query="pemasaran")
        assert len(titles(session)) == 3

    def test_title_matches_rank_above_syllabus_matches(self, session: Session, catalogue: dict) -> None:
        # "web" is in one title; "daring" (online) is only in the web course's syllabus
        assert titles(session, query="web") == [SELF_PACED["title"]]
        assert titles(session, query="zzzz") == []

    def test_search_words_are_not_sql(self, session: Session, catalogue: dict) -> None:
        assert titles(session, query="'; DROP TABLE catalog_courses; --") == []
        assert titles(session, query='"kue tradisional" -pemasaran') == [OFFLINE["title"]]
        assert sorted(titles(session, query="kue or web")) == sorted([OFFLINE["title"], SELF_PACED["title"]])


class TestFilters:
    def test_category_and_format(self, session: Session, catalogue: dict) -> None:
        assert titles(session, category="food") == [OFFLINE["title"]]
        assert titles(session, format="self_paced") == [SELF_PACED["title"]]
        assert titles(session, category="food", format="webinar") == []

    def test_province_of_offline_sessions(self, session: Session, catalogue: dict) -> None:
        assert titles(session, province_code="51") == [OFFLINE["title"]]
        assert titles(session, province_code="31") == []
        assert service.search.provinces(session) == [("51", "Bali")]

    def test_price_uses_the_lowest_listing(self, session: Session, catalogue: dict, platform: Partner) -> None:
        assert sorted(titles(session, max_price=1_000_000)) == sorted([BODY["title"], SELF_PACED["title"]])
        service.listings.put_listing(
            session,
            course_id=catalogue["cooking"].id,
            platform_id=platform.partner_id,
            url="https://platform.example/kue",
            price=1_000_000,
            actor=service.organisations.audit.Actor.system(),
        )
        assert len(titles(session, max_price=1_000_000)) == 3
        assert titles(session, max_price=600_000) == [SELF_PACED["title"]]
        assert titles(session, sort="price")[0] == SELF_PACED["title"]

    def test_rating_filter_and_order(self, session: Session, catalogue: dict) -> None:
        service.set_rating_summary(session, catalogue["web"].id, average=4.6, count=10)
        service.set_rating_summary(session, catalogue["cooking"].id, average=3.2, count=4)
        assert titles(session, sort="rating") == [SELF_PACED["title"], OFFLINE["title"], BODY["title"]]
        assert titles(session, min_rating=4) == [SELF_PACED["title"]]
        assert titles(session, min_rating=3, sort="rating") == [SELF_PACED["title"], OFFLINE["title"]]

"""Curation decisions, changes to courses, and conflicts of interest, through the service on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.catalog import service
from prakerja.catalog.errors import (
    ChecksFailed,
    CurationStateConflict,
    DecisionInvalid,
    LinkExists,
    LinkInvalid,
    ReasonRequired,
)
from prakerja.catalog.models import CourseStatus, CurationDecision, ListingStatus
from prakerja.catalog.schemas import CourseCreate
from prakerja.schemes.rules import file_hash
from tests.catalog.conftest import BODY, OFFICER, OFFLINE, Partner, approve, body, count, submit

PLATFORM_ACTOR = Actor(id=None, role="partner:platform")


def list_course(session: Session, course_id, platform: Partner, price: int = 950_000):  # type: ignore[no-untyped-def]
    return service.listings.put_listing(
        session,
        course_id=course_id,
        platform_id=platform.partner_id,
        url="https://platform.example/k",
        price=price,
        actor=PLATFORM_ACTOR,
    )


@pytest.mark.usefixtures("frozen_clock")
class TestCurate:
    def test_approval_records_the_checks_the_scheme_and_the_officer(
        self, session: Session, institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        assert course.status == CourseStatus.approved and course.approved_at is not None
        decision = session.scalars(select(CurationDecision)).one()
        assert decision.decision == "approved" and decision.course_version == 1
        assert decision.scheme_name == "2023-normal" and decision.scheme_hash == file_hash("2023-normal")
        assert all(c["passed"] for c in decision.checks) and len(decision.checks) == 10
        assert decision.officer_id == OFFICER.id and len(decision.inputs_hash) == 64
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.course_curated")).one()
        assert entry.actor_id == OFFICER.id and entry.data["decision"] == "approved"
        assert entry.data["inputs_hash"] == decision.inputs_hash

    def test_a_course_failing_a_check_cannot_be_approved(self, session: Session, institution: Partner) -> None:
        course = submit(session, institution.partner_id, hours=12)
        session.commit()
        with pytest.raises(ChecksFailed) as refused:
            approve(session, course)
        assert refused.value.details == {"failing_checks": ["hours_below_minimum"]}
        session.rollback()
        assert count(session, CurationDecision) == 0

    def test_changes_and_rejection_need_a_reason_or_a_note(self, session: Session, institution: Partner) -> None:
        course = submit(session, institution.partner_id)
        with pytest.raises(ReasonRequired):
            service.curation.curate(
                session, course_id=course.id, decision="rejected", reasons=[], note=" ", officer=OFFICER
            )
        with pytest.raises(DecisionInvalid):
            service.curation.curate(
                session, course_id=course.id, decision="rejected", reasons=["made_up"], note="", officer=OFFICER
            )
        with pytest.raises(DecisionInvalid):
            service.curation.curate(
                session, course_id=course.id, decision="maybe", reasons=[], note="x", officer=OFFICER
            )
        service.curation.curate(
            session, course_id=course.id, decision="rejected", reasons=["competency_unclear"], note="", officer=OFFICER
        )
        assert course.status == CourseStatus.rejected

    def test_a_decided_course_or_a_stale_page_is_refused(self, session: Session, institution: Partner) -> None:
        course = submit(session, institution.partner_id)
        with pytest.raises(CurationStateConflict):
            service.curation.curate(
                session, course_id=course.id, decision="approved", reasons=[], note="", officer=OFFICER, version=2
            )
        approve(session, course)
        with pytest.raises(CurationStateConflict):
            approve(session, course)


@pytest.mark.usefixtures("frozen_clock")
class TestChangeReturnsToCuration:
    def test_a_changed_approved_course_returns_to_curation_and_stops_selling(
        self, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        list_course(session, course.id, platform)
        assert service.sellable_listing(session, course_id=course.id, platform_id=platform.partner_id) is not None
        changed, did = service.courses.edit(
            session,
            course_id=course.id,
            institution_id=institution.partner_id,
            data=CourseCreate.model_validate(body(price=900_000)),
            actor=Actor(id=None, role="partner:institution"),
        )
        assert did and changed.status == CourseStatus.in_curation and changed.version == 2
        assert changed.approved_at is None
        assert service.sellable_listing(session, course_id=course.id, platform_id=platform.partner_id) is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.course_changed")).one()
        assert entry.data["returned_to_curation"] is True and entry.data["changed"] == ["price"]
        # approved again at Rp900,000: the Rp950,000 listing is above it and is suspended
        approve(session, course)
        listing = service.listings.sellable_listing(session, course_id=course.id, platform_id=platform.partner_id)
        assert listing is None
        list_course(session, course.id, platform, price=900_000)
        again = service.sellable_listing(session, course_id=course.id, platform_id=platform.partner_id)
        assert again is not None and again.status == ListingStatus.listed

    def test_the_same_course_sent_again_changes_nothing(self, session: Session, institution: Partner) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        _, did = service.courses.edit(
            session,
            course_id=course.id,
            institution_id=institution.partner_id,
            data=CourseCreate.model_validate(body()),
            actor=Actor(id=None, role="partner:institution"),
        )
        assert not did and course.status == CourseStatus.approved and course.version == 1

    def test_sessions_keep_their_ids_when_their_start_stays(self, session: Session, institution: Partner) -> None:
        course = submit(session, institution.partner_id)
        before = {s.starts_at: s.id for s in service.course_sessions(session, course.id)}
        sessions = [*BODY["sessions"][1:], {"starts_at": "2026-03-23T02:00:00Z", "duration_minutes": 180}]
        service.courses.edit(
            session,
            course_id=course.id,
            institution_id=institution.partner_id,
            data=CourseCreate.model_validate(body(sessions=sessions)),
            actor=Actor(id=None, role="partner:institution"),
        )
        after = service.course_sessions(session, course.id)
        assert [s.position for s in after] == [1, 2, 3, 4, 5]
        kept = [s for s in after if s.starts_at in before]
        assert len(kept) == 4 and all(before[s.starts_at] == s.id for s in kept)

    def test_another_institution_cannot_change_it(
        self, session: Session, institution: Partner, other_institution: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        with pytest.raises(Exception, match="course_not_found"):
            service.courses.edit(
                session,
                course_id=course.id,
                institution_id=other_institution.partner_id,
                data=CourseCreate.model_validate(body(price=1)),
                actor=Actor(id=None, role="partner:institution"),
            )


@pytest.mark.usefixtures("frozen_clock")
class TestConflictOfInterest:
    def test_a_linked_platform_listing_the_institutions_course_is_flagged_on_both_sides(
        self, session: Session, institution: Partner, platform: Partner
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        _, flagged = list_course(session, course.id, platform)
        assert flagged is False
        link = service.curation.record_link(
            session,
            platform_id=platform.partner_id,
            institution_id=institution.partner_id,
            kind="shared_person",
            evidence="Direktur platform adalah komisaris lembaga (akta 12/2025).",
            actor=OFFICER,
        )
        _, flagged = list_course(session, course.id, platform, price=940_000)
        assert flagged is True
        for side in (platform.partner_id, institution.partner_id):
            page = service.curation.partner_page(session, side)
            assert [(c.platform_id, c.institution_id, c.kinds) for c in page.conflicts] == [
                (platform.partner_id, institution.partner_id, ("shared_person",))
            ]
            assert page.conflicts[0].listed_courses == ((course.id, course.title),)
        assert service.search.course_page(session, course.id).offers[0].conflict_of_interest is True
        listed = session.scalars(select(AuditEntry).where(AuditEntry.action == "catalog.listing_put")).all()
        assert [e.data["conflict_of_interest"] for e in listed] == [False, True]
        # the evidence may name people: stored encrypted
        raw = session.execute(text("SELECT evidence FROM catalog_partner_links")).scalar_one()
        assert b"Direktur" not in raw
        service.curation.remove_link(session, link_id=link.id, reason="salah catat", actor=OFFICER)
        assert service.curation.partner_page(session, platform.partner_id).conflicts == []

    def test_links_need_a_platform_an_institution_and_evidence(
        self, session: Session, institution: Partner, platform: Partner
    ) -> None:
        with pytest.raises(LinkInvalid) as refused:
            service.curation.record_link(
                session,
                platform_id=institution.partner_id,
                institution_id=platform.partner_id,
                kind="cousins",
                evidence="",
                actor=OFFICER,
            )
        assert set(refused.value.details["fields"]) == {"platform_id", "institution_id", "kind", "evidence"}
        arguments = {
            "platform_id": platform.partner_id,
            "institution_id": institution.partner_id,
            "kind": "ownership",
            "evidence": "Pemilik yang sama.",
            "actor": OFFICER,
        }
        service.curation.record_link(session, **arguments)  # type: ignore[arg-type]
        with pytest.raises(LinkExists):
            service.curation.record_link(session, **arguments)  # type: ignore[arg-type]


@pytest.mark.usefixtures("frozen_clock")
def test_demo_seed_is_idempotent(session: Session) -> None:
    from prakerja.catalog.service.demo import seed_demo_catalog

    first = seed_demo_catalog(session)
    second = seed_demo_catalog(session)
    assert first == second and len(first.courses) == 3
    found = service.search.search(session, service.search.SearchFilters())
    assert found.total == 3
    assert OFFLINE["title"] != ""  # the fixtures' offline body is independent of the seed

"""The catalogue's partner endpoints over real HTTP (signed, uvicorn on loopback, clock frozen): submission,
reading a course with its curation reasons, listing; every refusal's status and code, and that it wrote nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from prakerja.catalog import service
from prakerja.catalog.models import Course, CourseSession, CurationDecision, Listing
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import clock
from tests.catalog.conftest import BODY, OFFICER, Partner, SignedClient, approve, audit_actions, body, count, submit
from tests.partners.test_exclusion_import_api import assert_error


def _tick() -> None:
    """The clock is frozen: each request a second later, so no two signatures are the same (a replay)."""
    clock.advance(timedelta(seconds=1))


def post_course(client: SignedClient, partner: Partner, data: dict[str, Any], key: str = "c-1") -> httpx.Response:
    _tick()
    response, _ = client.request("POST", "/partner/v1/courses", partner, idempotency_key=key, json=data)
    return response


def put_listing(
    client: SignedClient, partner: Partner, course_id: str, data: dict[str, Any], key: str = "l-1"
) -> httpx.Response:
    _tick()
    response, _ = client.request("PUT", f"/partner/v1/listings/{course_id}", partner, idempotency_key=key, json=data)
    return response


def get_course(client: SignedClient, partner: Partner, course_id: str) -> httpx.Response:
    _tick()
    response, _ = client.request("GET", f"/partner/v1/courses/{course_id}", partner)
    return response


def nothing_written(session: Session) -> None:
    assert count(session, Course) == 0 and count(session, CourseSession) == 0
    assert count(session, IdempotencyRecord) == 0
    assert not [a for a in audit_actions(session) if a.startswith("catalog.")]


LISTING = {"url": "https://platform.example/kursus/1", "price": 950_000}


class TestSubmit:
    def test_submitted_course_is_in_curation_and_audited(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        response = post_course(signed_client, institution, BODY)
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {"course_id", "status"} and created["status"] == "in_curation"
        read = get_course(signed_client, institution, created["course_id"])
        assert read.status_code == 200, read.text
        course = read.json()
        assert course["status"] == "in_curation" and course["reasons"] == [] and course["version"] == 1
        assert course["title"] == BODY["title"] and course["scheme"] == "2023-normal"
        assert [s["starts_at"] for s in course["sessions"]] == [s["starts_at"] for s in BODY["sessions"]]
        assert {s["training_type"] for s in course["sessions"]} == {"online"}
        assert "catalog.course_submitted" in audit_actions(session)

    def test_retry_with_the_same_key_replays_and_creates_one_course(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        first = post_course(signed_client, institution, BODY, key="same")
        second = post_course(signed_client, institution, BODY, key="same")
        assert second.status_code == 201 and second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert count(session, Course) == 1

    def test_a_platform_may_not_submit(self, signed_client: SignedClient, platform: Partner, session: Session) -> None:
        assert_error(post_course(signed_client, platform, BODY), 403, "partner_role_forbidden")
        nothing_written(session)

    def test_a_platform_may_not_read_or_change_courses(
        self, signed_client: SignedClient, institution: Partner, platform: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        session.commit()
        assert_error(get_course(signed_client, platform, str(course.id)), 403, "partner_role_forbidden")
        _tick()
        response, _ = signed_client.request(
            "PUT", f"/partner/v1/courses/{course.id}", platform, idempotency_key="p-1", json=body(price=1)
        )
        assert_error(response, 403, "partner_role_forbidden")
        session.refresh(course)
        assert course.price == BODY["price"] and course.version == 1

    def test_malformed_bodies_are_refused_with_the_field(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        offline_without_place = body(
            format="offline", sessions=[{"starts_at": "2026-03-16T01:00:00Z", "duration_minutes": 480}]
        )
        cases: list[tuple[dict[str, Any], str]] = [
            ({k: v for k, v in BODY.items() if k != "title"}, "title"),
            (body(price="1000000"), "price"),
            (body(price=1_000_000.5), "price"),
            (body(hours=True), "hours"),
            (body(discount=10), "discount"),
            (body(category="astrology"), "category"),
            (body(format="podcast"), "format"),
            (body(trainers=[]), "trainers"),
            (body(sessions=[{"starts_at": "2026-03-16T09:00:00", "duration_minutes": 60}]), "sessions.0.starts_at"),
            (offline_without_place, ""),
        ]
        for n, (data, field) in enumerate(cases):
            response = post_course(signed_client, institution, data, key=f"bad-{n}")
            assert_error(response, 422, "invalid_request")
            fields = [f["field"] for f in response.json()["details"]["fields"]]
            assert any(f.startswith(field) for f in fields), (field, fields)
        nothing_written(session)

    def test_unknown_province_is_refused(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        data = body(format="offline", sessions=[{**BODY["sessions"][0], "place": "Balai Desa", "province_code": "99"}])
        response = post_course(signed_client, institution, data)
        assert_error(response, 422, "course_invalid")
        assert response.json()["details"]["fields"][0]["field"] == "sessions.0.province_code"
        nothing_written(session)

    def test_another_institutions_course_is_not_found(
        self, signed_client: SignedClient, institution: Partner, other_institution: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        session.commit()
        assert_error(get_course(signed_client, other_institution, str(course.id)), 404, "course_not_found")
        assert_error(get_course(signed_client, institution, "not-an-id"), 404, "course_not_found")
        assert_error(get_course(signed_client, institution, str(uuid.uuid4())), 404, "course_not_found")

    def test_reasons_of_a_request_for_changes(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id, outside_price=0)
        service.curation.curate(
            session,
            course_id=course.id,
            decision="changes_requested",
            reasons=["free_elsewhere", "price_above_outside_price", "syllabus_insufficient"],
            note="Lengkapi rencana pembelajaran.",
            officer=OFFICER,
        )
        session.commit()
        read = get_course(signed_client, institution, str(course.id)).json()
        assert read["status"] == "changes_requested" and read["note"] == "Lengkapi rencana pembelajaran."
        assert [r["code"] for r in read["reasons"]] == [
            "free_elsewhere",
            "price_above_outside_price",
            "syllabus_insufficient",
        ]
        assert read["reasons"][0]["message"] == "Pelatihan tidak boleh gratis di tempat lain."
        assert read["reasons"][2]["message_en"] == "The syllabus or lesson plan is incomplete."


class TestListing:
    def test_submission_curation_listing(
        self, signed_client: SignedClient, institution: Partner, platform: Partner, session: Session
    ) -> None:
        course_id = post_course(signed_client, institution, BODY).json()["course_id"]
        approve(session, session.get(Course, uuid.UUID(course_id)))  # type: ignore[arg-type]
        session.commit()
        response = put_listing(signed_client, platform, course_id, LISTING)
        assert response.status_code == 200, response.text
        assert response.json() == {"course_id": course_id, "status": "listed", "conflict_of_interest": False}
        assert get_course(signed_client, institution, course_id).json()["status"] == "approved"
        listing = service.sellable_listing(session, course_id=uuid.UUID(course_id), platform_id=platform.partner_id)
        assert listing is not None and listing.price == 950_000
        # the platform changes its price (a new request intent, a new key)
        again = put_listing(signed_client, platform, course_id, {**LISTING, "price": 900_000}, key="l-2")
        assert again.status_code == 200
        session.rollback()
        assert [row.price for row in session.query(Listing)] == [900_000]
        assert audit_actions(session).count("catalog.listing_put") == 2

    def test_course_not_approved(
        self, signed_client: SignedClient, institution: Partner, platform: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        session.commit()
        before = audit_actions(session)
        response = put_listing(signed_client, platform, str(course.id), LISTING)
        assert_error(response, 422, "course_not_approved")
        assert count(session, Listing) == 0 and count(session, IdempotencyRecord) == 0
        assert audit_actions(session) == before

    def test_price_above_curated(
        self, signed_client: SignedClient, institution: Partner, platform: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        session.commit()
        before = audit_actions(session)
        response = put_listing(signed_client, platform, str(course.id), {**LISTING, "price": 1_000_001})
        assert_error(response, 422, "listing_price_above_curated")
        assert response.json()["details"] == {"curated_price": 1_000_000, "price": 1_000_001}
        assert count(session, Listing) == 0 and count(session, IdempotencyRecord) == 0
        assert audit_actions(session) == before

    def test_an_institution_may_not_list(
        self, signed_client: SignedClient, institution: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        session.commit()
        assert_error(put_listing(signed_client, institution, str(course.id), LISTING), 403, "partner_role_forbidden")
        assert count(session, Listing) == 0

    def test_unknown_course_and_malformed_listing(
        self, signed_client: SignedClient, platform: Partner, session: Session
    ) -> None:
        assert_error(put_listing(signed_client, platform, str(uuid.uuid4()), LISTING), 404, "course_not_found")
        for n, bad in enumerate(
            [
                {"url": "http://insecure.example/x", "price": 1},
                {"url": LISTING["url"], "price": 0},
                {"url": LISTING["url"]},
            ]
        ):
            assert_error(
                put_listing(signed_client, platform, str(uuid.uuid4()), bad, key=f"b{n}"), 422, "invalid_request"
            )
        assert count(session, Listing) == 0 and count(session, CurationDecision) == 0

    def test_changing_an_approved_course_over_the_api_returns_it_to_curation(
        self, signed_client: SignedClient, institution: Partner, platform: Partner, session: Session
    ) -> None:
        course = submit(session, institution.partner_id)
        approve(session, course)
        session.commit()
        response, _ = signed_client.request(
            "PUT", f"/partner/v1/courses/{course.id}", institution, idempotency_key="e-1", json=body(hours=16)
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"course_id": str(course.id), "status": "in_curation"}
        assert_error(put_listing(signed_client, platform, str(course.id), LISTING), 422, "course_not_approved")

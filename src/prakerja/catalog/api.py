"""The catalogue's endpoints of the signed partner API (contract ``marketplace-api.md``): institutions submit and
read courses, platforms list approved courses. Thin: each route translates HTTP to one service call.

The signature check, the role check and idempotent replay belong to the partner API (``partners/api.py``). A
domain reaches another only through its service, so ``app.py`` hands them in: :func:`mount` adds these routes to
a router of the partner API's signed route class. (No ``from __future__ import annotations`` here: the
routes' annotations name types local to :func:`mount`, which FastAPI must see as objects.)"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from prakerja.catalog import service
from prakerja.catalog.errors import CourseNotFound
from prakerja.catalog.schemas import CourseCreate, CourseOut, CourseSubmitted, ListingOut, ListingPut
from prakerja.kit.ids import parse_id
from prakerja.partners.schemas import error_responses
from prakerja.partners.service import PartnerCaller, PartnerRole
from prakerja.web.deps import DbSession


class Idempotent(Protocol):
    def __call__(
        self,
        session: Session,
        request: Request,
        caller: PartnerCaller,
        body: bytes,
        handler: Callable[[], Any],
        status_code: int = 200,
    ) -> Response: ...


CourseId = Annotated[str, Path(max_length=64, description="The course's id, as returned when it was submitted.")]


def _course_id(value: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise CourseNotFound()
    return parsed


def mount(
    router: APIRouter,
    *,
    require_partner: Callable[..., Callable[..., PartnerCaller]],
    idempotent: Idempotent,
) -> APIRouter:
    """Add the catalogue's routes to ``router`` (prefix ``/partner/v1``, the signed route class)."""
    Institution = Annotated[PartnerCaller, Depends(require_partner(PartnerRole.institution))]
    Platform = Annotated[PartnerCaller, Depends(require_partner(PartnerRole.platform))]

    async def raw_body(request: Request) -> bytes:
        return await request.body()

    RawBody = Annotated[bytes, Depends(raw_body)]

    @router.post(
        "/courses",
        status_code=201,
        response_model=CourseSubmitted,
        responses=error_responses({404: ("course_not_found",), 422: ("course_invalid",), 409: ("no_scheme_in_force",)}),
    )
    def submit_course(
        request: Request, session: DbSession, body: RawBody, caller: Institution, data: CourseCreate
    ) -> Response:
        """Institutions only. Submit a course: it goes to curation, where officers check it against the scheme in
        force (hours, hours per day, class size and trainers, price not above the outside price, not free
        elsewhere, interactive) and decide with reasons."""

        def handler() -> CourseSubmitted:
            course = service.courses.submit(session, institution_id=caller.partner_id, data=data, actor=caller.actor)
            return CourseSubmitted(course_id=str(course.id), status=course.status.value)

        return idempotent(session, request, caller, body, handler, status_code=201)

    @router.get(
        "/courses/{course_id}", response_model=CourseOut, responses=error_responses({404: ("course_not_found",)})
    )
    def get_course(session: DbSession, caller: Institution, course_id: CourseId) -> CourseOut:
        """Institutions only, their own courses. The course, its curation status and the last decision's reasons."""
        return service.courses.institution_course(
            session, course_id=_course_id(course_id), institution_id=caller.partner_id
        )

    @router.put(
        "/courses/{course_id}",
        response_model=CourseSubmitted,
        responses=error_responses({404: ("course_not_found",), 422: ("course_invalid",)}),
    )
    def change_course(
        request: Request,
        session: DbSession,
        body: RawBody,
        caller: Institution,
        course_id: CourseId,
        data: CourseCreate,
    ) -> Response:
        """Institutions only (an addition to the contract, proposed in docs/catalog.md). Replace the course
        with this version: any change sends it back to curation (an approved course is not sold until approved
        again); the same course sent again changes nothing."""
        parsed = _course_id(course_id)

        def handler() -> CourseSubmitted:
            course, _changed = service.courses.edit(
                session, course_id=parsed, institution_id=caller.partner_id, data=data, actor=caller.actor
            )
            return CourseSubmitted(course_id=str(course.id), status=course.status.value)

        return idempotent(session, request, caller, body, handler)

    @router.put(
        "/listings/{course_id}",
        response_model=ListingOut,
        responses=error_responses(
            {404: ("course_not_found",), 422: ("listing_price_above_curated", "course_not_approved")}
        ),
    )
    def put_listing(
        request: Request, session: DbSession, body: RawBody, caller: Platform, course_id: CourseId, data: ListingPut
    ) -> Response:
        """Platforms only. Sell an approved course at a price not above its curated price (create or replace)."""
        parsed = _course_id(course_id)

        def handler() -> ListingOut:
            listing, conflict = service.listings.put_listing(
                session,
                course_id=parsed,
                platform_id=caller.partner_id,
                url=data.url,
                price=data.price,
                actor=caller.actor,
            )
            return ListingOut(course_id=str(listing.course_id), status="listed", conflict_of_interest=conflict)

        return idempotent(session, request, caller, body, handler)

    return router

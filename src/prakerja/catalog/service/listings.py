"""Platforms list approved courses at a price not above the curated price. Takes a session; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import repository
from prakerja.catalog.errors import CourseNotApproved, CourseNotFound, ListingPriceAboveCurated
from prakerja.catalog.models import Course, CourseStatus, Listing, ListingStatus
from prakerja.catalog.service import curation
from prakerja.kit.clock import utcnow


def put_listing(
    session: Session, *, course_id: uuid.UUID, platform_id: uuid.UUID, url: str, price: int, actor: audit.Actor
) -> tuple[Listing, bool]:
    """``PUT /partner/v1/listings/{course_id}``: create or replace the platform's listing. Refused for a course
    that is not approved, then for a price above the curated price. Returns the listing and whether the platform is
    linked to the course's institution (a conflict of interest: allowed, flagged)."""
    course = repository.course(session, course_id)
    if course is None:
        raise CourseNotFound()
    if course.status != CourseStatus.approved:
        raise CourseNotApproved(details={"status": course.status.value})
    if price > course.price:
        raise ListingPriceAboveCurated(details={"curated_price": course.price, "price": price})
    now = utcnow()
    listing = repository.listing(session, course.id, platform_id, lock=True)
    if listing is None:
        listing = Listing(
            course_id=course.id,
            platform_id=platform_id,
            url=url,
            price=price,
            status=ListingStatus.listed,
            updated_at=now,
        )
        repository.add(session, listing)
    else:
        listing.url, listing.price, listing.status, listing.updated_at = url, price, ListingStatus.listed, now
        session.flush()
    conflict = curation.linked(session, platform_id, course.institution_id)
    audit.record(
        session,
        actor,
        "catalog.listing_put",
        "listing",
        listing.id,
        data={
            "course_id": str(course.id),
            "platform_id": str(platform_id),
            "price": price,
            "url": url,
            "conflict_of_interest": conflict,
        },
    )
    return listing, conflict


def sellable_listing(session: Session, *, course_id: uuid.UUID, platform_id: uuid.UUID) -> Listing | None:
    """For the training domain: the platform's listing when the course may be bought through it now."""
    course = repository.course(session, course_id)
    found = repository.listing(session, course_id, platform_id)
    if course is None or found is None or not curation.listing_is_sellable(course, found):
        return None
    return found


def sellable_course(session: Session, *, course_id: uuid.UUID, platform_id: uuid.UUID) -> tuple[Course, Listing] | None:
    """For the training domain's purchase: :func:`sellable_listing` and the course with it, in one statement."""
    found = repository.course_and_listing(session, course_id, platform_id)
    if found is None or not curation.listing_is_sellable(*found):
        return None
    return found


@dataclass(frozen=True)
class SellableCourse:
    """What a purchase needs of a sellable course: who gives it, its title and the platform's price."""

    id: uuid.UUID
    institution_id: uuid.UUID
    title: str
    price: int


def sellable_course_source(course: str, platform: str) -> str:
    """A row source of at most one row, read by :func:`sellable_course_of`: the course and the platform's listing of
    it, for the course and platform given as SQL expressions, for a statement another domain's repository composes
    (ADR 0031). The catalogue's SQL stays here."""
    return repository.course_and_listing_sql(course, platform)


def sellable_course_of(row: Sequence[Any] | None) -> SellableCourse | None:
    """A row of :func:`sellable_course_source` (None when it found none) as :func:`sellable_course` decides it:
    the course when it may be bought through that listing now, else None."""
    if row is None:
        return None
    found_id, institution_id, title, course_status, price, listing_status = row
    if CourseStatus(course_status) != CourseStatus.approved or ListingStatus(listing_status) != ListingStatus.listed:
        return None
    return SellableCourse(found_id, institution_id, title, price)


def listable_courses(session: Session) -> list[Course]:
    """Approved courses a platform may list (by title), for the platform portal's form."""
    return repository.approved_courses(session)

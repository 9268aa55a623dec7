"""Ratings and reviews (once per completed purchase), and the participant's own view of their trainings: vouchers,
session codes with their windows, certificates, and what is still missing before the incentive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import service as catalog
from prakerja.training import repository, rules
from prakerja.training.errors import PurchaseNotFound, RatingInvalid, RatingNotAllowed
from prakerja.training.models import CompletionStatus, PurchaseStatus, Rating
from prakerja.training.service import people


def rate(
    session: Session, *, account_id: uuid.UUID, purchase_id: uuid.UUID, stars: int, review: str, actor: audit.Actor
) -> Rating:
    """1-5 stars and a written review for a completed purchase of the participant's own, once; the course's
    rating summary in the catalogue follows."""
    purchase = repository.purchase(session, purchase_id, lock=True)
    if purchase is None or purchase.account_id != account_id:
        raise PurchaseNotFound()
    if purchase.status is not PurchaseStatus.completed or repository.rating_of(session, purchase.id) is not None:
        raise RatingNotAllowed()
    if not rules.valid_stars(stars) or not rules.valid_review(review):
        raise RatingInvalid()
    rating = Rating(
        purchase_id=purchase.id, course_id=purchase.course_id, account_id=account_id, stars=stars, review=review.strip()
    )
    repository.add(session, rating)
    average, count = repository.rating_summary(session, purchase.course_id)
    catalog.set_rating_summary(session, purchase.course_id, average=average, count=count)
    audit.record(session, actor, "training.rated", "purchase", purchase.id, data={"stars": stars})
    return rating


def course_reviews(session: Session, course_id: uuid.UUID, limit: int = 20) -> list[Rating]:
    """The latest reviews of a course, for its page (no names shown)."""
    return repository.ratings_of_course(session, course_id, limit)


@dataclass
class CodeView:
    session_id: uuid.UUID
    starts_at: datetime
    training_type: str
    code: str
    state: str
    valid_from: datetime
    valid_until: datetime
    place: str
    province_code: str | None = None


@dataclass
class TrainingView:
    purchase_id: uuid.UUID
    course_id: uuid.UUID
    course_title: str
    status: str
    amount: int
    voucher_code: str | None
    created_at: datetime
    codes: list[CodeView] = field(default_factory=list)
    completion_status: str | None = None
    certificate_id: uuid.UUID | None = None
    rated: bool = False
    missing: list[str] = field(default_factory=list)
    """For the first training: what is still missing before the incentive (``certificate``, ``rating``,
    ``review``)."""


def my_trainings(session: Session, account_id: uuid.UUID) -> list[TrainingView]:
    """The participant's purchases, newest first (voucher and codes: shown to their owner only)."""
    recipient = people.recipient_of_account(session, account_id)
    if recipient is None:
        return []
    purchases = repository.purchases_of_account(session, account_id, recipient.applicant_id)
    first = min((p for p in purchases if p.status is not PurchaseStatus.cancelled), key=lambda p: p.id, default=None)
    views = []
    for purchase in purchases:
        course = catalog.get_course(session, purchase.course_id)
        plan = {s.id: s for s in catalog.course_sessions(session, purchase.course_id)}
        completion = repository.completion_of_purchase(session, purchase.id)
        rating = repository.rating_of(session, purchase.id)
        view = TrainingView(
            purchase_id=purchase.id,
            course_id=course.id,
            course_title=course.title,
            status=purchase.status.value,
            amount=purchase.amount - purchase.refunded_amount,
            voucher_code=purchase.voucher_code if purchase.status is not PurchaseStatus.cancelled else None,
            created_at=purchase.created_at,
            completion_status=completion.status.value if completion is not None else None,
            certificate_id=completion.certificate_id if completion is not None else None,
            rated=rating is not None,
        )
        for code in repository.codes_of(session, purchase.id):
            plan_row = plan.get(code.session_id)
            view.codes.append(
                CodeView(
                    session_id=code.session_id,
                    starts_at=plan_row.starts_at if plan_row else code.valid_from,
                    training_type=code.training_type,
                    code=code.code,
                    state=code.state.value,
                    valid_from=code.valid_from,
                    valid_until=code.valid_until,
                    place=plan_row.place if plan_row else "",
                    province_code=plan_row.province_code if plan_row else None,
                )
            )
        if first is not None and purchase.id == first.id:
            accepted = completion is not None and completion.status is CompletionStatus.accepted
            if not (accepted and completion is not None and completion.certificate_id is not None):
                view.missing.append("certificate")
            if rating is None:
                view.missing += ["rating", "review"]
        views.append(view)
    return views

"""Marketplace pages: the participant's trainings (``/pelatihan-saya``: voucher and session codes shown to their
owner only, windows in WIB/WITA/WIT, certificate, what is missing before the incentive), the rating form, a course's
reviews; and for the program office the completions in review (``/pmo/pelatihan/tinjauan``), settlement statements
(page and CSV); the log of refused partner calls is the partner API's (``/pmo/penolakan-mitra``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.catalog import service as catalog
from prakerja.catalog.errors import CourseNotFound
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.kit.money import format_rupiah
from prakerja.training import rules, service
from prakerja.training.errors import CompletionNotFound, PeriodInvalid, PurchaseNotFound
from prakerja.web import dashboard
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.i18n import current_language, gettext
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

add_link(PmoLink("/pmo/pelatihan/tinjauan", "Tinjauan penyelesaian pelatihan", "Completions in review"))
add_link(PmoLink("/pmo/pelatihan/penyelesaian", "Laporan penyelesaian pembayaran", "Settlement statements"))

Participant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]

MISSING_LABELS = {
    "certificate": ("Sertifikat", "Certificate"),
    "rating": ("Rating bintang", "Star rating"),
    "review": ("Ulasan tertulis", "Written review"),
}


def _label(key: str) -> str:
    words = MISSING_LABELS[key]
    return words[0] if current_language.get() == "id" else words[1]


def local_time(moment: datetime, province_code: str | None) -> str:
    """``16-03-2026 09:00 WIB`` in the session venue's zone (WIB for online sessions)."""
    zone, label = rules.zone_of(province_code)
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M") + f" {label}"


def _id(value: str, error: type[DomainError]) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise error()
    return parsed


# -- participants --------------------------------------------------------------------------------------------------


@router.get("/pelatihan-saya")
def my_trainings(request: Request, session: DbSession, account: Participant) -> Response:
    views = service.ratings.my_trainings(session, account.id)
    return render(
        request,
        "training/my_trainings.html",
        {"views": views, "local_time": local_time, "missing_label": _label},
    )


def _rating_context(session: DbSession, account: CurrentAccount, purchase_id: uuid.UUID) -> dict[str, object]:
    view = next((v for v in service.ratings.my_trainings(session, account.id) if v.purchase_id == purchase_id), None)
    if view is None:
        raise PurchaseNotFound()
    return {"view": view, "stars": "", "review": ""}


@router.get("/pelatihan-saya/{purchase_id}/nilai")
def rating_form(request: Request, session: DbSession, account: Participant, purchase_id: str) -> Response:
    context = _rating_context(session, account, _id(purchase_id, PurchaseNotFound))
    return render(request, "training/rate.html", context)


@router.post("/pelatihan-saya/{purchase_id}/nilai", dependencies=[Csrf])
def rate(
    request: Request,
    session: DbSession,
    account: Participant,
    purchase_id: str,
    stars: Annotated[str, Form(max_length=1)] = "",
    review: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    parsed = _id(purchase_id, PurchaseNotFound)
    try:
        service.ratings.rate(
            session,
            account_id=account.id,
            purchase_id=parsed,
            stars=int(stars) if is_ascii_number(stars) else 0,
            review=review,
            actor=account.actor,
        )
    except DomainError as error:
        return form_error(
            request,
            session,
            "training/rate.html",
            error,
            lambda s: {**_rating_context(s, account, parsed), "stars": stars, "review": review},
        )
    return RedirectResponse("/pelatihan-saya", status_code=303)


@router.get("/pelatihan/{course_id}/ulasan")
def course_reviews(request: Request, session: DbSession, course_id: str) -> Response:
    course = catalog.get_course(session, _id(course_id, CourseNotFound))
    reviews = service.ratings.course_reviews(session, course.id, limit=50)
    return render(request, "training/reviews.html", {"course": course, "reviews": reviews})


def _dashboard(session: Session, account: CurrentAccount, section: dashboard.Section) -> None:
    views = service.ratings.my_trainings(session, account.id)
    for view in views[:5]:
        section.lines.append(f"{view.course_title}: {gettext(view.status)}")
        if view.missing:
            wanted = ", ".join(_label(key) for key in view.missing)
            section.lines.append(f"{gettext('Still needed before the incentive')}: {wanted}")
    section.link = "/pelatihan-saya"


dashboard.register("trainings", _dashboard)


# -- the program office ----------------------------------------------------------------------------------------------


def _review_page(request: Request, session: DbSession, error: DomainError | None = None) -> Response:
    rows = service.completions.in_review(session)
    language = current_language.get()
    words = {code: (w[0] if language == "id" else w[1]) for code, w in rules.REVIEW_REASONS.items()}
    return render(
        request,
        "training/pmo_review.html",
        {"rows": rows, "words": words, "error": error},
        status_code=error.status_code if error else 200,
    )


@router.get("/pmo/pelatihan/tinjauan")
def review_queue(request: Request, session: DbSession, account: PmoStaff) -> Response:
    return _review_page(request, session)


@router.post("/pmo/pelatihan/tinjauan/{completion_id}", dependencies=[Csrf])
def decide(
    request: Request,
    session: DbSession,
    account: PmoStaff,
    completion_id: str,
    decision: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        service.completions.decide(
            session,
            completion_id=_id(completion_id, CompletionNotFound),
            accept_it=decision == "accept",
            note=note,
            officer=account.actor,
        )
    except DomainError as error:
        session.rollback()
        return _review_page(request, session, error)
    return RedirectResponse("/pmo/pelatihan/tinjauan", status_code=303)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@router.get("/pmo/pelatihan/penyelesaian")
def settlement(
    request: Request,
    session: DbSession,
    account: PmoStaff,
    mitra: Annotated[str, Query(max_length=64)] = "",
    dari: Annotated[str, Query(max_length=10)] = "",
    sampai: Annotated[str, Query(max_length=10)] = "",
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    partners = [o for o in catalog.organisations.every(session) if o.role in ("institution", "platform")]
    partner_id, start, end = parse_id(mitra), _day(dari), _day(sampai)
    found = error = None
    if partner_id is not None and start is not None and end is not None:
        try:
            found = service.settlement.statement(session, partner_id=partner_id, start=start, end=end)
        except PeriodInvalid as refused:
            error = refused
    if found is not None and format == "csv":
        name = f"penyelesaian-{found.start.isoformat()}-{found.end.isoformat()}.csv"
        return Response(
            service.settlement.to_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return render(
        request,
        "training/pmo_settlement.html",
        {
            "partners": partners,
            "statement": found,
            "mitra": mitra,
            "dari": dari,
            "sampai": sampai,
            "error": error,
            "rupiah": format_rupiah,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/pmo/pelatihan/penolakan")
def refusals(account: PmoStaff) -> Response:
    """The log of refused partner calls moved to the partner API's page (every endpoint, not only these)."""
    return RedirectResponse("/pmo/penolakan-mitra", status_code=308)

"""Catalogue pages: the participants' course catalogue (``/pelatihan``, phone first) and the program office's
curation queue, decision page, platform-institution links and each partner's catalogue page (``/pmo/kurasi``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.catalog import rules, service
from prakerja.catalog.errors import CourseNotFound, LinkNotFound, PartnerUnknown
from prakerja.catalog.models import CourseFormat, LinkKind
from prakerja.catalog.service.search import SearchFilters
from prakerja.db import on_loop
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.web.deps import Csrf, DbSession, OptionalAccount, require_role
from prakerja.web.i18n import current_language
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

add_link(PmoLink("/pmo/kurasi", "Kurasi pelatihan", "Course curation"))
add_link(PmoLink("/pmo/kurasi/tautan", "Keterkaitan platform dan lembaga", "Platform-institution links"))

PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]

SORTS = ("relevance", "rating", "price")


def _message(error: DomainError) -> str:
    return error.message if current_language.get() == "id" else error.message_en


def _id(value: str, error: type[DomainError]) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise error()
    return parsed


def _whole(value: str | None, *, low: int, high: int) -> int | None:
    """A filter's number, or None when empty or not a number (a bad filter is ignored, never an error page)."""
    if value is None or not is_ascii_number(value.strip()):
        return None
    number = int(value.strip())
    return number if low <= number <= high else None


# -- participants --------------------------------------------------------------------------------------------------


@router.get("/pelatihan")
async def catalogue(
    request: Request,
    session: DbSession,
    account: OptionalAccount,
    q: Annotated[str, Query(max_length=200)] = "",
    kategori: Annotated[str, Query(max_length=32)] = "",
    format: Annotated[str, Query(max_length=16)] = "",
    provinsi: Annotated[str, Query(max_length=2)] = "",
    harga_maks: Annotated[str, Query(max_length=12)] = "",
    rating_min: Annotated[str, Query(max_length=1)] = "",
    saldo: Annotated[str, Query(max_length=1)] = "",
    urut: Annotated[str, Query(max_length=16)] = "",
    halaman: Annotated[str, Query(max_length=6)] = "1",
) -> Response:
    """Async: the catalogue's reads (provinces, one page of results with the count, the page's institutions) run on
    a loop connection (``db.on_loop``, ADR 0014), with no worker thread and no ``Session``; only a signed-in
    participant's balance is read on the request's ``Session`` (in a worker thread)."""
    balance = None
    if account is not None and account.role == Role.applicant:
        balance = await run_in_threadpool(service.search.remaining_balance, session, account.id)
    max_price = _whole(harga_maks, low=0, high=10**12)
    within_balance = saldo == "1" and balance is not None
    if within_balance:
        max_price = balance if max_price is None else min(max_price, balance or 0)
    async with on_loop() as conn:
        provinces = await service.search.provinces_on_loop(conn)
        filters = SearchFilters(
            query=q.strip(),
            category=kategori if kategori in rules.CATEGORIES else None,
            format=format if format in CourseFormat.__members__ else None,
            province_code=provinsi if provinsi in dict(provinces) else None,
            max_price=max_price,
            min_rating=_whole(rating_min, low=1, high=5),
            sort=urut if urut in SORTS else ("relevance" if q.strip() else "rating"),
        )
        page = _whole(halaman, low=1, high=100_000) or 1
        results = await service.search.search_on_loop(conn, filters, page=page)
    language = current_language.get()
    return render(
        request,
        "catalog/catalogue.html",
        {
            "filters": filters,
            "results": results,
            "balance": balance,
            "within_balance": within_balance,
            "harga_maks": harga_maks if _whole(harga_maks, low=0, high=10**12) is not None else "",
            "categories": [(code, rules.category_label(code, language)) for code in rules.CATEGORIES],
            "category_label": lambda code: rules.category_label(code, language),
            "formats": list(CourseFormat),
            "provinces": provinces,
            "sorts": SORTS,
        },
    )


@router.get("/pelatihan/{course_id}")
def course_page(request: Request, session: DbSession, course_id: str) -> Response:
    page = service.search.course_page(session, _id(course_id, CourseNotFound))
    language = current_language.get()
    return render(
        request,
        "catalog/course.html",
        {
            "page": page,
            "category": rules.category_label(page.course.category, language),
            "province": service.search.province_label,
        },
    )


# -- the program office -----------------------------------------------------------------------------------------


@router.get("/pmo/kurasi")
def curation_queue(request: Request, session: DbSession, account: PmoStaff) -> Response:
    queue = service.curation.queue(session)
    names = service.organisations.names(session)
    rows = []
    for course in queue:
        checks = service.courses.checks(session, course)
        conflicts = [c for c in service.curation.conflicts(session, [course.institution_id]) if c.platform]
        rows.append((course, names.get(course.institution_id, "?"), rules.failed(checks), conflicts))
    return render(request, "catalog/pmo_queue.html", {"rows": rows})


@router.get("/pmo/kurasi/tautan")
def links_page(request: Request, session: DbSession, account: PmoStaff) -> Response:
    return _links_page(request, session)


def _links_page(request: Request, session: DbSession, error: DomainError | None = None) -> Response:
    return render(
        request,
        "catalog/pmo_links.html",
        {
            "links": service.curation.links(session),
            "platforms": service.organisations.every(session, service.organisations.PLATFORM),
            "institutions": service.organisations.every(session, service.organisations.INSTITUTION),
            "kinds": list(LinkKind),
            "error": _message(error) if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.post("/pmo/kurasi/tautan", dependencies=[Csrf])
def record_link(
    request: Request,
    session: DbSession,
    account: PmoStaff,
    platform_id: Annotated[str, Form(max_length=64)] = "",
    institution_id: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    evidence: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        service.curation.record_link(
            session,
            platform_id=parse_id(platform_id) or uuid.UUID(int=0),
            institution_id=parse_id(institution_id) or uuid.UUID(int=0),
            kind=kind,
            evidence=evidence,
            actor=account.actor,
        )
    except DomainError as error:
        session.rollback()
        return _links_page(request, session, error)
    return RedirectResponse("/pmo/kurasi/tautan", status_code=303)


@router.post("/pmo/kurasi/tautan/{link_id}/hapus", dependencies=[Csrf])
def remove_link(
    request: Request,
    session: DbSession,
    account: PmoStaff,
    link_id: str,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    service.curation.remove_link(session, link_id=_id(link_id, LinkNotFound), reason=reason, actor=account.actor)
    return RedirectResponse("/pmo/kurasi/tautan", status_code=303)


@router.get("/pmo/katalog/mitra/{partner_id}")
def partner_page(request: Request, session: DbSession, account: PmoStaff, partner_id: str) -> Response:
    page = service.curation.partner_page(session, _id(partner_id, PartnerUnknown))
    return render(request, "catalog/pmo_partner.html", {"page": page})


def _decision_page(
    request: Request, session: DbSession, course_id: uuid.UUID, error: DomainError | None = None
) -> Response:
    course = service.courses.get_course(session, course_id)
    names = service.organisations.names(session)
    checks = service.courses.checks(session, course)
    language = current_language.get()
    return render(
        request,
        "catalog/pmo_course.html",
        {
            "course": course,
            "institution": names.get(course.institution_id, "?"),
            "category": rules.category_label(course.category, language),
            "sessions": service.courses.course_sessions(session, course.id),
            "trainers": service.courses.trainers(course),
            "checks": checks,
            "failing": rules.failed(checks),
            "officer_reasons": [(code, rules.reason_text(code, language)) for code in rules.OFFICER_REASONS],
            "conflicts": service.curation.conflicts(session, [course.institution_id]),
            "decisions": service.curation.decisions(session, course.id),
            "province": service.search.province_label,
            "error": _message(error) if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/pmo/kurasi/{course_id}")
def decision_page(request: Request, session: DbSession, account: PmoStaff, course_id: str) -> Response:
    return _decision_page(request, session, _id(course_id, CourseNotFound))


@router.post("/pmo/kurasi/{course_id}", dependencies=[Csrf])
def decide(
    request: Request,
    session: DbSession,
    account: PmoStaff,
    course_id: str,
    decision: Annotated[str, Form(max_length=24)] = "",
    reasons: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    parsed = _id(course_id, CourseNotFound)
    try:
        service.curation.curate(
            session,
            course_id=parsed,
            decision=decision,
            reasons=(reasons or [])[:20],
            note=note,
            officer=account.actor,
            version=int(version) if is_ascii_number(version) else None,
        )
    except DomainError as error:
        session.rollback()
        return _decision_page(request, session, parsed, error)
    return RedirectResponse(f"/pmo/kurasi/{parsed}", status_code=303)

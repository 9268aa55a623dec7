"""The training institution's portal (``/portal/lembaga``), phone first: its courses with their curation status and
reasons, a course form (submit and change, sessions included) that calls the same catalogue functions as the
partner API, and its participants, attendance, completions and settlement statements."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.catalog.errors import CourseInvalid, CourseNotFound
from prakerja.catalog.models import CourseFormat
from prakerja.catalog.service import courses as catalog_courses
from prakerja.catalog.service import search as catalog_search
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.partners.errors import NotAMember
from prakerja.partners.service import Membership, PartnerRole
from prakerja.portals import rules, service
from prakerja.portals.pages import settlement as settlement_pages
from prakerja.portals.pages.forms import FormData
from prakerja.portals.pages.statements import statement_response
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.i18n import current_language
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Institution = Annotated[CurrentAccount, Depends(require_role(Role.institution))]
HOME = "/portal/lembaga"
FORM = "portals/course_form.html"


def _organisation(session: Session, account: CurrentAccount) -> Membership:
    return service.membership(session, account.id, PartnerRole.institution)


def _course_id(value: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise CourseNotFound()
    return parsed


@router.get(HOME)
def home(request: Request, session: DbSession, account: Institution) -> Response:
    try:
        organisation = _organisation(session, account)
    except NotAMember:
        return render(request, "portals/unlinked.html", {"title": "Training institution portal"})
    return render(request, "portals/institution.html", {"home": service.institution_home(session, organisation)})


def _form_context(
    session: Session, organisation: Membership, values: dict[str, str], course: Any = None
) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "course": course,
        "values": values,
        "trainer_rows": rules.row_count(values, "trainer", rules.EXTRA_TRAINER_ROWS, rules.MIN_TRAINER_ROWS),
        "session_rows": rules.row_count(values, "session", rules.EXTRA_SESSION_ROWS, rules.MIN_SESSION_ROWS),
        "categories": catalog_courses.categories(current_language.get()),
        "formats": [f.value for f in CourseFormat],
        "provinces": sorted(catalog_search.all_provinces().items()),
        "errors": {},
        "error": None,
    }


@router.get(HOME + "/pelatihan/baru")
def new_course(request: Request, session: DbSession, account: Institution) -> Response:
    organisation = _organisation(session, account)
    return render(request, FORM, _form_context(session, organisation, {"outside_price": "0"}))


def _save(
    request: Request, session: Session, account: CurrentAccount, form: dict[str, str], course_id: uuid.UUID | None
) -> Response:
    organisation = _organisation(session, account)
    course = service.institution_course(session, organisation, course_id) if course_id else None
    data, problems = rules.parse_course(form)
    try:
        if data is None:
            raise CourseInvalid(details={"fields": problems})
        if course_id is None:
            saved = service.submit_course(session, organisation, data, account.actor)
        else:
            saved, _changed = service.edit_course(session, organisation, course_id, data, account.actor)
    except DomainError as error:
        if isinstance(error, CourseInvalid) and data is not None and isinstance(error.details.get("fields"), list):
            error.details["fields"] = rules.remap(error.details["fields"], form)
        return form_error(request, session, FORM, error, lambda s: _form_context(s, organisation, form, course))
    return RedirectResponse(f"{HOME}/pelatihan/{saved.id}", status_code=303)


@router.post(HOME + "/pelatihan/baru", dependencies=[Csrf])
def submit_course(request: Request, session: DbSession, account: Institution, form: FormData) -> Response:
    return _save(request, session, account, form, None)


@router.get(HOME + "/pelatihan/{course_id}")
def course_page(request: Request, session: DbSession, account: Institution, course_id: str) -> Response:
    organisation = _organisation(session, account)
    course = service.institution_course(session, organisation, _course_id(course_id))
    return render(request, FORM, _form_context(session, organisation, rules.form_values(course), course))


@router.post(HOME + "/pelatihan/{course_id}", dependencies=[Csrf])
def change_course(
    request: Request, session: DbSession, account: Institution, course_id: str, form: FormData
) -> Response:
    return _save(request, session, account, form, _course_id(course_id))


@router.get(HOME + "/penyelesaian/{month}")
def statement(
    request: Request,
    session: DbSession,
    account: Institution,
    month: Annotated[str, Path(max_length=7)],
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The institution's settlement statement for one month (``2026-03``); ``?format=csv`` for the CSV."""
    return statement_response(request, session, _organisation(session, account), month, back=HOME, csv=format == "csv")


@router.get(HOME + "/pembayaran")
def settlement(request: Request, session: DbSession, account: Institution) -> Response:
    """The settlement account and the payments received, each next to its statement (the remittance advice)."""
    return settlement_pages.settlement_page(request, session, _organisation(session, account), home=HOME)


@router.post(HOME + "/pembayaran/rekening", dependencies=[Csrf])
def record_settlement_account(request: Request, session: DbSession, account: Institution, form: FormData) -> Response:
    """Record or change the settlement account (verified by the bank before any payment goes to it; audited)."""
    return settlement_pages.record_account(
        request, session, _organisation(session, account), form, home=HOME, actor=account.actor
    )


@router.post(HOME + "/pembayaran/rekening/otp", dependencies=[Csrf])
def confirm_settlement_account(request: Request, session: DbSession, account: Institution, form: FormData) -> Response:
    """The bank's OTP for the account awaiting it (verified when the bank confirms; audited)."""
    return settlement_pages.confirm_account(
        request, session, _organisation(session, account), form, home=HOME, actor=account.actor
    )

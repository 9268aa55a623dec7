"""The digital platform's portal (``/portal/platform``), phone first: its listings (course, price, status, the
conflict-of-interest flag), a form to list an approved course or change a listing (the same catalogue function
as ``PUT /partner/v1/listings``), and its sales."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.catalog.errors import CourseNotFound, ListingPriceAboveCurated
from prakerja.catalog.schemas import ListingPut
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.partners.errors import NotAMember
from prakerja.partners.service import Membership, PartnerRole
from prakerja.portals import rules, service
from prakerja.portals.errors import ListingInvalid
from prakerja.portals.pages import settlement as settlement_pages
from prakerja.portals.pages.forms import FormData
from prakerja.portals.pages.statements import statement_response
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Platform = Annotated[CurrentAccount, Depends(require_role(Role.platform))]
HOME = "/portal/platform"
TEMPLATE = "portals/platform.html"


def _organisation(session: Session, account: CurrentAccount) -> Membership:
    return service.membership(session, account.id, PartnerRole.platform)


def _context(session: Session, organisation: Membership, values: dict[str, str]) -> dict[str, Any]:
    return {"home": service.platform_home(session, organisation), "values": values, "errors": {}, "error": None}


@router.get(HOME)
def home(request: Request, session: DbSession, account: Platform) -> Response:
    try:
        organisation = _organisation(session, account)
    except NotAMember:
        return render(request, "portals/unlinked.html", {"title": "Digital platform portal"})
    return render(request, TEMPLATE, _context(session, organisation, {}))


@router.post(HOME + "/penawaran", dependencies=[Csrf])
def put_listing(request: Request, session: DbSession, account: Platform, form: FormData) -> Response:
    organisation = _organisation(session, account)
    values = {k: form.get(k, "").strip() for k in ("course_id", "url", "price")}
    try:
        course_id = parse_id(values["course_id"])
        if course_id is None:
            raise CourseNotFound(details={"field": "course_id"})
        price = rules.whole_number(values["price"])
        try:
            data = ListingPut.model_validate({"url": values["url"], "price": price})
        except ValidationError as invalid:
            problems = []
            for item in invalid.errors():
                field = str(item["loc"][0]) if item.get("loc") else "url"
                message, message_en = rules.HINTS.get(field, rules.HINTS["price"])
                problems.append({"field": field, "message": message, "message_en": message_en})
            raise ListingInvalid(details={"fields": problems}) from None
        try:
            service.put_listing(
                session, organisation, course_id=course_id, url=data.url, price=data.price, actor=account.actor
            )
        except ListingPriceAboveCurated as error:
            error.details["field"] = "price"
            raise
    except DomainError as error:
        if "field" not in error.details and "fields" not in error.details:
            error.details["field"] = "course_id"
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, organisation, values))
    return RedirectResponse(HOME, status_code=303)


@router.get(HOME + "/penyelesaian/{month}")
def statement(
    request: Request,
    session: DbSession,
    account: Platform,
    month: Annotated[str, Path(max_length=7)],
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The platform's settlement statement for one month (``2026-03``); ``?format=csv`` for the CSV."""
    return statement_response(request, session, _organisation(session, account), month, back=HOME, csv=format == "csv")


@router.get(HOME + "/pembayaran")
def settlement(request: Request, session: DbSession, account: Platform) -> Response:
    """The settlement account and the payments received, each next to its statement (the remittance advice)."""
    return settlement_pages.settlement_page(request, session, _organisation(session, account), home=HOME)


@router.post(HOME + "/pembayaran/rekening", dependencies=[Csrf])
def record_settlement_account(request: Request, session: DbSession, account: Platform, form: FormData) -> Response:
    """Record or change the settlement account (verified by the bank before any payment goes to it; audited)."""
    return settlement_pages.record_account(
        request, session, _organisation(session, account), form, home=HOME, actor=account.actor
    )


@router.post(HOME + "/pembayaran/rekening/otp", dependencies=[Csrf])
def confirm_settlement_account(request: Request, session: DbSession, account: Platform, form: FormData) -> Response:
    """The bank's OTP for the account awaiting it (verified when the bank confirms; audited)."""
    return settlement_pages.confirm_account(
        request, session, _organisation(session, account), form, home=HOME, actor=account.actor
    )

"""The program office's applicant pages: find by NIK, view, re-check, integrity flags, exclusion lists."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.eligibility import service as eligibility
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.registration.errors import AsOfInvalid
from prakerja.registration.models import EXCLUSION_TYPES, WHITELIST_TYPES
from prakerja.registration.pages.common import Admin, Officer, Text, not_found, status_text
from prakerja.registration.rules import listfiles
from prakerja.registration.service import integrity, lists, officers
from prakerja.web.deps import Csrf, DbSession
from prakerja.web.forms import form_error, pick
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/pmo/pendaftar")
def pmo_search_form(request: Request, account: CurrentAccount = Officer) -> Response:
    return render(request, "registration/pmo_search.html", {"errors": {}})


@router.post("/pmo/pendaftar", dependencies=[Csrf])
def pmo_search(request: Request, session: DbSession, nik: Text = "", account: CurrentAccount = Officer) -> Response:
    """The NIK travels in the form body, never in a URL."""
    try:
        applicant_id = officers.find_by_nik(session, nik=nik, actor=account.actor)
    except DomainError as error:
        # no rollback: the search itself stays in the audit log, found or not
        return form_error(request, None, "registration/pmo_search.html", error, {})
    return RedirectResponse(f"/pmo/pendaftar/{applicant_id}", status_code=303)


@router.get("/pmo/pendaftar/{applicant_id}")
def pmo_applicant(
    request: Request, session: DbSession, applicant_id: str, account: CurrentAccount = Officer
) -> Response:
    parsed = parse_id(applicant_id)
    if parsed is None:
        raise not_found()
    view = officers.view(session, applicant_id=parsed, actor=account.actor)
    decisions = eligibility.decisions_for(session, parsed)
    text, _ = status_text(view.identity_status)
    return render(
        request, "registration/pmo_applicant.html", {"view": view, "decisions": decisions, "status_text": text}
    )


@router.post("/pmo/pendaftar/{applicant_id}/periksa-ulang", dependencies=[Csrf])
def pmo_recheck(
    request: Request, session: DbSession, applicant_id: uuid.UUID, reason: Text = "", account: CurrentAccount = Officer
) -> Response:
    officers.request_recheck(session, applicant_id=applicant_id, actor=account.actor, reason=reason)
    return RedirectResponse(f"/pmo/pendaftar/{applicant_id}", status_code=303)


@router.get("/pmo/tanda")
def pmo_flags(request: Request, session: DbSession, account: CurrentAccount = Officer) -> Response:
    return render(request, "registration/pmo_flags.html", {"flags": integrity.open_flags(session)})


@router.post("/pmo/tanda/{flag_id}/tinjau", dependencies=[Csrf])
def pmo_review_flag(
    request: Request, session: DbSession, flag_id: uuid.UUID, note: Text = "", account: CurrentAccount = Officer
) -> Response:
    integrity.review_flag(session, flag_id=flag_id, actor=account.actor, note=note)
    return RedirectResponse("/pmo/tanda", status_code=303)


def _said(table: dict[str, tuple[str, str]], code: str) -> str:
    """A list type's or an import way's words in the request's language; the code when it has none."""
    return pick(*table[code]) if code in table else code


def _lists_context(session: Session) -> dict[str, Any]:
    return {
        "imports": lists.recent_imports(session),
        "types": [*EXCLUSION_TYPES, *WHITELIST_TYPES],
        "type_name": lambda code: _said(listfiles.LIST_TYPE_NAMES, code),
        "way_name": lambda code: _said(listfiles.IMPORT_WAYS, code),
        "errors": {},
        "result": None,
    }


@router.get("/pmo/daftar-pengecualian")
def pmo_lists(request: Request, session: DbSession, account: CurrentAccount = Admin) -> Response:
    return render(request, "registration/pmo_lists.html", _lists_context(session))


@router.post("/pmo/daftar-pengecualian", dependencies=[Csrf])
def pmo_lists_import(
    request: Request,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    list_type: Text = "",
    source: Text = "",
    as_of: Text = "",
    mode: Text = "merge",
    account: CurrentAccount = Admin,
) -> Response:
    try:
        try:
            day = datetime.date.fromisoformat(as_of)
        except ValueError:
            raise AsOfInvalid(details={"field": "as_of"}) from None
        result = lists.import_list(
            session,
            data=lists.read_upload(file.file),
            filename=file.filename or "",
            list_type=list_type,
            source=source,
            as_of=day,
            mode=mode,
            actor=account.actor,
            via="web",
        )
    except DomainError as error:
        return form_error(request, session, "registration/pmo_lists.html", error, _lists_context)
    return render(request, "registration/pmo_lists.html", {**_lists_context(session), "result": result})


add_link(PmoLink("/pmo/pendaftar", "Cari pendaftar (NIK)", "Find an applicant (NIK)"))
add_link(PmoLink("/pmo/tanda", "Tanda integritas", "Integrity flags"))
add_link(
    PmoLink(
        "/pmo/daftar-pengecualian",
        "Daftar pengecualian & prioritas",
        "Exclusion lists & whitelists",
        roles=frozenset({Role.pmo_admin}),
    )
)

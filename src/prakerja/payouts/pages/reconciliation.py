"""The program office's reconciliation page (``/pmo/pembayaran/rekonsiliasi``): the partners' statements ingested,
the differences found (open first), a form to upload a statement file, and per open difference a form to resolve it
with a written reason (kept in the audit log; resolving moves no money)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import DomainError, one_field
from prakerja.payouts.errors import DifferenceNotFound, StatementTooLarge
from prakerja.payouts.service import reconciliation
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/pmo/pembayaran/rekonsiliasi"
TEMPLATE = "payouts/reconciliation.html"
Officer = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""A statement uploaded on the page; larger ones go through ``prakerja payouts reconcile --file``."""


def _context(session: Session, values: dict[str, str] | None = None) -> dict[str, Any]:
    providers = reconciliation.providers(session)
    return {
        "providers": providers,
        "codes": {p.id: p.code for p in providers},
        "statements": reconciliation.statements(session),
        "differences": reconciliation.differences(session),
        "open_count": reconciliation.open_difference_count(session),
        "values": values or {},
        "errors": {},
        "error": None,
        "report": None,
    }


@router.get(PAGE)
def page(request: Request, session: DbSession, account: Officer, resolved: str | None = None) -> Response:
    return render(request, TEMPLATE, _context(session) | {"resolved": bool(resolved)})


@router.post(PAGE, dependencies=[Csrf])
def upload(
    request: Request,
    session: DbSession,
    account: Officer,
    file: Annotated[UploadFile, File()],
    provider: Annotated[str, Form(max_length=16)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {"provider": provider, "day": day}
    try:
        content = file.file.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            raise StatementTooLarge(details={"field": "file"})
        statement_day = None
        if day.strip():
            try:
                statement_day = date.fromisoformat(day.strip())
            except ValueError:
                raise one_field(
                    "day", "statement_day_invalid", "Tanggal tidak valid (TTTT-BB-HH).", "Not a date (YYYY-MM-DD)."
                ) from None
        report = reconciliation.ingest_statement(
            session, provider_code=provider, content=content, actor=account.actor, day=statement_day
        )
    except DomainError as error:
        if "field" not in error.details:
            error.details["field"] = "provider" if error.code == "unknown_provider" else "file"
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, values))
    return render(request, TEMPLATE, _context(session) | {"report": report})


@router.post(PAGE + "/selisih/{difference_id}", dependencies=[Csrf])
def resolve(
    request: Request,
    session: DbSession,
    account: Officer,
    difference_id: str,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = {"difference": difference_id, "reason": reason}
    try:
        try:
            parsed = uuid.UUID(difference_id)
        except ValueError:
            raise DifferenceNotFound() from None
        reconciliation.resolve_difference(session, difference_id=parsed, reason=reason, actor=account.actor)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, values))
    return RedirectResponse(f"{PAGE}?resolved=1", status_code=303)


add_link(PmoLink(PAGE, "Rekonsiliasi pembayaran", "Payout reconciliation"))

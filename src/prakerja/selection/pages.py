"""Lottery pages: the PMO's draw page (commit, seed, fairness, disqualify, announce), the public list of every
wave's published files, the applicant's proof download, and the dashboard's "wave" section."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import DomainError
from prakerja.selection import service
from prakerja.selection.errors import PublicationMissing
from prakerja.waves import service as waves
from prakerja.web import dashboard
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.i18n import current_language, gettext
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

PmoAdmin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Applicant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]

MEDIA_TYPES = {".csv": "text/csv", ".json": "application/json", ".sig": "text/plain", ".pem": "application/x-pem-file"}


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PublicationMissing() from None


def _draw_context(session: Session, account: CurrentAccount, wave_id: uuid.UUID) -> dict[str, Any]:
    wave = waves.get_wave(session, wave_id)
    listed = next((p for p in service.public_waves(session) if p.wave.id == wave.id), None)
    return {
        "wave": wave,
        "draw": listed.draw if listed else None,
        "changed": service.changed_results(session, wave.id) if listed and listed.draw else [],
        "can_edit": account.role is Role.pmo_admin,
        "error": None,
        "error_code": None,
        "errors": {},
    }


def _refused(
    request: Request, session: Session, account: CurrentAccount, wave_id: uuid.UUID, error: DomainError
) -> Response:
    """Rolled back, and the draw page again with the message (and what the refusal carries, e.g. the budget)."""
    return form_error(
        request,
        session,
        "selection/pmo_draw.html",
        error,
        lambda s: {**_draw_context(s, account, wave_id), "error_code": error.code, "details": error.details},
    )


def _act(
    request: Request, session: Session, account: CurrentAccount, wave_id: uuid.UUID, action: Callable[[], object]
) -> Response:
    """One step of the draw; back to the draw page, or the page again with the refusal."""
    try:
        action()
    except DomainError as error:
        return _refused(request, session, account, wave_id, error)
    return RedirectResponse(f"/pmo/undian/{wave_id}", status_code=303)


@router.get("/pmo/undian/{wave_id}")
def draw_page(request: Request, session: DbSession, account: PmoStaff, wave_id: str) -> Response:
    return render(request, "selection/pmo_draw.html", _draw_context(session, account, _id(wave_id)))


@router.get("/pmo/undian/{wave_id}/umumkan")
def announce_confirm(request: Request, session: DbSession, account: PmoAdmin, wave_id: str) -> Response:
    """What announcing will do, with the money it needs and the budget left, before the officer confirms."""
    parsed = _id(wave_id)
    context = {**_draw_context(session, account, parsed), "plan": service.announcement_plan(session, parsed)}
    return render(request, "selection/pmo_announce.html", context)


@router.post("/pmo/undian/{wave_id}/komitmen", dependencies=[Csrf])
def commit(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    source: Annotated[str, Form(max_length=200)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    parsed = _id(wave_id)
    return _act(
        request,
        session,
        account,
        parsed,
        lambda: service.commit(
            session, parsed, randomness_source=source, randomness_reference=reference, actor=account.actor
        ),
    )


@router.post("/pmo/undian/{wave_id}/benih", dependencies=[Csrf])
def seed(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    reference: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    parsed = _id(wave_id)
    return _act(
        request,
        session,
        account,
        parsed,
        lambda: service.seed(session, parsed, reference=reference, value=value, actor=account.actor),
    )


@router.post("/pmo/undian/{wave_id}/batalkan", dependencies=[Csrf])
def disqualify(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    entry_hash: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    parsed = _id(wave_id)
    return _act(
        request,
        session,
        account,
        parsed,
        lambda: service.disqualify(session, parsed, entry_hash, reason=reason, actor=account.actor),
    )


@router.post("/pmo/undian/{wave_id}/batas-kk", dependencies=[Csrf])
def kk_cap(request: Request, session: DbSession, account: PmoAdmin, wave_id: str) -> Response:
    parsed = _id(wave_id)
    return _act(request, session, account, parsed, lambda: service.apply_kk_cap(session, parsed, actor=account.actor))


@router.post("/pmo/undian/{wave_id}/umumkan", dependencies=[Csrf])
def announce(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    override_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    parsed = _id(wave_id)
    return _act(
        request,
        session,
        account,
        parsed,
        lambda: service.announce(session, parsed, actor=account.actor, override_reason=override_reason or None),
    )


# ---------------------------------------------------------------------------------------------- public


@router.get("/undian")
def public_list(request: Request, session: DbSession) -> Response:
    return render(request, "selection/public.html", {"items": service.public_waves(session)})


@router.get("/undian/{wave_id}/{name}")
def public_file(session: DbSession, wave_id: str, name: str) -> Response:
    path = service.published_file(session, _id(wave_id), name)
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"), filename=name)


# ---------------------------------------------------------------------------------------------- applicant


@router.get("/gelombang/{wave_id}/bukti")
def proof(session: DbSession, account: Applicant, wave_id: str) -> Response:
    parsed = _id(wave_id)
    body = service.proof_for_account(session, account.id, parsed)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="bukti-undian-{parsed}.json"'},
    )


def _dashboard(session: Session, account: CurrentAccount, section: dashboard.Section) -> None:
    """The applicant's wave status, outcome, card and proof link."""
    lines, link = service.dashboard_lines(session, account.id, gettext, current_language.get())
    section.lines.extend(lines)
    section.link = link


dashboard.register("wave", _dashboard)

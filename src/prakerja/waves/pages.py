"""Wave pages: the PMO's wave list and wave page (quotas, open, close), and the applicant's join page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.clock import JAKARTA
from prakerja.kit.errors import DomainError
from prakerja.schemes.rules import available
from prakerja.waves import service
from prakerja.waves.errors import WaveNotFound
from prakerja.waves.models import StratumLevel
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.i18n import current_language
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

add_link(PmoLink("/pmo/gelombang", "Gelombang, kuota & undian", "Waves, quotas & lottery"))
add_link(PmoLink("/undian", "Hasil undian (publik)", "Lottery results (public)"))

PmoAdmin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Applicant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]


def _message(error: DomainError) -> str:
    return error.message if current_language.get() == "id" else error.message_en


def _parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise WaveNotFound() from None


@router.get("/pmo/gelombang")
def wave_list(request: Request, session: DbSession, account: PmoStaff) -> Response:
    return render(
        request,
        "waves/pmo_list.html",
        {"waves": service.list_waves(session), "schemes": available(), "error": None, "levels": list(StratumLevel)},
    )


@router.post("/pmo/gelombang", dependencies=[Csrf])
def wave_create(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    title: Annotated[str, Form(max_length=200)],
    scheme: Annotated[str, Form(max_length=64)],
    opens_at: Annotated[str, Form(max_length=32)],
    closes_at: Annotated[str, Form(max_length=32)],
    total_quota: Annotated[int, Form()],
    stratum_level: Annotated[str, Form(max_length=16)] = "regency",
) -> Response:
    try:
        opens = datetime.fromisoformat(opens_at).replace(tzinfo=JAKARTA)
        closes = datetime.fromisoformat(closes_at).replace(tzinfo=JAKARTA)
        wave = service.create_wave(
            session,
            title=title,
            scheme=scheme,
            opens_at=opens,
            closes_at=closes,
            total_quota=total_quota,
            stratum_level=StratumLevel.province if stratum_level == "province" else StratumLevel.regency,
            actor=account.actor,
        )
    except ValueError:
        return render(
            request,
            "waves/pmo_list.html",
            {
                "waves": service.list_waves(session),
                "schemes": available(),
                "levels": list(StratumLevel),
                "error": "opens_at/closes_at",
            },
            status_code=422,
        )
    except DomainError as error:
        session.rollback()
        return render(
            request,
            "waves/pmo_list.html",
            {
                "waves": service.list_waves(session),
                "schemes": available(),
                "levels": list(StratumLevel),
                "error": _message(error),
            },
            status_code=error.status_code,
        )
    return RedirectResponse(f"/pmo/gelombang/{wave.id}", status_code=303)


def _wave_page(
    request: Request, session: DbSession, wave_id: uuid.UUID, *, error: DomainError | None = None
) -> Response:
    wave = service.get_wave(session, wave_id)
    return render(
        request,
        "waves/pmo_wave.html",
        {
            "wave": wave,
            "quotas": service.quotas(session, wave.id),
            "error": _message(error) if error else None,
            "problems": error.details.get("problems", []) if error else [],
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/pmo/gelombang/{wave_id}")
def wave_page(request: Request, session: DbSession, account: PmoStaff, wave_id: str) -> Response:
    return _wave_page(request, session, _parse_id(wave_id))


@router.post("/pmo/gelombang/{wave_id}/kuota", dependencies=[Csrf])
async def wave_quotas(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    method: Annotated[str, Form(max_length=16)] = "csv",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    parsed = _parse_id(wave_id)
    content = (await upload.read()).decode("utf-8", errors="replace") if upload is not None else ""
    try:
        if method == "applicants":
            service.set_quotas_by_applicants(session, parsed, actor=account.actor)
        elif method == "labour_force":
            service.set_quotas_by_labour_force(session, parsed, content, actor=account.actor)
        else:
            service.set_quotas_from_csv(session, parsed, content, actor=account.actor)
    except DomainError as error:
        session.rollback()
        return _wave_page(request, session, parsed, error=error)
    return RedirectResponse(f"/pmo/gelombang/{parsed}", status_code=303)


@router.post("/pmo/gelombang/{wave_id}/{action}", dependencies=[Csrf])
def wave_action(request: Request, session: DbSession, account: PmoAdmin, wave_id: str, action: str) -> Response:
    parsed = _parse_id(wave_id)
    try:
        if action == "buka":
            service.open_wave(session, parsed, actor=account.actor)
        elif action == "tutup":
            service.close_wave(session, parsed, actor=account.actor)
        else:
            raise WaveNotFound()
    except DomainError as error:
        session.rollback()
        return _wave_page(request, session, parsed, error=error)
    return RedirectResponse(f"/pmo/gelombang/{parsed}", status_code=303)


# ---------------------------------------------------------------------------------------------- applicants


@router.get("/gelombang")
def join_page(request: Request, session: DbSession, account: Applicant) -> Response:
    return render(
        request,
        "waves/join.html",
        {
            "waves": service.open_waves_for(session, account.id),
            "entries": service.entries_of_account(session, account.id),
        },
    )


@router.post("/gelombang/{wave_id}/gabung", dependencies=[Csrf])
def join(
    request: Request,
    session: DbSession,
    account: Applicant,
    wave_id: str,
    consent: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        receipt = service.join(session, account_id=account.id, wave_id=_parse_id(wave_id), consent=consent == "yes")
    except DomainError as error:
        session.rollback()
        return render(
            request,
            "waves/join.html",
            {
                "waves": service.open_waves_for(session, account.id),
                "entries": service.entries_of_account(session, account.id),
                "error": _message(error),
                "error_code": error.code,
            },
            status_code=error.status_code,
        )
    return render(request, "waves/joined.html", {"receipt": receipt})

"""``/api/v1/waves``: JSON for the PMO's tools (cookie session + ``X-CSRF-Token`` header) and joining."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.waves import service
from prakerja.waves.schemas import JoinReceipt, QuotaSet, WaveCreate, WaveOut
from prakerja.web.deps import CSRF_COOKIE, CsrfFailed, DbSession, require_role

router = APIRouter(prefix="/api/v1/waves", tags=["waves"])


def csrf_header(request: Request) -> None:
    """Cookie-authenticated JSON calls echo the CSRF cookie in ``X-CSRF-Token``."""
    sent = request.headers.get("x-csrf-token", "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


PmoAdmin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Applicant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]
Protected = [Depends(csrf_header)]


@router.get("", response_model=list[WaveOut])
def list_waves(session: DbSession, account: PmoStaff) -> list[WaveOut]:
    return [WaveOut.model_validate(w) for w in service.list_waves(session)]


@router.post("", response_model=WaveOut, status_code=201, dependencies=Protected)
def create_wave(session: DbSession, account: PmoAdmin, body: WaveCreate) -> WaveOut:
    wave = service.create_wave(
        session,
        title=body.title,
        scheme=body.scheme,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        total_quota=body.total_quota,
        stratum_level=body.stratum_level,
        provinces=body.provinces,
        priority_tiers=body.priority_tiers,
        number=body.number,
        actor=account.actor,
    )
    return WaveOut.model_validate(wave)


@router.get("/{wave_id}", response_model=WaveOut)
def get_wave(session: DbSession, account: PmoStaff, wave_id: uuid.UUID) -> WaveOut:
    return WaveOut.model_validate(service.get_wave(session, wave_id))


@router.get("/{wave_id}/quotas")
def get_quotas(session: DbSession, account: PmoStaff, wave_id: uuid.UUID) -> dict[str, int]:
    service.get_wave(session, wave_id)
    return service.quotas(session, wave_id)


@router.put("/{wave_id}/quotas", dependencies=Protected)
def put_quotas(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: QuotaSet) -> dict[str, int]:
    return service.set_quotas(session, wave_id, body.quotas, method="api", actor=account.actor)


@router.put("/{wave_id}/quotas.csv", dependencies=Protected)
def put_quotas_csv(
    session: DbSession,
    account: PmoAdmin,
    wave_id: uuid.UUID,
    body: Annotated[str, Body(media_type="text/csv")],
) -> dict[str, int]:
    return service.set_quotas_from_csv(session, wave_id, body, actor=account.actor)


@router.put("/{wave_id}/tiers", response_model=WaveOut, dependencies=Protected)
def put_tiers(
    session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: Annotated[list[dict[str, Any]], Body()]
) -> WaveOut:
    """The ordered tiers ``[{"name", "whitelist_types", "regencies", "region_list"}]`` (draft or open wave only);
    a named region list is frozen into the wave with its provenance."""
    return WaveOut.model_validate(service.set_priority_tiers(session, wave_id, body, actor=account.actor))


@router.post("/{wave_id}/open", response_model=WaveOut, dependencies=Protected)
def open_wave(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID) -> WaveOut:
    return WaveOut.model_validate(service.open_wave(session, wave_id, actor=account.actor))


@router.post("/{wave_id}/close", response_model=WaveOut, dependencies=Protected)
def close_wave(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID) -> WaveOut:
    return WaveOut.model_validate(service.close_wave(session, wave_id, actor=account.actor))


@router.post("/{wave_id}/join", response_model=JoinReceipt, status_code=201, dependencies=Protected)
def join(
    session: DbSession, account: Applicant, wave_id: uuid.UUID, consent: Annotated[bool, Body(embed=True)]
) -> JoinReceipt:
    return service.join(session, account_id=account.id, wave_id=wave_id, consent=consent)

"""``/api/v1/waves/{id}/...`` lottery steps as JSON (PMO; cookie session + ``X-CSRF-Token``)."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.selection import service
from prakerja.selection.schemas import Announcement, CommitmentCreate, Disqualification, DrawOut, SeedReveal
from prakerja.waves import service as waves
from prakerja.web.deps import CSRF_COOKIE, CsrfFailed, DbSession, require_role

router = APIRouter(prefix="/api/v1/waves", tags=["selection"])


def csrf_header(request: Request) -> None:
    """Cookie-authenticated JSON calls echo the CSRF cookie in ``X-CSRF-Token``."""
    sent = request.headers.get("x-csrf-token", "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


PmoAdmin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Protected = [Depends(csrf_header)]


@router.post("/{wave_id}/commitment", response_model=DrawOut, status_code=201, dependencies=Protected)
def commit(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: CommitmentCreate) -> DrawOut:
    draw = service.commit(
        session,
        wave_id,
        randomness_source=body.randomness_source,
        randomness_reference=body.randomness_reference,
        actor=account.actor,
    )
    return DrawOut.model_validate(draw)


@router.post("/{wave_id}/seed", response_model=DrawOut, dependencies=Protected)
def seed(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: SeedReveal) -> DrawOut:
    """The revealed public value for the reference the commitment named; the draw runs."""
    return DrawOut.model_validate(
        service.seed(session, wave_id, reference=body.reference, value=body.value, actor=account.actor)
    )


@router.get("/{wave_id}/fairness")
def fairness(session: DbSession, account: PmoStaff, wave_id: uuid.UUID) -> dict[str, Any]:
    return service.fairness(session, waves.get_wave(session, wave_id)).to_json()


@router.post("/{wave_id}/disqualify", dependencies=Protected)
def disqualify(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: Disqualification) -> dict[str, Any]:
    promoted = service.disqualify(session, wave_id, body.entry_hash, reason=body.reason, actor=account.actor)
    return {"promoted": promoted.entry_hash.hex() if promoted is not None else None}


@router.post("/{wave_id}/announce", response_model=DrawOut, dependencies=Protected)
def announce(session: DbSession, account: PmoAdmin, wave_id: uuid.UUID, body: Announcement) -> DrawOut:
    return DrawOut.model_validate(
        service.announce(session, wave_id, actor=account.actor, override_reason=body.override_reason)
    )

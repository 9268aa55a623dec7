"""The basic ability and motivation test of a wave."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from prakerja.auth.service import CurrentAccount
from prakerja.kit.digits import is_ascii_number
from prakerja.registration.errors import AbilityWaveNotFound
from prakerja.registration.pages.common import Applicant
from prakerja.registration.rules import itembank
from prakerja.registration.service import ability, localtime
from prakerja.web.deps import Csrf, DbSession
from prakerja.web.forms import pick
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)


BANDS = (
    (80, ("Sangat baik", "Very good")),
    (60, ("Baik", "Good")),
    (40, ("Cukup", "Fair")),
    (0, ("Perlu latihan", "Needs practice")),
)
"""What a total score (0-100) means, in words."""


def _context(session: Session, account: CurrentAccount, attempt: Any, wave_ref: str) -> dict[str, Any]:
    items = [itembank.BY_ID[i] for i in attempt.item_ids] if attempt is not None else []
    zone = localtime.zone_for_account(session, account.id)
    score = attempt.score_total if attempt is not None else None
    band = next((pick(*words) for floor, words in BANDS if score is not None and score >= floor), "")
    return {
        "attempt": attempt,
        "items": items,
        "wave_ref": wave_ref,
        "minutes": int(itembank.TIME_LIMIT.seconds / 60),
        "deadline": localtime.local(attempt.deadline_at, zone) if attempt is not None else "",
        "band": band,
    }


def wave_check(request: Request) -> ability.WaveCheck:
    """The waves domain's check, wired in by ``create_app`` (this domain sits below waves). Missing: every wave is
    unknown (404), never open to all."""
    check = getattr(request.app.state, "ability_wave_check", None)
    if check is None:

        def unknown(session: Session, account_id: uuid.UUID, wave_ref: str) -> str:
            raise AbilityWaveNotFound()

        return unknown
    return check


@router.get("/tes/{wave_ref}")
def ability_test(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = Applicant) -> Response:
    attempt = ability.current_attempt(session, account_id=account.id, wave_ref=wave_ref[:64])
    if attempt is None:  # nothing started: only a wave the applicant may take the test for
        wave_ref = wave_check(request)(session, account.id, wave_ref[:64])
        attempt = ability.current_attempt(session, account_id=account.id, wave_ref=wave_ref)
    return render(request, "registration/ability.html", _context(session, account, attempt, wave_ref[:64]))


@router.post("/tes/{wave_ref}/mulai", dependencies=[Csrf])
def ability_start(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = Applicant) -> Response:
    attempt = ability.start(session, account_id=account.id, wave_ref=wave_ref[:64], check_wave=wave_check(request))
    return RedirectResponse(f"/tes/{attempt.wave_ref}", status_code=303)


@router.post("/tes/{wave_ref}/kirim", dependencies=[Csrf])
async def ability_submit(
    request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = Applicant
) -> Response:
    """Async to read the form; the answers are saved in a worker thread on the request's session."""
    form = await request.form()
    answers = {
        k[2:]: int(v) for k, v in form.items() if k.startswith("q_") and isinstance(v, str) and is_ascii_number(v)
    }

    def save(session: Session) -> None:
        ability.submit(session, account_id=account.id, wave_ref=wave_ref[:64], answers=answers)

    await run_in_threadpool(save, session)
    return RedirectResponse(f"/tes/{wave_ref[:64]}", status_code=303)

"""``/pmo/pembayaran``: officers see payout runs (per-partner batches with their control totals, instructions by
status) and an administrator can start a day's run by hand (audited; the same run the daily job would start)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from prakerja.audit.service import Actor
from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.clock import clock
from prakerja.kit.errors import NotFound, one_field
from prakerja.payouts.models import RunKind
from prakerja.payouts.pages import words
from prakerja.payouts.service import runs
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter()

RUNS_PAGE = "/pmo/pembayaran"
Officer = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]

add_link(PmoLink(RUNS_PAGE, "Pembayaran insentif", "Incentive payouts"))


@router.get(RUNS_PAGE, include_in_schema=False)
def runs_page(request: Request, session: DbSession, account: Officer) -> Response:
    return render(
        request,
        "payouts/runs.html",
        {
            "runs": runs.recent(session),
            "can_start": account.role is Role.pmo_admin,
            "today": clock.today_jakarta().date().isoformat(),
            "error": None,
            "words": words,
        },
    )


@router.get(RUNS_PAGE + "/{run_id}", include_in_schema=False)
def run_page(request: Request, session: DbSession, account: Officer, run_id: uuid.UUID) -> Response:
    view = runs.get_run(session, run_id)
    if view is None:
        raise NotFound(details={"run_id": str(run_id)})
    return render(request, "payouts/run.html", {"run": view, "words": words})


@router.post(RUNS_PAGE, include_in_schema=False, dependencies=[Csrf])
def start_run(
    request: Request,
    session: DbSession,
    account: Admin,
    run_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Start the incentive run of a day (or open it, if it exists); the audit log records the officer. The run is
    created in this request with the job that sends it (``payouts.execute_run``)."""
    try:
        day = date.fromisoformat(run_date)
    except ValueError:
        raise one_field("run_date", "date_invalid", "Tanggal tidak valid.", "The date is not valid.") from None
    run = runs.start(
        session, kind=RunKind.incentives, run_date=day, actor=Actor(id=account.id, role=account.role.value)
    )
    return RedirectResponse(f"{RUNS_PAGE}/{run.id}", status_code=303)

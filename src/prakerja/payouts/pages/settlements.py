"""``/pmo/pembayaran/penyelesaian``: officers see every institution's and platform's settlement per month (amount,
status, the reason when held back, the payments) with the organisation's settlement account and its verification
status; an administrator can prepare a month and start the day's settlement run by hand (audited; the same run the
monthly job starts), and run it again the same day ("Jalankan lagi", audited) for what was held back then and is due
now (ADR 0026)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.payouts import rules
from prakerja.payouts.pages import words
from prakerja.payouts.service import receivables, settlements
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter()

PAGE = "/pmo/pembayaran/penyelesaian"
AGAIN = PAGE + "/lagi"
TEMPLATE = "payouts/settlements.html"
Officer = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]

add_link(PmoLink(PAGE, "Pembayaran lembaga & platform", "Provider settlement"))


def _context(session: DbSession, account: CurrentAccount, values: dict[str, str]) -> dict[str, object]:
    today = clock.today_jakarta().date()
    return {
        "rows": settlements.overview(session),
        "receivables": receivables.overview(session),
        "can_start": account.role is Role.pmo_admin,
        "default_period": rules.previous_period(today),
        "values": values,
        "words": words,
        "errors": {},
        "error": None,
    }


@router.get(PAGE, include_in_schema=False)
def settlements_page(request: Request, session: DbSession, account: Officer, lagi: str = "") -> Response:
    context = _context(session, account, {})
    context["nothing_due"] = lagi == "kosong"
    return render(request, TEMPLATE, context)


@router.post(PAGE, include_in_schema=False, dependencies=[Csrf])
def start_settlement(
    request: Request, session: DbSession, account: Admin, period: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Prepare the month's settlements and start today's settlement run when anything is due (sent by the job the
    run is written with); the audit log records the officer."""
    try:
        _prepared, run = settlements.start_run(
            session, period=period, run_date=clock.today_jakarta().date(), actor=account.actor
        )
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, account, {"period": period}))
    return RedirectResponse(f"/pmo/pembayaran/{run.id}" if run is not None else PAGE, status_code=303)


@router.post(AGAIN, include_in_schema=False, dependencies=[Csrf])
def run_settlement_again(
    request: Request, session: DbSession, account: Admin, period: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """ "Jalankan lagi": a further settlement run today for what is due now (audited, with what it found); nothing
    due: back to the page with a notice."""
    try:
        run = settlements.run_again(session, period=period, run_date=clock.today_jakarta().date(), actor=account.actor)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, account, {"period": period}))
    return RedirectResponse(f"/pmo/pembayaran/{run.id}" if run is not None else PAGE + "?lagi=kosong", status_code=303)


@router.post(PAGE + "/tagihan", include_in_schema=False, dependencies=[Csrf])
def claim_back(
    request: Request,
    session: DbSession,
    account: Admin,
    purchase_id: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A purchase refunded after the institution's settlement for its month was paid: the participant's balance
    gets it back, the institution owes it, deducted from its next settlements (audited)."""
    values = {"purchase_id": purchase_id, "amount": amount, "reason": reason}
    try:
        whole = int(amount.strip().replace(".", "")) if amount.strip().replace(".", "").isdigit() else 0
        receivables.refund_after_settlement(
            session, purchase_id=purchase_id, amount=whole, reason=reason.strip(), actor=account.actor
        )
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, account, values))
    return RedirectResponse(PAGE, status_code=303)

"""The participant's balance page, the dashboard's "card" section, and the program office's budget page (money
from the state treasury into a scheme-year's training budget, with the reason the audit log keeps)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError, one_field
from prakerja.kit.ids import new_id, parse_id
from prakerja.kit.money import format_rupiah
from prakerja.ledger import service
from prakerja.ledger.errors import AmountInvalid, ReasonMissing, SchemeUnknown
from prakerja.ledger.schemas import Account as WalletAccount
from prakerja.registration import service as registration
from prakerja.schemes.rules import available
from prakerja.web import dashboard
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.i18n import gettext as _
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter()


def _wallet_of(session: Session, account_id: uuid.UUID) -> WalletAccount | None:
    """A wallet belongs to the participant (the applicant), not to the sign-in account."""
    applicant = registration.applicant_for_account(session, account_id)
    return service.wallet(session, applicant.applicant_id) if applicant is not None else None


BALANCE_PAGE = "/dasbor/saldo"


@router.get(BALANCE_PAGE, include_in_schema=False)
def balance_page(
    request: Request, session: DbSession, account: CurrentAccount = Depends(require_role(Role.applicant))
) -> Response:
    wallet = _wallet_of(session, account.id)
    lines = service.history(session, wallet.id, limit=100) if wallet is not None else []
    return render(request, "ledger/balance.html", {"wallet": wallet, "lines": lines})


def _card(session: Session, account: CurrentAccount, section: dashboard.Section) -> None:
    wallet = _wallet_of(session, account.id)
    if wallet is None:
        return
    section.lines.append(f"{_('Training balance')}: {format_rupiah(wallet.available)}")
    if wallet.balance != wallet.available:
        section.lines.append(f"{_('Being processed')}: {format_rupiah(wallet.balance - wallet.available)}")
    section.link = BALANCE_PAGE


dashboard.register("card", _card)


# ---------------------------------------------------------------------------------------------- budget (PMO)

BUDGET_PAGE = "/pmo/anggaran"
BUDGET_TEMPLATE = "ledger/pmo_budget.html"
Officer = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
Text = Annotated[str, Form(max_length=500)]


def parse_amount(text: str) -> int:
    """Whole rupiah as an officer types it: ``Rp 100.000.000``, ``100 000 000`` or ``100000000``."""
    cleaned = re.sub(r"^rp\.?", "", text.strip().lower()).strip()
    cleaned = re.sub(r"[.\s_]", "", cleaned)
    if not re.fullmatch(r"[0-9]{1,15}", cleaned) or int(cleaned) <= 0:
        raise AmountInvalid(details={"field": "amount"})
    return int(cleaned)


def _budget_context(session: Session, account: CurrentAccount, values: dict[str, str] | None = None) -> dict[str, Any]:
    year = clock.today_jakarta().year
    schemes = available()
    rows = []
    for scheme in schemes:
        for budget_year in (year, year + 1):
            totals = service.program_totals(session, scheme=scheme, year=budget_year)
            left = service.budget_available(session, scheme=scheme, year=budget_year)
            rows.append({"totals": totals, "available": left})
    return {
        "rows": rows,
        "schemes": schemes,
        "years": [year, year + 1],
        "can_allocate": account.role is Role.pmo_admin,
        "values": {"scheme": schemes[-1] if schemes else "", "year": str(year), "transfer_id": str(new_id())}
        | (values or {}),
        "errors": {},
        "error": None,
        "done": None,
    }


@router.get(BUDGET_PAGE, include_in_schema=False)
def budget_page(request: Request, session: DbSession, account: Officer, done: str | None = None) -> Response:
    context = _budget_context(session, account)
    if done:
        context["done"] = done
    return render(request, BUDGET_TEMPLATE, context)


@router.post(BUDGET_PAGE, include_in_schema=False, dependencies=[Csrf])
def budget_allocate(
    request: Request,
    session: DbSession,
    account: Admin,
    scheme: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=8)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    reason: Text = "",
    transfer_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The form carries the transfer's id (made when the form was shown), so a second click of the same form
    allocates once."""
    values = {"scheme": scheme, "year": year, "amount": amount, "reason": reason, "transfer_id": transfer_id}
    try:
        if scheme not in available():
            raise SchemeUnknown(details={"field": "scheme"})
        if not year.strip().isdigit() or not 2000 <= int(year) <= 2200:
            raise one_field("year", "year_invalid", "Tahun anggaran tidak valid.", "The budget year is not valid.")
        rupiah = parse_amount(amount)
        if len(reason.strip()) < 3:
            raise ReasonMissing(details={"field": "reason"})
        service.allocate_budget(
            session,
            transfer_id=parse_id(transfer_id) or new_id(),
            scheme=scheme,
            year=int(year),
            amount=rupiah,
            actor=account.actor,
            reason=reason.strip(),
        )
    except DomainError as error:
        return form_error(request, session, BUDGET_TEMPLATE, error, lambda s: _budget_context(s, account, values))
    return RedirectResponse(f"{BUDGET_PAGE}?done={scheme}:{int(year)}", status_code=303)


add_link(PmoLink(BUDGET_PAGE, "Anggaran pelatihan", "Training budget"))

"""The participant's balance page and the dashboard's "card" section."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.db import session_factory
from prakerja.kit.clock import JAKARTA
from prakerja.kit.money import format_rupiah
from prakerja.ledger import service
from prakerja.ledger.schemas import Account as WalletAccount
from prakerja.registration import service as registration
from prakerja.web import dashboard
from prakerja.web.deps import DbSession, require_role
from prakerja.web.i18n import gettext as _
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
    return render(request, "ledger/balance.html", {"wallet": wallet, "lines": lines, "jakarta": JAKARTA})


def _card(account: CurrentAccount, section: dashboard.Section) -> None:
    with session_factory()() as session:
        wallet = _wallet_of(session, account.id)
    if wallet is None:
        return
    section.lines.append(f"{_('Training balance')}: {format_rupiah(wallet.available)}")
    if wallet.balance != wallet.available:
        section.lines.append(f"{_('Being processed')}: {format_rupiah(wallet.balance - wallet.available)}")
    section.link = BALANCE_PAGE


dashboard.register("card", _card)

"""The payment partner's portal (``/portal/mitra/pembayaran``), phone first: its payout batches with their runs, each
batch's instructions (account numbers masked), the results it reported (applied, or refused with the reason), its
statements and the reconciliation differences found in them. A person sees only their own organisation's data;
an account not yet linked to an organisation is told whom to ask."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.partners.errors import NotAMember
from prakerja.payouts.errors import BatchNotFound
from prakerja.payouts.service import partner_portal
from prakerja.web.deps import DbSession, require_role
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
HOME = "/portal/mitra/pembayaran"
PaymentPartner = Annotated[CurrentAccount, Depends(require_role(Role.payment_partner))]


@router.get(HOME)
def home(request: Request, session: DbSession, account: PaymentPartner) -> Response:
    try:
        desk = partner_portal.desk(session, account.id)
    except NotAMember:
        return render(request, "payouts/partner.html", {"home": None})
    return render(request, "payouts/partner.html", {"home": partner_portal.home(session, desk)})


@router.get(HOME + "/batch/{batch_id}")
def batch(request: Request, session: DbSession, account: PaymentPartner, batch_id: str) -> Response:
    desk = partner_portal.desk(session, account.id)
    try:
        parsed = uuid.UUID(batch_id)
    except ValueError:
        raise BatchNotFound() from None
    return render(request, "payouts/partner_batch.html", {"page": partner_portal.batch(session, desk, parsed)})

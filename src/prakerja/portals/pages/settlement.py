"""A partner's settlement account and the payments it received (``/portal/lembaga/pembayaran``, the same under
``/portal/platform``): the account with its verification status (a change is verified by the bank again), the form
to record it, and each month's settlement with its status, the reason when it is held back, the payments (bank,
masked account, end-to-end id, status) and its statement, the remittance advice (page and CSV)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.config import get_settings
from prakerja.kit.errors import DomainError, RateLimited
from prakerja.kit.ids import parse_id
from prakerja.partners.service import Membership
from prakerja.payouts.errors import SettlementInquiriesLimited
from prakerja.portals import service
from prakerja.web.forms import form_error
from prakerja.web.limits import count_attempt_within
from prakerja.web.templating import render

TEMPLATE = "portals/settlement.html"


def _context(session: Session, organisation: Membership, home: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "page": service.settlement_page(session, organisation),
        "holder": service.settlement_holder(session, organisation),
        "home": home,
        "organisation": organisation,
        "values": values,
        "errors": {},
        "error": None,
    }


def settlement_page(request: Request, session: Session, organisation: Membership, *, home: str) -> Response:
    return render(request, TEMPLATE, _context(session, organisation, home, {}))


INQUIRY_WINDOW = timedelta(hours=1)


def _count_inquiry(organisation: Membership) -> None:
    """Each attempt to record an account (a bank inquiry) counts, refused ones included, per organisation on a
    transaction of its own: past ``settlement_inquiries_per_hour``, 429 ``settlement_inquiries_limited``."""
    try:
        count_attempt_within(
            "settlement_inquiry",
            str(organisation.partner_id),
            limit=get_settings().settlement_inquiries_per_hour,
            window=INQUIRY_WINDOW,
            lockout=INQUIRY_WINDOW,
        )
    except RateLimited as refusal:
        raise SettlementInquiriesLimited(int(refusal.details.get("retry_after", 3600))) from None


def record_account(
    request: Request, session: Session, organisation: Membership, form: dict[str, str], *, home: str, actor: Actor
) -> Response:
    """Record the settlement account; a refusal (bad number, unknown bank, unreachable bank) is shown next to the
    form with nothing written. A refused verification is written (with its reason) and shown on the page."""
    values = {"provider": form.get("provider", "")[:40], "number": form.get("number", "")[:40]}
    try:
        _count_inquiry(organisation)
        service.record_settlement_account(
            session, organisation, provider_id=parse_id(values["provider"]), number=values["number"], actor=actor
        )
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, organisation, home, values))
    return RedirectResponse(f"{home}/pembayaran", status_code=303)


def confirm_account(
    request: Request, session: Session, organisation: Membership, form: dict[str, str], *, home: str, actor: Actor
) -> Response:
    """The bank's OTP: a wrong code is said next to the form (the bank counts it; recorded and audited), an expired
    or locked one rejects the account with its reason; a bad format or no account awaiting one is refused."""
    try:
        confirmed = service.confirm_settlement_account(session, organisation, otp=form.get("otp", "")[:12], actor=actor)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, organisation, home, {}))
    if confirmed:
        return RedirectResponse(f"{home}/pembayaran", status_code=303)
    session.commit()  # the refusal is kept (audited; an expired or locked code rejects the account)
    context = _context(session, organisation, home, {})
    context["otp_wrong"] = True
    return render(request, TEMPLATE, context, status_code=422)

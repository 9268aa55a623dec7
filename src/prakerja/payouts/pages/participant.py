"""The participant's payouts pages: incentives (``/insentif-saya``: what was earned, when it is due, paid, or why
it waits, and any repayment demand), payout accounts (``/rekening-saya``: link a bank account or an e-wallet, the
partner's OTP, statuses and reasons in words). Thin: every decision is the service's."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.kit.money import format_rupiah
from prakerja.payouts import rules, service
from prakerja.payouts.errors import LinkNotFound, NotARecipient, ProviderNotFound
from prakerja.payouts.models import AccountStatus, PayoutAccount
from prakerja.payouts.pages import words
from prakerja.recipients import service as recipients
from prakerja.web import dashboard
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error, pick
from prakerja.web.i18n import gettext
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

Participant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]


def _providers(session: Session) -> list[dict[str, Any]]:
    return [
        {"id": str(p.id), "name": p.name, "kind_words": words.word(words.PROVIDER_KIND, p.kind.value)}
        for p in service.accounts.providers(session)
    ]


def _account_view(session: Session, account: PayoutAccount) -> dict[str, Any]:
    found = service.accounts.provider(session, account.provider_id)
    return {
        "id": str(account.id),
        "provider": found.name if found else "",
        "kind": found.kind.value if found else "",
        "number_masked": account.number_masked,
        "status": account.status.value,
        "status_words": words.word(words.ACCOUNT_STATUS, account.status.value),
        "reason_words": words.word(words.ACCOUNT_FAILURE, account.failure_reason.value)
        if account.failure_reason
        else "",
        "attempts_left": max(0, rules.OTP_ATTEMPTS - account.otp_attempts),
        "linked_at": account.linked_at,
    }


def _accounts_context(session: Session, account: CurrentAccount) -> dict[str, Any]:
    recipient = service.accounts.own_recipient(session, account.id)
    service.accounts.expire_stale_links(session, recipient_id=recipient.id)  # an OTP not entered in time says so
    rows = service.accounts.accounts_of(session, recipient.id)
    return {
        "accounts": [_account_view(session, row) for row in rows],
        "providers": _providers(session),
        "provider": "",
        "number": "",
        "has_active": any(row.status is AccountStatus.active for row in rows),
    }


@router.get("/rekening-saya")
def my_accounts(request: Request, session: DbSession, account: Participant) -> Response:
    return render(request, "payouts/accounts.html", _accounts_context(session, account))


@router.post("/rekening-saya", dependencies=[Csrf])
def link_account(
    request: Request,
    session: DbSession,
    account: Participant,
    provider: Annotated[str, Form(max_length=64)] = "",
    number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        provider_id = parse_id(provider)
        if provider_id is None:
            raise ProviderNotFound(details={"field": "provider"})
        link = service.accounts.start_link(
            session, account_id=account.id, provider_id=provider_id, number=number, actor=account.actor
        )
    except DomainError as error:
        return form_error(
            request,
            session,
            "payouts/accounts.html",
            error,
            lambda s: {**_accounts_context(s, account), "provider": provider, "number": number},
        )
    if link.status is AccountStatus.otp_sent:
        return RedirectResponse(f"/rekening-saya/{link.id}/otp", status_code=303)
    return RedirectResponse("/rekening-saya", status_code=303)


def _link(session: Session, account: CurrentAccount, link_id: str) -> PayoutAccount:
    parsed = parse_id(link_id)
    if parsed is None:
        raise LinkNotFound()
    return service.accounts.own_link(session, account_id=account.id, link_id=parsed)


@router.get("/rekening-saya/{link_id}/otp")
def otp_form(request: Request, session: DbSession, account: Participant, link_id: str) -> Response:
    link = _link(session, account, link_id)
    service.accounts.expire_stale_links(session, recipient_id=link.recipient_id)
    if link.status is not AccountStatus.otp_sent:
        return RedirectResponse("/rekening-saya", status_code=303)
    return render(request, "payouts/otp.html", {"link": _account_view(session, link)})


@router.post("/rekening-saya/{link_id}/otp", dependencies=[Csrf])
def verify_otp(
    request: Request,
    session: DbSession,
    account: Participant,
    link_id: str,
    otp: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    def again(s: Session) -> dict[str, Any]:
        return {"link": _account_view(s, _link(s, account, link_id))}

    try:
        link = _link(session, account, link_id)
        verified = service.accounts.verify_link(
            session, account_id=account.id, link_id=link.id, otp=otp, actor=account.actor
        )
    except DomainError as error:
        return form_error(request, session, "payouts/otp.html", error, again)
    if not verified.wrong_code:
        return RedirectResponse("/insentif-saya?tertaut=1", status_code=303)
    if verified.account.status is AccountStatus.rejected:
        return RedirectResponse("/rekening-saya", status_code=303)
    # the counted attempt is kept (committed with the request); the form comes back with the words
    message = pick("Kode OTP salah. Periksa pesan dari bank atau dompet digital Anda.", "The OTP code is wrong.")
    return render(
        request,
        "payouts/otp.html",
        {"link": _account_view(session, verified.account), "errors": {"otp": message}, "error": message},
        status_code=422,
    )


def _timeline_context(session: Session, recipient_id: uuid.UUID) -> dict[str, Any]:
    found = service.entitlements.timeline(session, recipient_id)
    items = [
        {
            "kind": words.word(words.ENTITLEMENT_KIND, item.kind),
            "instalment": item.instalment,
            "amount": item.amount,
            "status": item.status,
            "status_words": words.word(words.ENTITLEMENT_STATUS, item.status),
            "due_on": item.due_on,
            "paid_at": item.paid_at,
            "reason": item.reason,
            "reason_words": words.word(words.BLOCKED_REASON, item.reason),
        }
        for item in found.items
    ]
    demands = [
        {
            "amount_due": c.amount_due,
            "amount_repaid": c.amount_repaid,
            "due_on": c.due_on,
            "status": c.status.value,
            "status_words": words.word(words.CLAWBACK_STATUS, c.status.value),
            "withdrawn_at": c.withdrawn_at,
            "withdrawal_reason": c.withdrawal_reason,
        }
        for c in service.clawbacks.of_recipient(session, recipient_id)
    ]
    active = service.accounts.active_account(session, recipient_id)
    return {
        "items": items,
        "first_training_done": found.first_training_done,
        "demands": demands,
        "active": _account_view(session, active) if active else None,
    }


@router.get("/insentif-saya")
def my_incentives(request: Request, session: DbSession, account: Participant) -> Response:
    recipient = recipients.recipient_by_account(session, account.id)
    if recipient is None:
        raise NotARecipient()
    context = _timeline_context(session, recipient.id)
    context["just_linked"] = request.query_params.get("tertaut") == "1"
    return render(request, "payouts/incentives.html", context)


def _dashboard(session: Session, account: CurrentAccount, section: dashboard.Section) -> None:
    recipient = recipients.recipient_by_account(session, account.id)
    if recipient is None:
        return
    found = service.entitlements.timeline(session, recipient.id)
    for item in found.items[:6]:
        line = (
            f"{words.word(words.ENTITLEMENT_KIND, item.kind)} {item.instalment}: {format_rupiah(item.amount)} · "
            f"{words.word(words.ENTITLEMENT_STATUS, item.status)}"
        )
        if item.reason:
            line += f" · {words.word(words.BLOCKED_REASON, item.reason)}"
        section.lines.append(line)
    if not found.items:
        section.lines.append(gettext("The incentive is earned after your first training is finished."))
    active = service.accounts.active_account(session, recipient.id)
    if active is None:
        section.lines.append(gettext("No payout account linked yet."))
    section.link = "/insentif-saya"


dashboard.register("incentives", _dashboard)

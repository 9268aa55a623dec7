"""The program office's repayment demands (``/pmo/pengembalian``): every officer sees them; an administrator opens
a demand for a recipient found ineligible (by card number, with the reason) and records repayments. Every action is
audited by the service."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.digits import read_number
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.payouts import service
from prakerja.payouts.errors import AmountInvalid, ClawbackNotFound
from prakerja.payouts.pages import words
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

add_link(PmoLink("/pmo/pengembalian", "Tuntutan pengembalian dana", "Repayment demands"))

PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]


def _amount(value: str, *, optional: bool) -> int | None:
    text = value.strip().replace(".", "")
    if not text and optional:
        return None
    number = read_number(text)
    if number is None or int(number) <= 0:
        raise AmountInvalid()
    return int(number)


def _row(c: Any) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "amount_due": c.amount_due,
        "amount_repaid": c.amount_repaid,
        "due_on": c.due_on,
        "status": c.status.value,
        "status_words": words.word(words.CLAWBACK_STATUS, c.status.value),
        "reason": c.reason,
        "created_at": c.created_at,
        "withdrawn_at": c.withdrawn_at,
        "withdrawal_reason": c.withdrawal_reason,
    }


def _list_context(session: Session) -> dict[str, Any]:
    return {"rows": [_row(c) for c in service.clawbacks.latest(session)], "card_number": "", "amount": "", "reason": ""}


@router.get("/pmo/pengembalian")
def demands(request: Request, session: DbSession, account: PmoStaff) -> Response:
    return render(
        request, "payouts/pmo_clawbacks.html", {**_list_context(session), "can_act": account.role is Role.pmo_admin}
    )


@router.post("/pmo/pengembalian", dependencies=[Csrf])
def open_demand(
    request: Request,
    session: DbSession,
    account: Admin,
    card_number: Annotated[str, Form(max_length=32)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        recipient = service.clawbacks.recipient_by_card(session, card_number)
        found = service.clawbacks.open_clawback(
            session,
            recipient_id=recipient.id,
            amount=_amount(amount, optional=True),
            reason=reason,
            actor=account.actor,
        )
    except DomainError as error:
        return form_error(
            request,
            session,
            "payouts/pmo_clawbacks.html",
            error,
            lambda s: {
                **_list_context(s),
                "can_act": True,
                "card_number": card_number,
                "amount": amount,
                "reason": reason,
            },
        )
    return RedirectResponse(f"/pmo/pengembalian/{found.id}", status_code=303)


def _id(value: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise ClawbackNotFound()
    return parsed


def _detail_context(session: Session, clawback_id: uuid.UUID) -> dict[str, Any]:
    found = service.clawbacks.clawback(session, clawback_id)
    return {
        "c": _row(found),
        "repayments": service.clawbacks.repayments(session, found.id),
        "amount": "",
        "reference": "",
        "withdrawal_reason": "",
    }


@router.get("/pmo/pengembalian/{clawback_id}")
def demand(request: Request, session: DbSession, account: PmoStaff, clawback_id: str) -> Response:
    context = _detail_context(session, _id(clawback_id))
    return render(request, "payouts/pmo_clawback.html", {**context, "can_act": account.role is Role.pmo_admin})


@router.post("/pmo/pengembalian/{clawback_id}/pembayaran", dependencies=[Csrf])
def repay(
    request: Request,
    session: DbSession,
    account: Admin,
    clawback_id: str,
    amount: Annotated[str, Form(max_length=20)] = "",
    reference: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    parsed = _id(clawback_id)
    try:
        service.clawbacks.record_repayment(
            session,
            clawback_id=parsed,
            amount=_amount(amount, optional=False) or 0,
            reference=reference,
            actor=account.actor,
        )
    except DomainError as error:
        return form_error(
            request,
            session,
            "payouts/pmo_clawback.html",
            error,
            lambda s: {**_detail_context(s, parsed), "can_act": True, "amount": amount, "reference": reference},
        )
    return RedirectResponse(f"/pmo/pengembalian/{parsed}", status_code=303)


@router.post("/pmo/pengembalian/{clawback_id}/tarik", dependencies=[Csrf])
def withdraw(
    request: Request,
    session: DbSession,
    account: Admin,
    clawback_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    parsed = _id(clawback_id)
    try:
        service.clawbacks.withdraw(session, clawback_id=parsed, reason=reason, actor=account.actor)
    except DomainError as error:
        return form_error(
            request,
            session,
            "payouts/pmo_clawback.html",
            error,
            lambda s: {**_detail_context(s, parsed), "can_act": True, "withdrawal_reason": reason},
        )
    return RedirectResponse(f"/pmo/pengembalian/{parsed}", status_code=303)

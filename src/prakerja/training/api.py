"""The marketplace's endpoints of the signed partner API (contract ``marketplace-api.md`` sections 1 and 2):
platforms check cards, buy, confirm, cancel and read purchases; institutions redeem vouchers, commit redeem codes
and report completions. Thin: each route translates HTTP to one service call.

Bodies are parsed here from the signed bytes: a body that is not JSON was refused by the partner API (400
``malformed_body``), one that breaks the schema is 422 ``invalid_request``. Every refusal is rolled back (the
count of a wrong one-time code is the one thing a refusal writes, on a transaction of its own) and logged for
review by the partner API's route class, as for every partner endpoint. Signing, roles and idempotent replay come
from the partner API through :func:`mount`, as in ``catalog/api.py``. (No ``from __future__ import annotations``:
FastAPI must see the routes' annotations as objects.)"""

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from prakerja.db import on_loop, unit_of_work
from prakerja.kit.errors import DomainError
from prakerja.partners.schemas import error_responses
from prakerja.partners.service import PartnerCaller, PartnerRole
from prakerja.training import service
from prakerja.training.errors import OtpInvalid
from prakerja.training.schemas import (
    CardInquiry,
    CardOut,
    CompletionCreate,
    CompletionOut,
    PurchaseCancel,
    PurchaseCancelled,
    PurchaseConfirm,
    PurchaseConfirmed,
    PurchaseCreate,
    PurchaseCreated,
    PurchaseOut,
    RedeemCodeCommitted,
    RedeemCodeIn,
    RedeemCodeStatus,
    VoucherRedeem,
    VoucherRedeemed,
)
from prakerja.web.deps import DbSession

M = TypeVar("M", bound=BaseModel)


def _count_wrong_otp(caller: PartnerCaller, purchase_id: str) -> DomainError:
    """The Session ``count_wrong_otp`` on a transaction of its own (a worker thread: it blocks)."""
    with unit_of_work() as own:
        return service.purchases.count_wrong_otp(
            own, purchase_id=purchase_id, platform_id=caller.partner_id, actor=caller.actor
        )


class Idempotent(Protocol):
    def __call__(
        self,
        session: Session,
        request: Request,
        caller: PartnerCaller,
        body: bytes,
        handler: Callable[[], Any],
        status_code: int = 200,
    ) -> Response: ...


class LoopCall(Protocol):
    def __call__(
        self,
        request: Request,
        caller: PartnerCaller,
        body: bytes,
        handler: Callable[[asyncpg.Connection], Awaitable[BaseModel | dict[str, Any]]],
        *,
        status_code: int = 200,
        folds: bool = False,
    ) -> Awaitable[Response]: ...


PurchaseId = Annotated[str, Path(max_length=64, description="The purchase's id, as returned when it was created.")]

CARD_REFUSALS = {404: ("card_not_found",), 422: ("card_revoked", "card_not_active", "invalid_request")}
PURCHASE_REFUSALS = {
    404: ("card_not_found", "purchase_not_found"),
    409: ("purchase_state",),
    422: (
        "card_revoked",
        "card_not_active",
        "insufficient_balance",
        "first_training_unfinished",
        "course_not_listed",
        "platform_account_bound",
        "otp_invalid",
        "otp_expired",
        "invalid_request",
    ),
    429: ("otp_attempts_exceeded",),
}
CODE_REFUSALS = {
    403: ("redeem_code_other_institution",),
    404: ("redeem_code_not_found",),
    409: ("redeem_code_cancelled", "transaction_cancelled", "redeem_code_used", "purchase_state"),
    422: ("redeem_code_type_mismatch", "redeem_code_outside_window", "invalid_request"),
}


@functools.cache
def _json_schema(model: type[BaseModel]) -> str:
    """A request model's JSON Schema, made once a process (pydantic makes it anew at each call, ~5 ms)."""
    return json.dumps(model.model_json_schema())


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route whose handler parses its own body: a fresh copy for each app."""
    schema = json.loads(_json_schema(model))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def parse(model: type[M], body: bytes) -> M:
    """The body, or the app's ``invalid_request`` refusal listing each field."""
    try:
        return model.model_validate_json(body or b"")
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def mount(
    router: APIRouter,
    *,
    require_partner: Callable[..., Callable[..., PartnerCaller]],
    idempotent: Idempotent,
    require_partner_on_loop: Callable[..., Callable[..., Awaitable[PartnerCaller]]],
    loop_call: LoopCall,
) -> APIRouter:
    """Add the marketplace's routes to ``router`` (prefix ``/partner/v1``, the signed route class). Routes on the
    Session frame take ``require_partner`` and ``idempotent``; routes on the loop frame (ADR 0021) take
    ``require_partner_on_loop`` and ``loop_call``."""
    Institution = Annotated[PartnerCaller, Depends(require_partner(PartnerRole.institution))]
    Platform = Annotated[PartnerCaller, Depends(require_partner(PartnerRole.platform))]
    PlatformOnLoop = Annotated[PartnerCaller, Depends(require_partner_on_loop(PartnerRole.platform))]

    async def raw_body(request: Request) -> bytes:
        return await request.body()

    RawBody = Annotated[bytes, Depends(raw_body)]

    # -- section 1: platforms ------------------------------------------------------------------------------------

    @router.post(
        "/cards/inquiry",
        response_model=CardOut,
        responses=error_responses(CARD_REFUSALS),
        openapi_extra=_schema(CardInquiry),
    )
    async def card_inquiry(request: Request, body: RawBody, caller: PlatformOnLoop) -> Response:
        """Platforms only. The card's masked number and holder name, the balance, status and first-purchase
        deadline. A revoked card is refused."""
        data = parse(CardInquiry, body)

        async def inquire(conn: asyncpg.Connection) -> CardOut:
            return await service.purchases.inquiry_on_loop(conn, card_number=data.card_number)

        return await loop_call(request, caller, body, inquire, folds=True)

    @router.post(
        "/purchases",
        status_code=201,
        response_model=PurchaseCreated,
        responses=error_responses(PURCHASE_REFUSALS),
        openapi_extra=_schema(PurchaseCreate),
    )
    async def create_purchase(request: Request, body: RawBody, caller: PlatformOnLoop) -> Response:
        """Platforms only. Reserve the course's listed price in the participant's balance and text them a one-time
        code (valid 5 minutes)."""
        data = parse(PurchaseCreate, body)

        async def create(conn: asyncpg.Connection) -> PurchaseCreated:
            return await service.purchases.create_on_loop(conn, caller=caller, data=data)

        return await loop_call(request, caller, body, create, status_code=201, folds=True)

    @router.post(
        "/purchases/{purchase_id}/confirm",
        response_model=PurchaseConfirmed,
        responses=error_responses(PURCHASE_REFUSALS),
        openapi_extra=_schema(PurchaseConfirm),
    )
    async def confirm_purchase(
        request: Request, body: RawBody, caller: PlatformOnLoop, purchase_id: PurchaseId
    ) -> Response:
        """Platforms only. The participant's one-time code gives the voucher. A wrong code counts: the fifth
        cancels the purchase (429) and releases the reserve."""
        data = parse(PurchaseConfirm, body)

        async def confirm(conn: asyncpg.Connection) -> PurchaseConfirmed:
            return await service.purchases.confirm_on_loop(conn, caller=caller, purchase_id=purchase_id, otp=data.otp)

        try:
            return await loop_call(request, caller, body, confirm, folds=True)
        except OtpInvalid:
            pass  # the frame rolled the confirmation back (and released the purchase's lock): count it on its own
        async with on_loop() as conn:
            error = await service.purchases.count_wrong_otp_on_loop(conn, caller=caller, purchase_id=purchase_id)
        if error is None:  # the fifth wrong code (cancel and void) or a purchase no longer awaiting its code
            error = await run_in_threadpool(_count_wrong_otp, caller, purchase_id)
        raise error

    @router.post(
        "/purchases/{purchase_id}/cancel",
        response_model=PurchaseCancelled,
        responses=error_responses(PURCHASE_REFUSALS),
        openapi_extra=_schema(PurchaseCancel),
    )
    def cancel_purchase(
        request: Request, session: DbSession, body: RawBody, caller: Platform, purchase_id: PurchaseId
    ) -> Response:
        """Platforms only. Cancel before the voucher is redeemed: the reserve returns to the balance."""
        data = parse(PurchaseCancel, body)
        return idempotent(
            session,
            request,
            caller,
            body,
            lambda: service.purchases.cancel(
                session,
                purchase_id=purchase_id,
                platform_id=caller.partner_id,
                reason=data.reason,
                actor=caller.actor,
            ),
        )

    @router.get(
        "/purchases/{purchase_id}",
        response_model=PurchaseOut,
        responses=error_responses({404: ("purchase_not_found",)}),
    )
    def read_purchase(request: Request, session: DbSession, caller: Platform, purchase_id: PurchaseId) -> Response:
        """Platforms only, their own purchases: status, course, amount, voucher and the sessions."""
        found = service.purchases.read(session, purchase_id=purchase_id, platform_id=caller.partner_id)
        return JSONResponse(found.model_dump(mode="json"))

    # -- section 2: institutions ---------------------------------------------------------------------------------

    @router.post(
        "/vouchers/redeem",
        response_model=VoucherRedeemed,
        responses=error_responses(
            {
                403: ("voucher_other_institution",),
                404: ("voucher_not_found",),
                409: ("voucher_used", "transaction_cancelled"),
                422: ("invalid_request",),
            }
        ),
        openapi_extra=_schema(VoucherRedeem),
    )
    def redeem_voucher(request: Request, session: DbSession, body: RawBody, caller: Institution) -> Response:
        """Institutions only, their own courses' vouchers. Starts the participant's training."""
        data = parse(VoucherRedeem, body)
        return idempotent(
            session,
            request,
            caller,
            body,
            lambda: service.delivery.redeem_voucher(
                session, institution_id=caller.partner_id, voucher_code=data.voucher_code, actor=caller.actor
            ),
        )

    @router.post(
        "/redeem-codes/status",
        response_model=RedeemCodeStatus,
        responses=error_responses(CODE_REFUSALS),
        openapi_extra=_schema(RedeemCodeIn),
    )
    def redeem_code_status(request: Request, session: DbSession, body: RawBody, caller: Institution) -> Response:
        """Institutions only. A session code's state (``valid``, ``used`` or ``cancelled``) and its window."""
        data = parse(RedeemCodeIn, body)
        return idempotent(
            session,
            request,
            caller,
            body,
            lambda: service.delivery.code_status(
                session,
                institution_id=caller.partner_id,
                redeem_code=data.redeem_code,
                training_type=data.training_type,
            ),
        )

    @router.post(
        "/redeem-codes/commit",
        response_model=RedeemCodeCommitted,
        responses=error_responses(CODE_REFUSALS),
        openapi_extra=_schema(RedeemCodeIn),
    )
    def commit_redeem_code(request: Request, session: DbSession, body: RawBody, caller: Institution) -> Response:
        """Institutions only. The participant attends the session: valid from 1 hour before to 1 hour after its
        start. The attendance proof is consulted; a failed proof sends the completion to review."""
        data = parse(RedeemCodeIn, body)
        return idempotent(
            session,
            request,
            caller,
            body,
            lambda: service.delivery.commit_code(
                session,
                institution_id=caller.partner_id,
                redeem_code=data.redeem_code,
                training_type=data.training_type,
                actor=caller.actor,
            ),
        )

    @router.post(
        "/completions",
        status_code=201,
        response_model=CompletionOut,
        responses=error_responses(
            {
                404: ("purchase_not_found",),
                409: ("completion_exists", "purchase_state"),
                422: ("attendance_missing", "completion_too_early", "invalid_request"),
            }
        ),
        openapi_extra=_schema(CompletionCreate),
    )
    def report_completion(request: Request, session: DbSession, body: RawBody, caller: Institution) -> Response:
        """Institutions only. Refused, in this order: ``completion_exists``, ``attendance_missing``,
        ``completion_too_early``. Bursts and impossible timing go to review (``in_review``, no certificate yet);
        otherwise the payment is captured and the certificate issued."""
        data = parse(CompletionCreate, body)
        return idempotent(
            session,
            request,
            caller,
            body,
            lambda: service.completions.report(
                session, institution_id=caller.partner_id, data=data, actor=caller.actor
            ),
            status_code=201,
        )

    return router


__all__ = ["mount"]

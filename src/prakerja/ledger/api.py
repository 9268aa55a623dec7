"""JSON routes under ``/api/v1/ledger`` for the program office. Every money-moving POST needs an
``Idempotency-Key``; the body carries the transfer ids themselves, so retries are safe twice over."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.idempotency import service as idempotency
from prakerja.kit.idempotency import REPLAYED_HEADER
from prakerja.ledger import service
from prakerja.ledger.models import LedgerCode
from prakerja.ledger.schemas import Account, AccountCreate, HistoryLine, ProgramTotals, TransferCreate
from prakerja.web.deps import DbSession, require_role

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])

Officer = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required: 1-255 visible ASCII characters (0x21-0x7E, no space); "
        "400 `idempotency_key_required` without it.",
    ),
]
"""Declared optional so that a missing key is our 400 ``idempotency_key_required`` rather than a validation error;
the OpenAPI document marks it required (``web.openapi``)."""


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def _idempotent(
    session: Session,
    request: Request,
    account: CurrentAccount,
    key: str | None,
    body: bytes,
    handler: Callable[[], Any],
    status_code: int = 201,
) -> Response:
    """The first response's exact bytes again for a repeated request (``Idempotent-Replayed: true``)."""
    outcome = idempotency.run(
        session,
        scope=f"account:{account.id}",
        key=key,
        method=request.method,
        path=request.url.path,
        body=body,
        handler=lambda: (status_code, bytes(JSONResponse(jsonable_encoder(handler())).body)),
    )
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else None
    return Response(outcome.body, status_code=outcome.status_code, headers=headers, media_type="application/json")


class TransfersCreate(BaseModel):
    """A linked chain: every transfer is created, or none."""

    model_config = ConfigDict(extra="forbid")

    transfers: list[TransferCreate] = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=500)


class BudgetAllocate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: uuid.UUID
    scheme: str = Field(max_length=64)
    year: int = Field(ge=2000, le=2200)
    amount: Any = None
    ledger: LedgerCode = LedgerCode.training
    reason: str = Field(default="", max_length=500)


class WalletFund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: uuid.UUID
    scheme: str = Field(max_length=64)
    year: int = Field(ge=2000, le=2200)
    amount: Any = None
    """Defaults to the scheme's training balance."""


class WalletForfeit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: uuid.UUID
    reason: str = Field(min_length=3, max_length=500)


@router.post("/accounts", status_code=201, response_model=Account)
def open_account(data: AccountCreate, session: DbSession, account: Admin) -> Account:
    """Open an account (or return the existing one for the same ledger, kind and owner)."""
    return service.open_account(session, data)


@router.get("/accounts/{account_id}", response_model=Account)
def get_account(account_id: uuid.UUID, session: DbSession, account: Officer) -> Account:
    return service.get_account(session, account_id)


@router.get("/accounts/{account_id}/history", response_model=list[HistoryLine])
def account_history(account_id: uuid.UUID, session: DbSession, account: Officer, limit: int = 100) -> list[HistoryLine]:
    """Newest first, with the posted balance after each transfer."""
    return service.history(session, account_id, limit=max(1, min(limit, 1000)))


@router.post("/transfers", status_code=201)
def create_transfers(
    data: TransfersCreate,
    request: Request,
    session: DbSession,
    account: Admin,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a linked chain of transfers (posted, pending, post_pending, void_pending): all or nothing."""

    def handler() -> Any:
        transfers, created = service.create_or_find_transfers(session, data.transfers)
        if created:
            service.record_officer_transfers(session, account.actor, transfers, reason=data.reason)
        return transfers

    return _idempotent(session, request, account, idempotency_key, body, handler)


@router.post("/budgets", status_code=201)
def allocate_budget(
    data: BudgetAllocate,
    request: Request,
    session: DbSession,
    account: Admin,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Treasury -> the scheme-year budget."""
    return _idempotent(
        session,
        request,
        account,
        idempotency_key,
        body,
        lambda: service.allocate_budget(
            session,
            transfer_id=data.transfer_id,
            scheme=data.scheme,
            year=data.year,
            amount=data.amount,
            actor=account.actor,
            ledger=data.ledger,
            reason=data.reason,
        ),
    )


@router.get("/wallets/{participant_id}", response_model=Account)
def get_wallet(participant_id: uuid.UUID, session: DbSession, account: Officer) -> Account:
    return service.wallet_or_404(session, participant_id)


@router.post("/wallets/{participant_id}/fund", status_code=201)
def fund_wallet(
    participant_id: uuid.UUID,
    data: WalletFund,
    request: Request,
    session: DbSession,
    account: Officer,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Budget -> the participant's training wallet."""
    return _idempotent(
        session,
        request,
        account,
        idempotency_key,
        body,
        lambda: service.fund_wallet(
            session,
            transfer_id=data.transfer_id,
            participant_id=participant_id,
            scheme=data.scheme,
            year=data.year,
            actor=account.actor,
            amount=data.amount,
        ),
    )


@router.post("/wallets/{participant_id}/forfeit", status_code=201)
def forfeit_wallet(
    participant_id: uuid.UUID,
    data: WalletForfeit,
    request: Request,
    session: DbSession,
    account: Admin,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Revocation: everything available in the wallet -> Kas Negara. ``null`` when nothing was left."""
    return _idempotent(
        session,
        request,
        account,
        idempotency_key,
        body,
        lambda: service.forfeit_wallet(
            session,
            transfer_id=data.transfer_id,
            participant_id=participant_id,
            actor=account.actor,
            reason=data.reason,
        ),
    )


@router.get("/totals/{scheme}/{year}", response_model=ProgramTotals)
def program_totals(
    scheme: Annotated[str, Path(max_length=64)],
    year: Annotated[int, Path(ge=2000, le=2200)],
    session: DbSession,
    account: Officer,
) -> ProgramTotals:
    """Training money of a scheme-year: budget, committed, spent, refunded, forfeited, pending."""
    return service.program_totals(session, scheme=scheme, year=year)

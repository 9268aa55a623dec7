"""``POST /payouts/v1/callbacks/{code}``: payment partners report results (docs/payouts-partner-interface.md 4.3).

401 for a bad or stale signature (the refusal is recorded), 404 ``unknown_provider``, 422 for a body that is not
a result; otherwise 200 ``{"received": true}`` once the report is stored, whether it was applied or not (unknown
end-to-end id, amount mismatch, duplicate, stale: kept in ``payouts_results`` with the reason, never applied)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prakerja.kit.clock import utcnow
from prakerja.payouts.models import ResultSource
from prakerja.payouts.providers import signing
from prakerja.payouts.providers.paying import Report
from prakerja.payouts.repository import runs as repository
from prakerja.payouts.service import results
from prakerja.web.deps import DbSession

router = APIRouter(prefix="/payouts/v1", tags=["payouts"])


class Callback(BaseModel):
    """One result a partner reports."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=100)
    end_to_end_id: str = Field(min_length=1, max_length=35)
    status: Literal["succeeded", "failed", "reversed"]
    reason: str | None = Field(default=None, max_length=40)
    amount: int = Field(gt=0)
    occurred_at: datetime


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _refusal(status: int, code: str, message: str, message_en: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "message_en": message_en, "details": {}}, status_code=status)


class Received(BaseModel):
    received: bool


@router.post(
    "/callbacks/{code}",
    response_model=Received,
    responses={
        401: {"description": "`bad_signature`: missing, wrong or stale Standard Webhooks signature (recorded)"},
        404: {"description": "`unknown_provider`"},
        422: {"description": "`malformed_callback`: the body is not a result"},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": Callback.model_json_schema()}}}
    },
)
def callback(
    code: str, request: Request, session: DbSession, body: Annotated[bytes, Depends(_raw_body)]
) -> JSONResponse:
    now = utcnow()
    provider = repository.provider_by_code(session, code[:16])
    if provider is None:
        return _refusal(404, "unknown_provider", "Mitra pembayaran tidak dikenal.", "Unknown payment partner.")
    if not signing.callback_valid(provider.api_secret, request.headers, body, now=now):
        try:
            claimed = str(json.loads(body).get("end_to_end_id", ""))
        except (ValueError, AttributeError, UnicodeDecodeError):
            claimed = ""
        results.record_refusal(
            session, provider, source=ResultSource.callback, end_to_end_id=claimed, rejection="bad_signature", now=now
        )
        return _refusal(401, "bad_signature", "Tanda tangan tidak sah.", "Invalid signature.")
    try:
        data = Callback.model_validate_json(body)
    except ValidationError:
        return _refusal(422, "malformed_callback", "Isi laporan tidak sah.", "Malformed callback body.")
    report = Report(
        end_to_end_id=data.end_to_end_id,
        status=data.status,
        reason=data.reason,
        amount=data.amount,
        occurred_at=data.occurred_at,
    )
    results.apply_report(session, provider, report, source=ResultSource.callback, event_id=data.event_id, now=now)
    return JSONResponse({"received": True})

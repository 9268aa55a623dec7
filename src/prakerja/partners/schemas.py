"""Shapes of the partner API: the error body and the error codes each status can carry (for OpenAPI)."""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel

from prakerja.registration.schemas import ListImportOut

ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("idempotency_key_required", "invalid_request", "malformed_body", "nul_character"),
    401: (
        "missing_signature",
        "bad_signature",
        "unknown_client",
        "stale_timestamp",
        "replayed_request",
        "credential_revoked",
    ),
    403: ("partner_role_forbidden",),
    409: ("idempotency_key_in_use",),
    413: ("body_too_large", "list_file_too_large"),
    422: ("idempotency_key_mismatch", "invalid_request", "invalid_value"),
    429: ("rate_limited",),
}
"""Codes any signed endpoint can answer with; an endpoint adds its own (see :func:`error_responses`)."""

_TITLES = {
    400: "Malformed request",
    401: "Authentication failed",
    403: "Not allowed for this partner's role",
    409: "State conflict",
    413: "Body too large",
    422: "Validation or business-rule refusal",
    429: "Too many requests from this credential (see Retry-After)",
}


class PartnerError(BaseModel):
    """Every error of the partner API (contract section 3)."""

    code: str
    """Stable snake_case code."""
    message: str
    """Bahasa Indonesia."""
    message_en: str
    details: dict[str, Any]


class Ping(BaseModel):
    client_code: str
    partner: str
    role: str
    server_time: int
    """Our clock, Unix seconds: compare with yours if you get ``stale_timestamp``."""


class PartnerListImportOut(ListImportOut):
    """The registration domain's import summary, with the provenance the ministry sent back to it."""

    as_of: datetime.date
    source: str


def error_responses(extra: dict[int, tuple[str, ...]] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: every status with the codes it may carry, listed in the description and in
    an ``x-error-codes`` extension of the response."""
    codes = {status: list(found) for status, found in ERROR_CODES.items()}
    for status, more in (extra or {}).items():
        codes.setdefault(status, [])
        codes[status] += [c for c in more if c not in codes[status]]
    return {
        status: {
            "model": PartnerError,
            "description": f"{_TITLES.get(status, 'Error')}. Codes: " + ", ".join(f"`{c}`" for c in found),
            "x-error-codes": found,
        }
        for status, found in sorted(codes.items())
    }


class WebhookDeliveryAttempt(BaseModel):
    """One attempt to deliver one event to one of your endpoints."""

    event_id: str
    """The ``webhook-id`` header the event was sent with (the same for every attempt)."""
    type: str
    """e.g. ``purchase.confirmed``."""
    endpoint_id: str
    attempt: int
    """1 for the first attempt."""
    attempted_at: datetime.datetime
    status: str
    """``succeeded``, ``retrying`` (tried again at ``next_attempt_at``), ``failed`` (not tried again) or
    ``endpoint_disabled`` (your endpoint answered 410 and is disabled)."""
    status_code: int | None
    """Your endpoint's HTTP status; null when no answer came (see ``error``)."""
    error: str | None
    """``timeout`` or ``connection_error`` when no answer came."""
    next_attempt_at: datetime.datetime | None


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryAttempt]
    """Oldest first."""
    next_cursor: str | None
    """Pass as ``after`` to read the next page; null on the last one."""

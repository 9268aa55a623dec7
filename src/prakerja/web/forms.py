"""What every form page does with a refusal: roll the request's transaction back and show the form again with the
message next to each field, in the reader's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from prakerja.kit.errors import DomainError, response_headers
from prakerja.web.i18n import current_language
from prakerja.web.templating import render


def pick(message_id: str, message_en: str) -> str:
    """The Indonesian or the English text, by the request's language."""
    return message_id if current_language.get() == "id" else message_en


def field_errors(error: DomainError) -> dict[str, str]:
    """``{field: message}`` from ``details["fields"]`` (``[{field, message, message_en}]``, or a mapping of field
    to hint) or ``details["field"]``; the first message of a field wins."""
    fields = error.details.get("fields") or []
    found: dict[str, str] = {}
    if isinstance(fields, dict):
        return dict.fromkeys(fields, pick(error.message, error.message_en))
    for item in fields:
        if isinstance(item, dict) and "field" in item and item["field"] not in found:
            found[item["field"]] = pick(item.get("message", error.message), item.get("message_en", error.message_en))
    if not found and "field" in error.details:
        found[error.details["field"]] = pick(error.message, error.message_en)
    return found


def form_error(
    request: Request,
    session: Session | None,
    template: str,
    error: DomainError,
    context: dict[str, Any] | Any,
) -> Response:
    """Roll back what the request wrote (nothing half-done is committed), then render ``template`` with
    ``errors`` (per field) and ``error`` (the summary) and the refusal's status. ``context`` is a dict, or a
    function of the session that builds one after the rollback (for pages that list what is stored)."""
    if session is not None:
        session.rollback()
    base = context(session) if callable(context) else context
    page = render(
        request,
        template,
        {**base, "errors": field_errors(error), "error": pick(error.message, error.message_en)},
        status_code=error.status_code,
    )
    page.headers.update(response_headers(error) or {})
    return page

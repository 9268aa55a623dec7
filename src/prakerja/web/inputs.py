"""One check every route gets (an app-wide dependency): no NUL character in any decoded path segment, query
parameter, form field or JSON string. PostgreSQL cannot store one in a text column, so without this a NUL reached
the database as a 500; now it is 400 ``nul_character`` before the route runs, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from prakerja.kit.errors import DomainError

NUL = "\x00"


class NulCharacter(DomainError):
    status_code = 400
    code = "nul_character"
    message = "Permintaan berisi karakter NUL (0x00) yang tidak diizinkan."
    message_en = "The request holds a NUL character (0x00), which is not allowed."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


async def refuse_nul(request: Request) -> None:
    """FastAPI has read and parsed the body before dependencies run: the parsed form (Starlette keeps it on the
    request) and the JSON body's bytes are checked as they are, nothing is read twice. Uploaded files' contents
    are data, not text fields, and are not checked."""
    where = None
    if NUL in request.scope["path"] or any(_has_nul(v) for v in request.path_params.values()):
        where = "path"
    elif request.scope.get("query_string") and any(NUL in k or NUL in v for k, v in request.query_params.multi_items()):
        where = "query"
    else:
        form = getattr(request, "_form", None)
        if form is not None and any(isinstance(v, str) and (NUL in v or NUL in k) for k, v in form.multi_items()):
            where = "form"
        elif (
            "json" in request.headers.get("content-type", "json")
            and getattr(request, "_body", None)
            and b"\\u0000" in request._body
        ):
            # a JSON string can hold NUL only as the escape \u0000: parse to be sure it is one (not "\\u0000")
            try:
                parsed = json.loads(request._body)
            except ValueError:
                parsed = None
            if _has_nul(parsed):
                where = "body"
    if where is not None:
        raise NulCharacter(details={"in": where})

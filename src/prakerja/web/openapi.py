"""The OpenAPI document and its pages (``/openapi.json``, ``/docs``, ``/redoc``).

Every JSON route's error responses are documented with the one error body ``{code, message, message_en,
details}`` (``web.errors``): routes list their own codes with ``responses=``; the statuses any route of the kind can
answer with are added here. ``Idempotency-Key`` is declared optional in the routes (so a missing key is our 400
``idempotency_key_required``, not a validation error) and marked required here on the writes that need it.

In production the document and its pages are for signed-in officers only (the partners' copy of the contract
lists the same codes); elsewhere they are open."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from prakerja.auth.models import PMO_ROLES
from prakerja.config import get_settings
from prakerja.kit.errors import Forbidden, Unauthenticated
from prakerja.web.deps import OptionalAccount

ERROR_SCHEMA = "ErrorBody"
_ERROR_BODY = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "description": "Every error: a stable code, the message in Bahasa Indonesia and in English, and details.",
    "properties": {
        "code": {"type": "string", "description": "Stable snake_case code."},
        "message": {"type": "string", "description": "Bahasa Indonesia."},
        "message_en": {"type": "string"},
        "details": {"type": "object", "additionalProperties": True},
    },
    "required": ["code", "message", "message_en", "details"],
}

_WRITES = {"post", "put", "patch", "delete"}
_COMMON: dict[str, tuple[str, tuple[str, ...]]] = {
    "400": ("Malformed request", ("nul_character", "idempotency_key_required", "csrf_failed")),
    "401": ("Not signed in", ("unauthenticated",)),
    "403": ("Not allowed for this account's role", ("forbidden", "csrf_failed")),
    "404": ("Not found", ("not_found",)),
    "409": ("State conflict", ("conflict", "idempotency_key_in_use")),
    "413": ("Body too large", ("body_too_large",)),
    "422": ("Validation or business-rule refusal", ("invalid_request", "invalid_value", "idempotency_key_mismatch")),
    "429": ("Too many requests (see Retry-After)", ("rate_limited",)),
}


def _statuses(path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses a route of this kind can answer with."""
    found = ["400", "422"]
    if path.startswith(("/api/", "/partner/")):
        found += ["401", "403", "404", "409"]
    if path.startswith("/partner/"):
        found += ["413", "429"]
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        found.append("413")
    return found


def _ref(name: str) -> dict[str, str]:
    return {"$ref": "#/components/schemas/" + name}


def build(app: FastAPI) -> dict[str, Any]:
    """The document, computed once per app."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    document.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA] = _ERROR_BODY
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _WRITES | {"get", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            # FastAPI's own validation-error schema is not what we send: our handler answers with the error body
            validation = responses.get("422", {})
            if "HTTPValidationError" in str(validation.get("content", {})):
                del responses["422"]
            for status in _statuses(path, operation):
                if status in responses:
                    continue
                title, codes = _COMMON[status]
                responses[status] = {
                    "description": f"{title}. Codes: " + ", ".join(f"`{c}`" for c in codes),
                    "content": {"application/json": {"schema": _ref(ERROR_SCHEMA)}},
                    "x-error-codes": list(codes),
                }
            if method in _WRITES:
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                        parameter["required"] = True
                        parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
    schemas = document["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and unused not in str(document["paths"]):
            del schemas[unused]
    app.openapi_schema = document
    return document


def _docs_access(request: Request, account: OptionalAccount) -> None:
    """Production: signed-in officers only (401 signed out, 403 another role)."""
    if get_settings().env != "production":
        return
    if account is None:
        raise Unauthenticated()
    if account.role not in PMO_ROLES:
        raise Forbidden()


DocsAccess = Depends(_docs_access)


def _inline_script_hashes(html: str) -> str:
    """CSP hashes of the inline scripts FastAPI's documentation pages carry (nothing else may run inline)."""
    hashes = []
    for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes)


_CDN = "https://cdn.jsdelivr.net"


def _docs_page(response: HTMLResponse) -> Response:
    html = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {_CDN} {_inline_script_hashes(html)}; "
        f"style-src 'self' {_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src 'self' https://fonts.gstatic.com; "
        f"img-src 'self' data: https://fastapi.tiangolo.com; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
    return response


def install(app: FastAPI) -> None:
    """Serve the document and its pages from here (the app is created with FastAPI's own turned off)."""
    router = APIRouter(include_in_schema=False, dependencies=[DocsAccess])

    @router.get("/openapi.json")
    def openapi_document() -> Response:
        return JSONResponse(build(app))

    @router.get("/docs")
    def swagger() -> Response:
        return _docs_page(get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} API"))

    @router.get("/redoc")
    def redoc() -> Response:
        return _docs_page(get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} API"))

    app.include_router(router)
    app.openapi = lambda: build(app)  # type: ignore[method-assign]

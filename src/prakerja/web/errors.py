"""The one error handler: a domain error becomes JSON ``{code, message, message_en, details}`` for API
callers and an error page for people."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError as SQLAlchemyDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from prakerja.kit.errors import DomainError, Unauthenticated, ValidationFailed, response_headers
from prakerja.web import i18n
from prakerja.web.templating import render

log = logging.getLogger(__name__)

_HTTP_CODES = {
    404: ("not_found", "Halaman tidak ditemukan.", "Page not found."),
    405: ("method_not_allowed", "Metode tidak diizinkan.", "Method not allowed."),
}


class InvalidValue(ValidationFailed):
    code = "invalid_value"
    message = "Salah satu nilai yang dikirim tidak dapat diterima (terlalu besar atau berisi karakter terlarang)."
    message_en = "A value sent cannot be accepted (too large, or holding a forbidden character)."


_MACHINE_PATHS = frozenset({"/metrics", "/openapi.json"})
"""Read by programs (a metrics scraper, API tools): refusals are JSON, never a redirect to the sign-in page."""


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/partner/")) or path in _MACHINE_PATHS:
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, error: DomainError, headers: Mapping[str, str] | None = None) -> Response:
    """JSON for API callers, a page for people; ``headers`` (e.g. a 405's ``Allow``) are sent either way."""
    extra = dict(headers or {})
    extra.update(response_headers(error) or {})  # Retry-After on every 429
    if wants_json(request):
        return JSONResponse(error.to_dict(), status_code=error.status_code, headers=extra or None)
    if isinstance(error, Unauthenticated) and error.code == "unauthenticated":
        return RedirectResponse(f"/masuk?next={quote(request.url.path)}", status_code=303)
    message = error.message if i18n.current_language.get() == "id" else error.message_en
    response = render(request, "error.html", {"error": error, "message": message}, status_code=error.status_code)
    response.headers.update(extra)
    return response


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own ``Allow`` names only the first route's)."""
    methods = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return ", ".join(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        fields = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in error.errors()
        ]
        return error_response(
            request,
            DomainError(
                "Data yang dikirim tidak valid.",
                "The submitted data is not valid.",
                code="invalid_request",
                status_code=422,
                details={"fields": fields},
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code, message, message_en = _HTTP_CODES.get(
            error.status_code,
            ("http_error", "Permintaan tidak dapat diproses.", "The request cannot be processed."),
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(
            request, DomainError(message, message_en, code=code, status_code=error.status_code), headers
        )

    @app.exception_handler(SQLAlchemyDataError)
    async def data_error(request: Request, error: SQLAlchemyDataError) -> Response:
        # the database refused a value (a number past its column's type, a NUL character, text it cannot hold):
        # input the routes' own checks should have refused; the request's transaction is rolled back
        log.warning("value refused by the database", extra={"error_type": type(error.orig).__name__})
        return error_response(request, InvalidValue())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(
            request,
            DomainError(
                "Terjadi kesalahan pada sistem. Silakan coba lagi.",
                "Something went wrong on our side. Please try again.",
                code="internal_error",
                status_code=500,
            ),
        )

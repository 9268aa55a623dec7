"""The one error handler: a domain error becomes JSON ``{code, message, message_en, details}`` for API
callers and an error page for people."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from prakerja.kit.errors import DomainError, Unauthenticated, response_headers
from prakerja.web import i18n
from prakerja.web.templating import render

log = logging.getLogger(__name__)

_HTTP_CODES = {
    404: ("not_found", "Halaman tidak ditemukan.", "Page not found."),
    405: ("method_not_allowed", "Metode tidak diizinkan.", "Method not allowed."),
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/partner/")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, error: DomainError) -> Response:
    if wants_json(request):
        return JSONResponse(error.to_dict(), status_code=error.status_code, headers=response_headers(error))
    if isinstance(error, Unauthenticated) and error.code == "unauthenticated":
        return RedirectResponse(f"/masuk?next={request.url.path}", status_code=303)
    message = error.message if i18n.current_language.get() == "id" else error.message_en
    page = render(request, "error.html", {"error": error, "message": message}, status_code=error.status_code)
    page.headers.update(response_headers(error) or {})
    return page


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
        return error_response(request, DomainError(message, message_en, code=code, status_code=error.status_code))

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

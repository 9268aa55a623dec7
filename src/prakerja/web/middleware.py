"""Request ids, language, CSRF cookie, JSON access logs and Prometheus metrics: one middleware."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from prakerja.config import get_settings
from prakerja.kit.context import request_id_var
from prakerja.web import i18n
from prakerja.web.deps import CSRF_COOKIE

log = logging.getLogger("prakerja.access")

REQUESTS = Counter("prakerja_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("prakerja_http_request_seconds", "HTTP request latency", ["method", "route"])

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LANG_COOKIE = "prakerja_lang"


def install(app: FastAPI) -> None:
    settings = get_settings()
    secure = settings.cookie_secure or settings.env == "production"

    @app.middleware("http")
    async def shell(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        rid_token = request_id_var.set(request_id)
        language = i18n.pick_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
            settings.default_language,
        )
        lang_token = i18n.current_language.set(language)
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.csrf_token = csrf
        request.state.user = None
        request.state.request_id = request_id
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            route_name = getattr(route, "path", "unmatched")
            REQUESTS.labels(request.method, route_name, str(status)).inc()
            LATENCY.labels(request.method, route_name).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "route": route_name,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(rid_token)
            i18n.current_language.reset(lang_token)
        response.headers["X-Request-ID"] = request_id
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, secure=secure, samesite="lax")
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, secure=secure, samesite="lax")
        return response

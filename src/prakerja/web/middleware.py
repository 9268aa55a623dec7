"""Request ids, language, CSRF and device cookies, JSON access logs and Prometheus metrics: one middleware.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which runs every request in an extra task group
and re-streams the body: about half of the web stack's time per request before this change, docs/benchmarks.md)."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prakerja.config import get_settings
from prakerja.kit.context import request_id_var
from prakerja.web import i18n
from prakerja.web.deps import CSRF_COOKIE, DEVICE_COOKIE

log = logging.getLogger("prakerja.access")

REQUESTS = Counter("prakerja_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("prakerja_http_request_seconds", "HTTP request latency", ["method", "route"])

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
LANG_COOKIE = "prakerja_lang"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 86400
"""The device cookie lives two years: it identifies a browser, not a person or a session."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""Pages load scripts and styles only from ``/static`` (no inline script, style element or attribute; a test
crawls the pages for them). A route may send its own policy (the API documentation pages do)."""

_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
"""Production only: browsers then refuse plain HTTP to the site for a year."""
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def relative_location(location: str, host: str | None) -> str | None:
    """A redirect to our own host made relative (``/path?query``), so a forged ``Host`` header cannot send the
    browser elsewhere (Starlette's trailing-slash redirect builds an absolute URL from it). None: leave as is."""
    if not host or not location.startswith(("http://", "https://")):
        return None
    parsed = urlsplit(location)
    if parsed.netloc.lower() != host.lower():
        return None
    return (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")


def cookie_header(name: str, value: str, *, secure: bool, httponly: bool = True, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value in the form Starlette's ``Response.set_cookie`` writes (path ``/``, SameSite=Lax)."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "lax"
    if max_age is not None:
        morsel["max-age"] = max_age
    if httponly:
        morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    return cookie.output(header="").strip()


_MACHINE_PREFIXES = ("/partner/", "/payouts/v1/")
"""Paths called by machines, not browsers (the signed partner API, payment partners' callbacks)."""


def device_id(cookies: dict[str, str]) -> tuple[str, bool]:
    """The browser's device identifier from our cookie, or a new random one (and whether it is new)."""
    found = cookies.get(DEVICE_COOKIE, "")
    if _DEVICE_ID.match(found):
        return found, False
    return secrets.token_urlsafe(24), True


JSON_API_PREFIX = "/api/"
"""Our internal JSON API: browsers call it with their cookies, but it renders no page."""

AnswerHook = Callable[[Scope, Mapping[str, str], MutableHeaders], None]
"""Called with the request's scope, its cookies and the answer's headers as a browser's answer starts (machine paths
get none): a domain adds its own header there (the development mailbox's claim) without a middleware layer of its
own (each layer wraps every request's ``send``)."""

_ACCEPT_LANGUAGE = b"accept-language"
_COOKIE = b"cookie"
_HOST = b"host"
_X_REQUEST_ID = b"x-request-id"


def _may_name_lang(query: bytes | None) -> bool:
    """Whether a raw query string can hold a ``lang`` parameter: spelled out, or percent-escaped (the only other way
    to write those four letters); a query without either (a partner's nonce) is not parsed."""
    return bool(query) and (b"lang" in query or b"%" in query)  # type: ignore[operator]


class ShellMiddleware:
    def __init__(self, app: ASGIApp, answer_hooks: Sequence[AnswerHook] = ()) -> None:
        self.app = app
        settings = get_settings()
        self.secure = settings.cookie_secure or settings.env == "production"
        self.default_language = settings.default_language
        self.security_headers = _SECURITY_HEADERS + ((HSTS,) if settings.env == "production" else ())
        self.answer_hooks = tuple(answer_hooks)
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.serve(scope, receive, send, self.app)

    async def serve(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """An HTTP request through this middleware to ``app`` (the rest of the stack, or ``web.fastpath``'s route)."""
        # the four request headers read here, in one pass over the raw list (Starlette's Headers scans it per look-up)
        incoming = accept_language = host = None
        cookie_values: list[str] = []
        for key, value in scope["headers"]:
            if key == _COOKIE:
                cookie_values.append(value.decode("latin-1"))
            elif key == _X_REQUEST_ID:
                incoming = value.decode("latin-1") if incoming is None else incoming
            elif key == _ACCEPT_LANGUAGE:
                accept_language = value.decode("latin-1") if accept_language is None else accept_language
            elif key == _HOST:
                host = value.decode("latin-1") if host is None else host
        # as Starlette's Request.cookies reads them (each Cookie header in turn), once: routes read them from the
        # request's state (``web.deps.request_cookies``) instead of parsing them again
        cookies: dict[str, str] = {}
        for value in cookie_values:
            cookies.update(cookie_parser(value))
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        query_lang = Request(scope).query_params.get("lang") if _may_name_lang(scope.get("query_string")) else None
        language = i18n.pick_language(query_lang, cookies.get(LANG_COOKIE), accept_language, self.default_language)
        csrf = cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        device, new_device = device_id(cookies)
        # machine clients (the signed partner API, payment partners' callbacks) get no browser cookies
        browser = not scope["path"].startswith(_MACHINE_PREFIXES)
        state = scope.setdefault("state", {})
        state["csrf_token"] = csrf
        state["device_id"] = device
        state["user"] = None
        state["request_id"] = request_id
        state["cookies"] = cookies
        set_cookies: list[str] = []
        if browser and CSRF_COOKIE not in cookies:
            set_cookies.append(cookie_header(CSRF_COOKIE, csrf, secure=self.secure))
        if browser and new_device:
            set_cookies.append(cookie_header(DEVICE_COOKIE, device, secure=self.secure, max_age=DEVICE_COOKIE_MAX_AGE))
        if query_lang in i18n.LANGUAGES:
            set_cookies.append(
                cookie_header(LANG_COOKIE, language, secure=self.secure, httponly=False, max_age=365 * 86400)
            )
        hooks = self.answer_hooks if browser else ()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                raw = response_headers.raw  # the message's own list: appended to in place
                present = {k.lower() for k, _ in raw}
                if _X_REQUEST_ID in present:
                    del response_headers["x-request-id"]
                raw.append((_X_REQUEST_ID, request_id.encode("latin-1")))
                if status in _REDIRECTS and b"location" in present:
                    relative = relative_location(response_headers["location"], host)
                    if relative is not None:
                        response_headers["location"] = relative
                raw.extend(h for h in self.security_headers if h[0] not in present)
                for value in set_cookies:
                    raw.append((b"set-cookie", value.encode("latin-1")))
                for hook in hooks:
                    hook(scope, cookies, response_headers)
            await send(message)

        rid_token = request_id_var.set(request_id)
        lang_token = i18n.current_language.set(language)
        started = time.perf_counter()
        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route_name = getattr(scope.get("route"), "path", "unmatched")
            self._observe(scope["method"], route_name, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route_name,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(rid_token)
            i18n.current_language.reset(lang_token)

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        """Prometheus children cached per label set (``labels()`` costs more than the increment)."""
        key = (method, route, str(status))
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = REQUESTS.labels(*key)
        counter.inc()
        histogram = self._latency.get(key[:2])
        if histogram is None:
            histogram = self._latency[key[:2]] = LATENCY.labels(method, route)
        histogram.observe(elapsed)


def install(app: FastAPI, answer_hooks: Sequence[AnswerHook] = ()) -> None:
    app.add_middleware(ShellMiddleware, answer_hooks=answer_hooks)

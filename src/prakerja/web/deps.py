"""Request dependencies every domain's routes use: the database session, who is signed in, role checks, CSRF."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from prakerja import db
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.config import get_settings
from prakerja.kit.errors import DomainError, Forbidden, Unauthenticated
from prakerja.web import direct

SESSION_COOKIE = "prakerja_session"
CSRF_COOKIE = "prakerja_csrf"
CSRF_FIELD = "csrf_token"
DEVICE_COOKIE = "prakerja_device"
"""A long-lived random identifier of the browser (HTTP-only, SameSite=Lax), set by the shell middleware. It is an
integrity signal only: stored as a keyed blind index, never raw, never logged."""


def set_session_cookie(response: Response, token: str) -> None:
    """The signed-in browser's cookie: HTTP-only, SameSite=Lax, Secure in production, as long as the session."""
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure or settings.env == "production",
        samesite="lax",
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


async def _db_session() -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns (before the response is sent), rolled back if
    it raises. Opening a session does no I/O (it connects at its first statement), so it happens on the event loop;
    the commit or rollback runs in a worker thread, and only when the session did something. A sync route thus
    costs two thread hops (the route, the commit) instead of three (docs/benchmarks.md)."""
    factory = db.session_factory() if db.ready() else await run_in_threadpool(db.session_factory)
    session = factory()
    try:
        yield session
    except BaseException:
        if _pending(session):
            await run_in_threadpool(_rollback_and_close, session)
        else:
            session.close()
        raise
    if _pending(session):
        await run_in_threadpool(_commit_and_close, session)
    else:
        session.close()


def _pending(session: Session) -> bool:
    """Whether the session has anything to commit (a transaction begun, or objects waiting for a flush)."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_db_session, scope="function")]


def db_session_dependency() -> Callable[[], AsyncIterator[Session]]:
    """The dependency itself (tests override it)."""
    return _db_session


async def _current_account_on_loop(request: Request) -> auth.CurrentAccount | None:
    """Who is signed in: one prepared statement on a loop connection (``db.on_loop``, ADR 0014), asked on the event
    loop before the route runs. No thread hop, and the request's ``Session`` is not opened for it (a read in
    autocommit commits nothing; the route's own transaction starts with the route's first statement)."""
    token = request_cookies(request).get(SESSION_COOKIE)
    if not token:
        return None
    async with db.on_loop() as conn:
        account = await auth.resolve_session_on_loop(conn, token)
    request.state.user = account
    return account


OptionalAccount = Annotated[auth.CurrentAccount | None, Depends(_current_account_on_loop)]


async def _signed_in(account: OptionalAccount) -> auth.CurrentAccount:
    # async: no I/O here, so no worker-thread hop (FastAPI runs a sync dependency in a thread)
    if account is None:
        raise Unauthenticated()
    return account


SignedIn = Annotated[auth.CurrentAccount, Depends(_signed_in)]


def check_role(account: auth.CurrentAccount, allowed: frozenset[Role]) -> auth.CurrentAccount:
    """403 (``forbidden``, with the roles required) unless the account has one of ``allowed``."""
    if account.role not in allowed:
        raise Forbidden(details={"required": sorted(r.value for r in allowed)})
    return account


def require_role(*roles: Role) -> Callable[..., Awaitable[auth.CurrentAccount]]:
    """``Depends(require_role(Role.pmo_admin))``: 401 when signed out, 403 for another role."""
    allowed = frozenset(roles)

    async def check(account: SignedIn) -> auth.CurrentAccount:  # no I/O: no worker-thread hop
        return check_role(account, allowed)

    return check


async def signed_in_as(request: Request, roles: frozenset[Role]) -> auth.CurrentAccount:
    """What ``require_role(*roles)`` answers for this request, asked now: the account, or 401 signed out, 403 for
    another role. For a route that checks who is signed in within its own statement (ADR 0035), on the paths
    where it refuses the request before that statement is sent."""
    return check_role(await _signed_in(await _current_account_on_loop(request)), roles)


def request_cookies(request: Request) -> dict[str, str]:
    """The request's cookies, as ``request.cookies`` reads them: parsed once by the shell middleware (in the
    request's state), or here when it did not run."""
    state = request.scope.get("state")
    cookies = state.get("cookies") if state else None
    return cookies if isinstance(cookies, dict) else request.cookies


def session_token(request: Request) -> str | None:
    """The browser's session token (its cookie), unchecked."""
    return request_cookies(request).get(SESSION_COOKIE) or None


def signed_in_first(*roles: Role) -> type[APIRoute]:
    """The route class of a route that checks who is signed in within its own statement (ADR 0035) instead of
    with a ``require_role(*roles)`` dependency. FastAPI ran that dependency before it validated the body, so a body
    it refuses (422) is answered as before: 401 signed out and 403 for another role come first; a body that is not
    JSON at all is refused first, as FastAPI refuses it before any dependency runs."""
    allowed = frozenset(roles)

    class SignedInFirst(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = direct.json_route_handler(self, super().get_route_handler())  # ADR 0037

            async def answer(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as refused:
                    if not any(error.get("type") == "json_invalid" for error in refused.errors()):
                        await signed_in_as(request, allowed)
                    raise

            return answer

    return SignedInFirst


def client_ip(request: Request) -> str | None:
    """The address the request came from, or None when the server does not know it. Personal data: an integrity
    signal stored as a keyed blind index and a rate-limit key, never logged. Rate-limit keys that need a string
    write ``client_ip(request) or "unknown"`` where they are built.

    The socket peer's address, unless the peer is one of ``settings.trusted_proxies`` (empty by default): then
    ``X-Forwarded-For`` is read from the right, skipping the trusted proxies, and the first other address is the
    client's. A client can put anything in the header, so only what a trusted proxy appended counts."""
    peer = request.client.host if request.client else None
    trusted = get_settings().trusted_proxy_networks()
    if peer is None or not trusted or not _in(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed hop: nothing left of it can be believed
        if not _in(str(address), trusted):
            return str(address)
    return peer


def _in(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def device_id(request: Request) -> str | None:
    """The browser's device identifier (the shell middleware sets the cookie when it is missing)."""
    state = request.scope.get("state") or {}
    value = state.get("device_id")
    return value if isinstance(value, str) else None


class CsrfFailed(DomainError):
    status_code = 403
    code = "csrf_failed"
    message = "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi."
    message_en = "The form has expired. Reload the page and try again."


async def csrf_protect(request: Request) -> None:
    """For every form POST: the hidden field must equal the CSRF cookie (double submit, SameSite=Lax)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfFailed()


Csrf = Depends(csrf_protect)


async def csrf_for_cookie(request: Request) -> None:
    """For cookie-authenticated API writes that a cross-site form could send (multipart, urlencoded): the
    ``X-CSRF-Token`` header or the ``csrf_token`` form field must equal the CSRF cookie. FastAPI has parsed the
    form before dependencies run, so reading it again costs nothing. Without a session cookie there is nothing to
    forge: the route's own sign-in check answers 401."""
    if SESSION_COOKIE not in request.cookies:
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent: object = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()


CsrfForCookie = Depends(csrf_for_cookie)

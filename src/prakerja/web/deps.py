"""Request dependencies every domain's routes use: the database session, who is signed in, role checks, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.config import get_settings
from prakerja.db import unit_of_work
from prakerja.kit.errors import DomainError, Forbidden, Unauthenticated

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


def _db_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with unit_of_work() as session:
        yield session


DbSession = Annotated[Session, Depends(_db_session, scope="function")]


def db_session_dependency() -> Callable[[], Iterator[Session]]:
    """The dependency itself (tests override it)."""
    return _db_session


def _current_account(request: Request, session: DbSession) -> auth.CurrentAccount | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    account = auth.resolve_session(session, token)
    request.state.user = account
    return account


OptionalAccount = Annotated[auth.CurrentAccount | None, Depends(_current_account)]


def _signed_in(account: OptionalAccount) -> auth.CurrentAccount:
    if account is None:
        raise Unauthenticated()
    return account


SignedIn = Annotated[auth.CurrentAccount, Depends(_signed_in)]


def _check_role(account: auth.CurrentAccount, allowed: frozenset[Role]) -> auth.CurrentAccount:
    if account.role not in allowed:
        raise Forbidden(details={"required": sorted(r.value for r in allowed)})
    return account


def require_role(*roles: Role) -> Callable[..., auth.CurrentAccount]:
    """``Depends(require_role(Role.pmo_admin))``: 401 when signed out, 403 for another role."""
    allowed = frozenset(roles)

    def check(account: SignedIn) -> auth.CurrentAccount:
        return _check_role(account, allowed)

    return check


def account_with_role(session: Session, request: Request, *roles: Role) -> auth.CurrentAccount:
    """What ``require_role`` checks, on a session the route opened itself: for async routes that do their
    database work in one worker-thread call with one boundary (``unit_of_work``) instead of a chain of
    dependencies, each its own thread hop. 401 when signed out, 403 for another role."""
    account = _current_account(request, session)
    if account is None:
        raise Unauthenticated()
    return _check_role(account, frozenset(roles))


def client_ip(request: Request) -> str | None:
    """The address the request came from, or None when the server does not know it. Personal data: an integrity
    signal stored as a keyed blind index and a rate-limit key, never logged. Rate-limit keys that need a string
    write ``client_ip(request) or "unknown"`` where they are built."""
    return request.client.host if request.client else None


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

"""Request dependencies every domain's routes use: the database session, who is signed in, role checks, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.db import unit_of_work
from prakerja.kit.errors import DomainError, Forbidden, Unauthenticated

SESSION_COOKIE = "prakerja_session"
CSRF_COOKIE = "prakerja_csrf"
CSRF_FIELD = "csrf_token"


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


def require_role(*roles: Role) -> Callable[..., auth.CurrentAccount]:
    """``Depends(require_role(Role.pmo_admin))``: 401 when signed out, 403 for another role."""
    allowed = frozenset(roles)

    def check(account: SignedIn) -> auth.CurrentAccount:
        if account.role not in allowed:
            raise Forbidden(details={"required": sorted(r.value for r in allowed)})
        return account

    return check


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

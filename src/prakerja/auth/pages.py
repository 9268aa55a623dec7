"""Sign in and sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from prakerja.auth import service
from prakerja.auth.errors import AccountDisabled, InvalidCredentials
from prakerja.auth.models import PMO_ROLES, Role
from prakerja.config import get_settings
from prakerja.web.deps import SESSION_COOKIE, Csrf, DbSession
from prakerja.web.i18n import current_language
from prakerja.web.templating import render

router = APIRouter()

LANDING = {Role.applicant: "/dasbor"}


def _safe_next(target: str | None, role: Role) -> str:
    if target and target.startswith("/") and not target.startswith("//") and target != "/masuk":
        return target
    if role in PMO_ROLES:
        return "/pmo"
    return LANDING.get(role, "/")


@router.get("/masuk", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "auth/login.html", {"next": next or "", "email": ""})


@router.post("/masuk", include_in_schema=False, dependencies=[Csrf])
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        account = service.authenticate(session, email=email, password=password)
    except (InvalidCredentials, AccountDisabled) as error:
        message = error.message if current_language.get() == "id" else error.message_en
        return render(
            request,
            "auth/login.html",
            {"next": next, "email": email, "error": message},
            status_code=error.status_code,
        )
    token = service.start_session(session, account)
    settings = get_settings()
    response = RedirectResponse(_safe_next(next, account.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure or settings.env == "production",
        samesite="lax",
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
    )
    return response


@router.post("/keluar", include_in_schema=False, dependencies=[Csrf])
def logout(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

"""Shell pages: public home, language switch, the participant dashboard frame, health and metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.config import get_settings
from prakerja.db import get_engine
from prakerja.kit.errors import Forbidden, Unauthenticated
from prakerja.migrate import at_head
from prakerja.web import i18n
from prakerja.web.dashboard import sections_for
from prakerja.web.deps import DbSession, OptionalAccount, require_role
from prakerja.web.middleware import LANG_COOKIE
from prakerja.web.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", include_in_schema=False)
def home(request: Request, account: OptionalAccount) -> Response:
    return render(request, "home.html")


@router.get("/bahasa/{language}", include_in_schema=False)
def switch_language(request: Request, language: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/dasbor", include_in_schema=False)
def dashboard(
    request: Request, session: DbSession, account: CurrentAccount = Depends(require_role(Role.applicant))
) -> Response:
    return render(request, "dashboard.html", {"sections": sections_for(session, account)})


@router.get("/healthz", tags=["operations"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"])
def readyz() -> Response:
    """The database answers and its schema is at the newest migration."""
    try:
        engine = get_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrated = at_head(engine)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": False}, status_code=503)
    if not migrated:
        return JSONResponse({"status": "unavailable", "database": True, "migrations": "behind"}, status_code=503)
    return JSONResponse({"status": "ok", "database": True, "migrations": "head"})


def _metrics_access(request: Request, account: OptionalAccount) -> None:
    """Production: a signed-in officer, or ``Authorization: Bearer <metrics_token>`` (the scraper); elsewhere open.
    Signed out without the token: 401; another role: 403."""
    settings = get_settings()
    if settings.env != "production":
        return
    sent = request.headers.get("authorization", "")
    token = settings.metrics_token or ""
    if len(token) >= 24 and sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), token.encode()):
        return
    if account is None:
        raise Unauthenticated()
    if account.role not in PMO_ROLES:
        raise Forbidden()


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_metrics_access)])
def metrics() -> Response:
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

"""Officers see that messages went out (``/pmo/pesan``); with the development sender, each person reads their own
messages in the development mailbox (``/dev/kotak-pesan``), which exists only then.

Who may open which development mailbox: the signed-in person, their own; a signed-out browser, the mailbox of the
last account signed in on it (a signed, HTTP-only cookie set by :func:`dev_mailbox_claim`, valid one day), so a
newcomer can finish sign-up and someone who signed out can follow a password-reset link in development, while
nobody can name another person's mailbox (there is no address or id in the URL to change)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from prakerja.auth.models import PMO_ROLES
from prakerja.auth.service import CurrentAccount
from prakerja.config import get_settings
from prakerja.kit.keys import get_keys
from prakerja.notifications import service
from prakerja.web.deps import DbSession, OptionalAccount, require_role
from prakerja.web.middleware import JSON_API_PREFIX, AnswerHook, cookie_header
from prakerja.web.templating import render

router = APIRouter()
dev_router = APIRouter()
"""Mounted only when a development sender is selected (:func:`prakerja.notifications.providers.dev_mailbox_enabled`)."""

DEV_MAILBOX_PATH = "/dev/kotak-pesan"
CLAIM_COOKIE = "prakerja_dev_mailbox"
CLAIM_MAX_AGE = 86400


@router.get("/pmo/pesan", include_in_schema=False)
def sent_messages(
    request: Request, session: DbSession, account: CurrentAccount = Depends(require_role(*PMO_ROLES))
) -> Response:
    return render(request, "notifications/outbox.html", {"items": service.sent_messages(session)})


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_keys().secret_key, salt="prakerja.dev-mailbox")


def claimed_account(cookie: str | None) -> uuid.UUID | None:
    """The account a browser's mailbox cookie names, if the signature is ours and it is less than a day old."""
    if not cookie:
        return None
    try:
        return uuid.UUID(str(_serializer().loads(cookie, max_age=CLAIM_MAX_AGE)))
    except (BadSignature, ValueError):
        return None


@dev_router.get(DEV_MAILBOX_PATH, include_in_schema=False)
def dev_mailbox(request: Request, session: DbSession, account: OptionalAccount) -> Response:
    owner = account.id if account is not None else claimed_account(request.cookies.get(CLAIM_COOKIE))
    items = service.dev_mailbox(session, owner) if owner is not None else []
    return render(request, "notifications/dev_mailbox.html", {"items": items, "known": owner is not None})


def dev_mailbox_claim() -> AnswerHook:
    """After a signed-in request for a page, remember on this browser (signed cookie) whose development mailbox it
    may open while signed out: a hook of the shell middleware, installed only with a development sender. JSON API
    answers (``/api/``) carry no claim: a browser signs in on the pages, which set it."""
    secure = get_settings().cookie_secure

    def claim(scope: Scope, cookies: Mapping[str, str], headers: MutableHeaders) -> None:
        if scope["path"].startswith(JSON_API_PREFIX):
            return
        user = scope.get("state", {}).get("user")
        if user is not None and claimed_account(cookies.get(CLAIM_COOKIE)) != user.id:
            value = _serializer().dumps(str(user.id))
            headers.append("set-cookie", cookie_header(CLAIM_COOKIE, value, secure=secure, max_age=CLAIM_MAX_AGE))

    return claim

"""The development outbox: what the development sender would have sent (demo and tests)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prakerja.auth.models import PMO_ROLES
from prakerja.auth.service import CurrentAccount
from prakerja.notifications import service
from prakerja.web.deps import DbSession, require_role
from prakerja.web.templating import render

router = APIRouter()


@router.get("/pmo/pesan", include_in_schema=False)
def dev_outbox(
    request: Request, session: DbSession, account: CurrentAccount = Depends(require_role(*PMO_ROLES))
) -> Response:
    return render(request, "notifications/outbox.html", {"items": service.dev_outbox(session)})

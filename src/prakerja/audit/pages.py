"""The read-only audit log page for auditors (and program-office administrators): the newest entries with
pseudonymous actors and objects, and the hash chain's verification on request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prakerja.audit import service
from prakerja.audit.rules import words
from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.web.deps import DbSession, require_role
from prakerja.web.i18n import current_language
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[CurrentAccount, Depends(require_role(Role.auditor, Role.pmo_admin))]
AUDIT_PAGE = "/audit"
PAGE_SIZE = 100


@router.get(AUDIT_PAGE)
def audit_log(
    request: Request, session: DbSession, account: Reader, sebelum: int | None = None, periksa: int = 0
) -> Response:
    """``periksa=1`` recomputes the whole chain (a full read of the log: on request, not on every view)."""
    entries = service.recent_pseudonymous(session, limit=PAGE_SIZE, before=sebelum)
    report = service.verify(session) if periksa else None
    language = current_language.get()
    return render(
        request,
        "audit/log.html",
        {
            "entries": entries,
            # each code in words, in the page's language (the code itself in the cell's title)
            "actions": {e.action: words.action_words(e.action, language) for e in entries},
            "roles": {e.actor_role: words.role_words(e.actor_role, language) for e in entries},
            "objects": {e.object_type: words.object_words(e.object_type, language) for e in entries},
            "report": report,
            "older": entries[-1].seq if len(entries) == PAGE_SIZE else None,
        },
    )


add_link(PmoLink(AUDIT_PAGE, "Log audit", "Audit log", roles=frozenset({Role.pmo_admin})))

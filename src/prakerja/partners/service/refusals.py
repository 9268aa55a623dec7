"""The log of refused partner calls (partner abuse kept for review): written by the signed API's plumbing for
every endpoint, on a transaction of its own once the request's own work is rolled back; read and marked reviewed
by officers (audited). Nothing secret and nothing personal is kept: no body, no signature, no key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.config import get_settings
from prakerja.kit.clock import utcnow
from prakerja.partners import repository
from prakerja.partners.models import PartnerRefusal
from prakerja.partners.service.credentials import PartnerCaller

REVIEW_PAGE_SIZE = 200


def _visible(value: str | None, limit: int) -> str:
    """Visible ASCII only (a header may carry anything), cut at ``limit``."""
    return "".join(ch for ch in (value or "") if "!" <= ch <= "~")[:limit]


def record_refusal(
    session: Session,
    *,
    caller: PartnerCaller | None,
    client_code: str | None,
    method: str,
    endpoint: str,
    code: str,
    status: int,
    remote: str | None = None,
) -> PartnerRefusal:
    """One row per refused call. ``caller`` is the verified partner when the signature was checked; otherwise the
    credential named by ``client_code`` (if any) is noted as the one claimed."""
    partner_id = credential_id = None
    signed = caller is not None
    if caller is not None:
        partner_id, credential_id, code_sent = caller.partner_id, caller.credential_id, caller.client_code
    else:
        code_sent = _visible(client_code, 64)
        claimed = repository.credential_by_code(session, code_sent) if code_sent else None
        if claimed is not None:
            partner_id, credential_id = claimed.partner_id, claimed.id
    row = PartnerRefusal(
        partner_id=partner_id,
        credential_id=credential_id,
        client_code=code_sent,
        signed=signed,
        method=_visible(method, 8),
        endpoint=endpoint[:200],
        code=code[:64],
        status=status,
        remote=_visible(remote, 64),
    )
    repository.add_refusal(session, row)
    return row


async def record_refusal_on_loop(
    conn: asyncpg.Connection,
    *,
    caller: PartnerCaller | None,
    client_code: str | None,
    method: str,
    endpoint: str,
    code: str,
    status: int,
    remote: str | None = None,
) -> None:
    """:func:`record_refusal` in one statement on an autocommit loop connection (``db.on_loop``, ADR 0021): the
    same row, committed when the server answers."""
    values: dict[str, Any] = {
        "signed": caller is not None,
        "method": _visible(method, 8),
        "endpoint": endpoint[:200],
        "code": code[:64],
        "status": status,
        "remote": _visible(remote, 64),
    }
    if caller is not None:
        values.update(partner_id=caller.partner_id, credential_id=caller.credential_id, client_code=caller.client_code)
    else:
        values["client_code"] = _visible(client_code, 64)
    await repository.add_refusal_on_loop(conn, values, claimed=caller is None and bool(values["client_code"]))


@dataclass(frozen=True)
class RefusalView:
    id: uuid.UUID
    at: datetime
    partner: str
    """The organisation's name, or "" when the client code is no credential's."""
    client_code: str
    signed: bool
    call: str
    code: str
    status: int
    remote: str
    reviewed: bool


@dataclass(frozen=True)
class RefusalLog:
    rows: list[RefusalView]
    unreviewed: int


def refusal_log(session: Session, *, unreviewed_only: bool = False, limit: int = REVIEW_PAGE_SIZE) -> RefusalLog:
    rows = [
        RefusalView(
            id=r.id,
            at=r.created_at,
            partner=name or "",
            client_code=r.client_code,
            signed=r.signed,
            call=f"{r.method} {r.endpoint}",
            code=r.code,
            status=r.status,
            remote=r.remote,
            reviewed=r.reviewed_at is not None,
        )
        for r, name in repository.refusals(session, limit=limit, unreviewed=unreviewed_only)
    ]
    return RefusalLog(rows, repository.count_unreviewed_refusals(session))


def mark_refusals_reviewed(
    session: Session, *, down_to: uuid.UUID, up_to: uuid.UUID, note: str, actor: audit.Actor
) -> int:
    """An officer has looked at the refusals from ``down_to`` to ``up_to`` (ids are time-ordered): they leave
    the unreviewed list (audited, with the officer's note)."""
    marked = repository.mark_refusals_reviewed(session, down_to=down_to, up_to=up_to, at=utcnow(), by=actor.id)
    if marked:
        audit.record(
            session,
            actor,
            "partners.refusals_reviewed",
            "partner_refusal",
            up_to,
            reason=note.strip()[:500],
            data={"count": marked, "from": str(down_to)},
        )
    return marked


def purge_old_refusals(session: Session) -> int:
    """Delete the refusals older than the retention (``partner_refusal_retention_days``), reviewed or not, and
    audit how many went (and how many of those no officer had reviewed)."""
    days = get_settings().partner_refusal_retention_days
    before = utcnow() - timedelta(days=days)
    deleted, unreviewed = repository.purge_refusals(session, before)
    if deleted:
        audit.record(
            session,
            audit.Actor.system(),
            "partners.refusals_purged",
            "partner_refusal",
            before.date().isoformat(),
            data={"count": deleted, "unreviewed": unreviewed, "before": before.isoformat(), "retention_days": days},
        )
    return deleted

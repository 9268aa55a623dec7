"""Reconciliation: a payment partner's statement (camt.053 or CSV, fetched from the partner or uploaded by an
officer) is ingested whole or not at all, matched with our instructions by end-to-end id, and every difference is
recorded once: ``missing`` (we recorded a success the partner's statements lack), ``extra`` (the statement shows a
payment we did not record as succeeded, or that is no instruction of ours), ``amount_mismatch`` (paid another
amount, or paid more than once) and ``reversal_after_success``. The matching is set-based SQL: the entries are
COPYed into a temporary table and joined, so a million instructions reconcile in seconds.

A difference stays open until a later statement or result explains it (closed by the system, audited) or an officer
resolves it with a written reason (audited). Resolving records an explanation; it never moves money: a correction
goes through the ledger's own operations. Takes a session; never commits."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.payouts.errors import (
    DifferenceAlreadyResolved,
    DifferenceNotFound,
    ProviderUnknown,
    ResolutionReasonMissing,
    StatementControlMismatch,
    StatementDuplicate,
    StatementMalformed,
)
from prakerja.payouts.models import Difference, DifferenceKind, PayoutProvider, Statement, StatementFormat
from prakerja.payouts.providers import camt
from prakerja.payouts.repository import reconciliation as repository

log = logging.getLogger(__name__)

MIN_REASON = 10
"""Characters a resolution's reason needs at least: a sentence, not "ok"."""


@dataclass(frozen=True)
class IngestReport:
    statement_id: uuid.UUID
    provider: str
    statement_ref: str
    entries: int
    control_sum: int
    new_differences: dict[DifferenceKind, int] = field(default_factory=dict)
    explained: int = 0
    """Open differences this statement (or results since) explained and closed."""
    open_differences: int = 0
    """The provider's differences still open after this statement."""


def provider(session: Session, code: str) -> PayoutProvider:
    found = repository.provider_by_code(session, code)
    if found is None:
        raise ProviderUnknown(details={"provider": code})
    return found


def providers(session: Session) -> list[PayoutProvider]:
    return repository.providers(session)


def _by(actor: audit.Actor) -> str:
    return str(actor.id) if actor.id is not None else actor.role


def ingest_statement(
    session: Session,
    *,
    provider_code: str,
    content: bytes,
    actor: audit.Actor,
    fmt: StatementFormat | None = None,
    day: date | None = None,
) -> IngestReport:
    """Check, store and reconcile one statement of ``provider_code``. Refused whole, with nothing written:
    ``unknown_provider``, ``statement_malformed``, ``statement_control_mismatch``, ``statement_duplicate``."""
    found = provider(session, provider_code)
    try:
        parsed = camt.read_statement(content, fmt=fmt, day=day)
    except (StatementMalformed, StatementControlMismatch) as refusal:
        log.warning("statement of %s refused: %s %s", found.code, refusal.code, refusal.details)
        raise
    repository.lock_reconciliation(session, found.id)
    if repository.statement_known(
        session, provider_id=found.id, statement_ref=parsed.statement_ref, sha256=parsed.sha256
    ):
        log.warning("statement %s of %s refused: already ingested", parsed.statement_ref, found.code)
        raise StatementDuplicate(details={"provider": found.code, "statement": parsed.statement_ref})
    now = utcnow()
    statement = Statement(
        provider_id=found.id,
        statement_ref=parsed.statement_ref,
        format=parsed.format,
        period_from=parsed.period_from,
        period_to=parsed.period_to,
        entries=parsed.entries,
        control_sum=parsed.control_sum,
        sha256=parsed.sha256,
        ingested_by=_by(actor),
        created_at=now,
    )
    repository.add(session, statement)
    repository.stage_lines(
        session, ((line.end_to_end_id, line.amount, line.debit, line.booked_on) for line in parsed.lines)
    )
    repository.insert_staged_entries(session, statement.id)
    counts = repository.record_differences(
        session,
        provider_id=found.id,
        statement_id=statement.id,
        period_from=parsed.period_from,
        period_to=parsed.period_to,
        now=now,
    )
    explained = repository.explain_differences(session, provider_id=found.id, now=now, by="system")
    still_open = repository.open_difference_count(session, provider_id=found.id)
    audit.record(
        session,
        actor,
        "payouts.statement_ingested",
        "payouts_statement",
        statement.id,
        data={
            "provider": found.code,
            "statement": parsed.statement_ref,
            "format": parsed.format.value,
            "entries": parsed.entries,
            "control_sum": parsed.control_sum,
            "new_differences": {kind.value: n for kind, n in sorted(counts.items())},
            "explained": explained,
        },
    )
    return IngestReport(
        statement_id=statement.id,
        provider=found.code,
        statement_ref=parsed.statement_ref,
        entries=parsed.entries,
        control_sum=parsed.control_sum,
        new_differences=counts,
        explained=explained,
        open_differences=still_open,
    )


def fetch_and_ingest(
    session: Session,
    *,
    provider_code: str,
    day: date,
    actor: audit.Actor,
    fmt: StatementFormat = StatementFormat.camt053,
) -> IngestReport:
    """Ask the partner for its statement of ``day`` over HTTP (docs/payouts-partner-interface.md section 5) and
    ingest it; ``statement_unavailable`` when the partner does not hand it over."""
    found = provider(session, provider_code)
    content = camt.fetch_statement(found, day, fmt, now=utcnow())
    return ingest_statement(session, provider_code=found.code, content=content, actor=actor, fmt=fmt, day=day)


def recheck(session: Session, *, actor: audit.Actor) -> int:
    """Close the open differences that statements or results recorded since explain, for every provider (no new
    statement needed); returns how many closed."""
    now = utcnow()
    closed = 0
    for found in repository.providers(session):
        repository.lock_reconciliation(session, found.id)
        explained = repository.explain_differences(session, provider_id=found.id, now=now, by="system")
        if explained:
            audit.record(
                session,
                actor,
                "payouts.differences_explained",
                "payouts_provider",
                found.id,
                data={"provider": found.code, "explained": explained},
            )
        closed += explained
    return closed


def resolve_difference(session: Session, *, difference_id: uuid.UUID, reason: str, actor: audit.Actor) -> Difference:
    """An officer explains a difference in words (kept in the audit log). Nothing else changes: money is corrected,
    if at all, through the ledger's own operations."""
    text = " ".join(reason.split())
    if len(text) < MIN_REASON:
        raise ResolutionReasonMissing(details={"field": "reason"})
    difference = repository.difference_for_update(session, difference_id)
    if difference is None:
        raise DifferenceNotFound()
    if difference.resolved_at is not None:
        raise DifferenceAlreadyResolved(details={"resolved_by": difference.resolved_by})
    now = utcnow()
    repository.resolve_difference(session, difference.id, now=now, by=_by(actor), resolution=text)
    audit.record(
        session,
        actor,
        "payouts.difference_resolved",
        "payouts_difference",
        difference.id,
        reason=text,
        data={
            "kind": difference.kind.value,
            "end_to_end_id": difference.end_to_end_id,
            "expected_amount": difference.expected_amount,
            "actual_amount": difference.actual_amount,
        },
    )
    session.refresh(difference)
    return difference


def statements(session: Session, *, provider_id: uuid.UUID | None = None, limit: int = 50) -> list[Statement]:
    return repository.statements(session, provider_id=provider_id, limit=limit)


def differences(
    session: Session, *, provider_id: uuid.UUID | None = None, open_only: bool = False, limit: int = 200
) -> list[Difference]:
    return repository.differences(session, provider_id=provider_id, open_only=open_only, limit=limit)


def open_difference_count(session: Session, *, provider_id: uuid.UUID | None = None) -> int:
    return repository.open_difference_count(session, provider_id=provider_id)

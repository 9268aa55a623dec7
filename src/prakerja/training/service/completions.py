"""Section 2 of the marketplace contract, completion: refused in the contract's order; bursts and impossible timing
go to an officer; on acceptance the ledger captures the payment to the institution (less the platform's commission
where its agreement has one) and the certificate is issued. Takes a session; never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import service as catalog
from prakerja.catalog.models import CourseFormat
from prakerja.certificates import service as certificates
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id, parse_id
from prakerja.ledger import service as ledger
from prakerja.training import repository, rules
from prakerja.training.errors import (
    AttendanceMissing,
    CommissionInvalid,
    CompletionExists,
    CompletionNotFound,
    CompletionNotInReview,
    CompletionTooEarly,
    PurchaseNotFound,
    PurchaseState,
    ReasonRequired,
)
from prakerja.training.models import Completion, CompletionStatus, PlatformAgreement, Purchase, PurchaseStatus
from prakerja.training.schemas import CompletionCreate, CompletionOut
from prakerja.training.service import events, people

REFUSALS: dict[str, type[DomainError]] = {
    "completion_exists": CompletionExists,
    "attendance_missing": AttendanceMissing,
    "completion_too_early": CompletionTooEarly,
}


def session_facts(session: Session, purchase: Purchase) -> list[rules.SessionFacts]:
    codes = {c.session_id: c for c in repository.codes_of(session, purchase.id)}
    return [
        rules.SessionFacts(
            session_id=str(s.id),
            starts_at=s.starts_at,
            duration_minutes=s.duration_minutes,
            cancelled=s.cancelled_at is not None,
            attended_at=codes[s.id].attended_at if s.id in codes else None,
        )
        for s in catalog.course_sessions(session, purchase.course_id)
    ]


def _out(completion: Completion) -> CompletionOut:
    return CompletionOut(
        completion_id=str(completion.id),
        status=completion.status.value,
        certificate_id=None if completion.certificate_id is None else str(completion.certificate_id),
    )


def report(session: Session, *, institution_id: uuid.UUID, data: CompletionCreate, actor: audit.Actor) -> CompletionOut:
    """``POST /partner/v1/completions``."""
    parsed = parse_id(data.purchase_id)
    purchase = None if parsed is None else repository.purchase(session, parsed, lock=True)
    if purchase is None or purchase.institution_id != institution_id:
        raise PurchaseNotFound()
    exists = repository.live_completion(session, purchase.id) is not None
    if not exists and purchase.status is not PurchaseStatus.redeemed:
        raise PurchaseState(details={"status": purchase.status.value})
    course = catalog.get_course(session, purchase.course_id)
    facts = session_facts(session, purchase)
    now = utcnow()
    refusal = rules.completion_refusal(
        exists=exists,
        sessions=facts,
        completed_at=data.completed_at,
        now=now,
        self_paced=course.format is CourseFormat.self_paced,
        redeemed_at=purchase.redeemed_at,
        hours=course.hours,
    )
    if refusal is not None:
        raise REFUSALS[refusal]()
    reasons = rules.review_reasons(
        sessions=facts,
        completed_at=data.completed_at,
        recent_from_institution=repository.completions_since(session, institution_id, now - rules.BURST_WINDOW),
        recent_scores=repository.recent_scores(session, institution_id, rules.SCORE_PATTERN - 1),
        score=data.score,
        proofs_failed=repository.failed_proofs(session, purchase.id),
    )
    completion = Completion(
        id=new_id(),
        purchase_id=purchase.id,
        institution_id=purchase.institution_id,
        platform_id=purchase.platform_id,
        completed_at=data.completed_at,
        score=data.score,
        passed=data.passed,
        status=CompletionStatus.in_review,
        review_reasons=reasons,
    )
    repository.add(session, completion)
    audit.record(
        session,
        actor,
        "training.completion_reported",
        "completion",
        completion.id,
        data={"purchase_id": str(purchase.id), "score": data.score, "passed": data.passed, "review": reasons},
    )
    if not reasons:
        accept(session, completion, purchase, actor=actor)
    return _out(completion)


def accept(session: Session, completion: Completion, purchase: Purchase, *, actor: audit.Actor) -> None:
    """Capture the reserve to the institution (and the commission to the platform), complete the purchase and issue
    the certificate when the participant passed."""
    gross = purchase.amount - purchase.refunded_amount
    agreement = repository.agreement(session, purchase.platform_id)
    commission = rules.commission(gross, agreement.commission_bps) if agreement is not None else 0
    completion.capture_transfer_id = completion.capture_transfer_id or new_id()
    ledger.capture_purchase(
        session,
        transfer_id=completion.capture_transfer_id,
        pending_id=purchase.pending_transfer_id,
        actor=actor,
        platform_id=purchase.platform_id if commission else None,
        commission=commission,
    )
    now = utcnow()
    purchase.capture_transfer_id = completion.capture_transfer_id
    purchase.status = PurchaseStatus.completed
    purchase.completed_at = now
    completion.status = CompletionStatus.accepted
    completion.gross_amount = gross
    completion.commission = commission
    completion.decided_at = now
    ids = {"completion_id": str(completion.id), "purchase_id": str(purchase.id)}
    events.emit_both(session, purchase.platform_id, purchase.institution_id, "completion.accepted", ids)
    if completion.passed:
        course = catalog.get_course(session, purchase.course_id)
        institution = catalog.organisations.get(session, purchase.institution_id)
        certificate = certificates.issue(
            session,
            completion_id=completion.id,
            recipient_id=purchase.recipient_id,
            account_id=purchase.account_id,
            holder_name=people.full_name(session, purchase.account_id) or "Peserta Kartu Prakerja",
            course_title=course.title,
            institution_name=institution.name if institution is not None else "Lembaga Pelatihan",
            completed_at=completion.completed_at,
            score=completion.score,
            course_id=str(course.id),
            actor=actor,
        )
        completion.certificate_id = certificate.id
        events.emit_both(
            session,
            purchase.platform_id,
            purchase.institution_id,
            "certificate.issued",
            {**ids, "certificate_id": str(certificate.id)},
        )
    session.flush()
    audit.record(
        session,
        actor,
        "training.completion_accepted",
        "completion",
        completion.id,
        data={"gross": gross, "commission": commission},
    )


def decide(
    session: Session, *, completion_id: uuid.UUID, accept_it: bool, note: str, officer: audit.Actor
) -> Completion:
    """An officer accepts or refuses a completion in review (audited, with the officer's words)."""
    completion = repository.completion(session, completion_id, lock=True)
    if completion is None:
        raise CompletionNotFound()
    if completion.status is not CompletionStatus.in_review:
        raise CompletionNotInReview()
    note = note.strip()
    if not note:
        raise ReasonRequired()
    purchase = repository.purchase(session, completion.purchase_id, lock=True)
    assert purchase is not None
    completion.decided_by = officer.id
    completion.decision_note = note[:2000]
    if accept_it:
        accept(session, completion, purchase, actor=officer)
    else:
        completion.status = CompletionStatus.refused
        completion.decided_at = utcnow()
        events.emit_both(
            session,
            purchase.platform_id,
            purchase.institution_id,
            "completion.refused",
            {"completion_id": str(completion.id), "purchase_id": str(purchase.id)},
        )
        session.flush()
    audit.record(
        session,
        officer,
        "training.completion_decided",
        "completion",
        completion.id,
        reason=note[:500],
        data={"accepted": accept_it},
    )
    return completion


def in_review(session: Session) -> list[Completion]:
    return repository.in_review(session)


def set_commission(
    session: Session, *, platform_id: uuid.UUID, bps: int, actor: audit.Actor, at: datetime | None = None
) -> None:
    """Record a platform's agreement: its commission in basis points of each captured purchase."""
    if isinstance(bps, bool) or not 0 <= bps <= 5000:
        raise CommissionInvalid()
    found = repository.agreement(session, platform_id, lock=True)
    when = at or utcnow()
    if found is None:
        repository.add(session, PlatformAgreement(platform_id=platform_id, commission_bps=bps, updated_at=when))
    else:
        found.commission_bps, found.updated_at = bps, when
        session.flush()
    audit.record(session, actor, "training.commission_set", "partner", platform_id, data={"bps": bps})

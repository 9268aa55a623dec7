"""Section 2 of the marketplace contract, delivery: institutions redeem vouchers and commit each session's redeem
code (the attendance proof is consulted at commit); sessions the program cancels are refunded to the balance.
Takes a session; never commits."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import service as catalog
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.ledger.errors import PendingAlreadyVoided
from prakerja.training import providers, repository, rules
from prakerja.training.errors import (
    PurchaseState,
    RedeemCodeCancelled,
    RedeemCodeNotFound,
    RedeemCodeOtherInstitution,
    RedeemCodeOutsideWindow,
    RedeemCodeTypeMismatch,
    RedeemCodeUsed,
    SessionNotFound,
    TransactionCancelled,
    VoucherNotFound,
    VoucherOtherInstitution,
    VoucherUsed,
)
from prakerja.training.models import AttendanceEvent, CodeState, Purchase, PurchaseStatus, RedeemCode, SessionRefund
from prakerja.training.schemas import RedeemCodeCommitted, RedeemCodeStatus, VoucherRedeemed, VoucherSession
from prakerja.training.service import events, people


def _normal(code: str) -> str:
    return code.strip().upper()


def redeem_voucher(
    session: Session, *, institution_id: uuid.UUID, voucher_code: str, actor: audit.Actor
) -> VoucherRedeemed:
    """``POST /partner/v1/vouchers/redeem``: the institution starts the participant's training."""
    purchase = repository.purchase_by_voucher(session, _normal(voucher_code), lock=True)
    if purchase is None:
        raise VoucherNotFound()
    if purchase.institution_id != institution_id:
        raise VoucherOtherInstitution()
    if purchase.status is PurchaseStatus.cancelled:
        raise TransactionCancelled()
    if purchase.status is not PurchaseStatus.confirmed:
        raise VoucherUsed()
    purchase.status = PurchaseStatus.redeemed
    purchase.redeemed_at = utcnow()
    session.flush()
    audit.record(session, actor, "training.voucher_redeemed", "purchase", purchase.id)
    return VoucherRedeemed(
        purchase_id=str(purchase.id),
        course_id=str(purchase.course_id),
        participant_name_masked=rules.mask_name(people.full_name(session, purchase.account_id)),
        sessions=[
            VoucherSession(session_id=str(s.id), starts_at=s.starts_at)
            for s in catalog.course_sessions(session, purchase.course_id)
            if s.cancelled_at is None
        ],
    )


def _code(
    session: Session, *, institution_id: uuid.UUID, redeem_code: str, training_type: str | None, lock: bool
) -> RedeemCode:
    found = repository.code(session, _normal(redeem_code), lock=lock)
    if found is None:
        raise RedeemCodeNotFound()
    if found.institution_id != institution_id:
        raise RedeemCodeOtherInstitution()
    if training_type is not None and training_type != found.training_type:
        raise RedeemCodeTypeMismatch(details={"training_type": found.training_type})
    return found


def code_status(
    session: Session, *, institution_id: uuid.UUID, redeem_code: str, training_type: str | None = None
) -> RedeemCodeStatus:
    """``POST /partner/v1/redeem-codes/status``."""
    found = _code(
        session, institution_id=institution_id, redeem_code=redeem_code, training_type=training_type, lock=False
    )
    return RedeemCodeStatus(
        redeem_code=found.code,
        state=found.state.value,
        session_id=str(found.session_id),
        valid_from=found.valid_from,
        valid_until=found.valid_until,
    )


def commit_code(
    session: Session,
    *,
    institution_id: uuid.UUID,
    redeem_code: str,
    training_type: str | None = None,
    actor: audit.Actor,
) -> RedeemCodeCommitted:
    """``POST /partner/v1/redeem-codes/commit``: the participant attended. Refused, in this order, for the
    program's states (not found, other institution, type, session cancelled, purchase cancelled, used), a voucher not
    yet redeemed, and outside the window. The attendance proof is asked; a failed proof is recorded for review."""
    found = _code(
        session, institution_id=institution_id, redeem_code=redeem_code, training_type=training_type, lock=True
    )
    purchase = repository.purchase(session, found.purchase_id, lock=True)
    assert purchase is not None
    course_session = catalog.get_session(session, found.session_id)
    if course_session is None or course_session.cancelled_at is not None:
        raise RedeemCodeCancelled()
    if purchase.status is PurchaseStatus.cancelled or found.state is CodeState.cancelled:
        raise TransactionCancelled()
    if found.state is CodeState.used:
        raise RedeemCodeUsed()
    if purchase.status is not PurchaseStatus.redeemed:
        raise PurchaseState(details={"status": purchase.status.value})
    now = utcnow()
    if not rules.within_window(course_session.starts_at, now):
        raise RedeemCodeOutsideWindow(
            details={"valid_from": found.valid_from.isoformat(), "valid_until": found.valid_until.isoformat()}
        )
    found.state = CodeState.used
    found.attended_at = now
    provider = providers.attendance_proof()
    proof = provider.verify(account_id=purchase.account_id, session_id=found.session_id, at=now)
    repository.add(
        session,
        AttendanceEvent(
            purchase_id=purchase.id,
            redeem_code_id=found.id,
            session_id=found.session_id,
            occurred_at=now,
            provider=provider.name,
            proof_ok=proof.ok,
            proof_reason=proof.reason[:64],
            needs_review=not proof.ok,
        ),
    )
    audit.record(
        session,
        actor,
        "training.attendance_committed",
        "redeem_code",
        found.id,
        data={"purchase_id": str(purchase.id), "session_id": str(found.session_id), "proof_ok": proof.ok},
    )
    return RedeemCodeCommitted(
        redeem_code=found.code, state=found.state.value, session_id=str(found.session_id), attended_at=now
    )


# -- sessions cancelled by the program -----------------------------------------------------------------------------


def _refund(
    session: Session, purchase: Purchase, session_id: uuid.UUID, minutes: int, total: int, actor: audit.Actor
) -> int:
    if repository.refund(session, purchase.id, session_id) is not None:
        return 0
    code = repository.codes_of_session(session, purchase.id, session_id)
    if code is None or code.state is CodeState.used:
        return 0  # attended before it was cancelled: delivered, not refunded
    code.state = CodeState.cancelled
    share = rules.session_share(purchase.amount, minutes, total, purchase.refunded_amount)
    row = SessionRefund(
        purchase_id=purchase.id,
        session_id=session_id,
        amount=share,
        void_transfer_id=new_id(),
        new_pending_transfer_id=new_id(),
    )
    if share:
        with contextlib.suppress(PendingAlreadyVoided):
            ledger.void_purchase(
                session,
                transfer_id=row.void_transfer_id,
                pending_id=purchase.pending_transfer_id,
                actor=actor,
                reason="session_cancelled",
            )
        ledger.authorise_purchase(
            session,
            transfer_id=row.new_pending_transfer_id,
            participant_id=purchase.participant_id,
            institution_id=purchase.institution_id,
            amount=purchase.amount - purchase.refunded_amount - share,
            purchase_ref=str(purchase.id),
            timeout=rules.RESERVE_TIMEOUT,
            actor=actor,
        )
        purchase.pending_transfer_id = row.new_pending_transfer_id
        purchase.refunded_amount += share
    repository.add(session, row)
    events.emit_both(
        session,
        purchase.platform_id,
        purchase.institution_id,
        "session.cancelled",
        {"purchase_id": str(purchase.id), "session_id": str(session_id), "refunded": share},
    )
    return share


def cancel_session(session: Session, *, session_id: uuid.UUID, actor: audit.Actor, reason: str) -> int:
    """The program cancels a session: the catalogue marks it, every purchase under way gets the session's share of
    its price back in the balance (by minutes), its code is cancelled. Safe to run twice. Returns purchases
    refunded."""
    cancelled = catalog.cancel_session(session, session_id=session_id, actor=actor, reason=reason)
    if cancelled is None:
        raise SessionNotFound()
    plan = catalog.course_sessions(session, cancelled.course_id)
    total = sum(s.duration_minutes for s in plan)
    refunded = 0
    for purchase_id in repository.purchases_with_session(session, session_id):
        purchase = repository.purchase(session, purchase_id, lock=True)
        if purchase is None or purchase.status not in repository.UNDER_WAY:
            continue
        if _refund(session, purchase, session_id, cancelled.duration_minutes, total, actor):
            refunded += 1
    session.flush()
    return refunded

"""Clawback (PROGRAM.md step 13): a recipient found ineligible must return what the program paid them within 60
days, or face a civil claim. An officer with authority opens the demand with the reason (audited): the amount is
what was paid (incentives paid plus training balance spent) or a stated amount; unpaid entitlements are cancelled;
the ledger tracks the receivable (``ledger.service.demand_repayment``). Officers record repayments under the payer's
reference (audited; the same reference twice records once); a daily job marks demands overdue after 60 days.
Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import Conflict, ValidationFailed
from prakerja.ledger import service as ledger
from prakerja.payouts import rules
from prakerja.payouts.errors import (
    AmountInvalid,
    ClawbackClosed,
    ClawbackExists,
    ClawbackNotFound,
    NothingToClaw,
    ReasonRequired,
    RecipientNotFound,
    RepaymentTooLarge,
)
from prakerja.payouts.models import Clawback, ClawbackRepayment, ClawbackStatus
from prakerja.payouts.repository import clawbacks as repository
from prakerja.payouts.service import entitlements
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient
from prakerja.training import service as training

MIN_REASON = 10
"""A demand's reason is the finding in words (a few words at least)."""


@dataclass(frozen=True)
class Owed:
    incentives_paid: int
    training_spent: int

    @property
    def total(self) -> int:
        return self.incentives_paid + self.training_spent


def recipient_by_card(session: Session, card_number: str) -> Recipient:
    found = recipients.recipient_by_card(session, card_number)
    if found is None:
        raise RecipientNotFound()
    return found


def owed(session: Session, recipient_id: uuid.UUID) -> Owed:
    """What the program paid the recipient: incentives paid to their account and training balance spent."""
    return Owed(
        incentives_paid=entitlements.paid_total(session, recipient_id),
        training_spent=training.incentives.spent(session, recipient_id),
    )


def open_clawback(
    session: Session, *, recipient_id: uuid.UUID, reason: str, actor: audit.Actor, amount: int | None = None
) -> Clawback:
    """Demand repayment from a recipient found ineligible: ``amount`` (or everything paid to them), due in 60 days."""
    words = " ".join(reason.split())
    if len(words) < MIN_REASON:
        raise ReasonRequired()
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
        raise AmountInvalid()
    recipient = recipients.by_id(session, recipient_id)
    if recipient is None:
        raise RecipientNotFound()
    entitlements.lock(session, recipient.id)
    if repository.open_of_recipient(session, recipient.id) is not None:
        raise ClawbackExists()
    paid = owed(session, recipient.id)
    due = amount if amount is not None else paid.total
    if due <= 0:
        raise NothingToClaw()
    cancelled = entitlements.cancel_unpaid(session, recipient.id, actor=actor, reason=words[:500])
    clawback = Clawback(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        amount_due=due,
        amount_repaid=0,
        due_on=rules.clawback_due_on(entitlements.today()),
        status=ClawbackStatus.open,
        reason=words[:2000],
        created_by=str(actor.id or actor.role),
    )
    repository.add(session, clawback)
    transfer_id = rules.payouts_id("clawback", clawback.id)
    ledger.demand_repayment(
        session,
        transfer_id=transfer_id,
        clawback_id=clawback.id,
        participant_id=recipient.applicant_id,
        amount=due,
        actor=actor,
        reason=words[:500],
    )
    clawback.demand_transfer_id = transfer_id
    session.flush()
    audit.record(
        session,
        actor,
        "payouts.clawback_opened",
        "clawback",
        clawback.id,
        reason=words[:500],
        data={
            "recipient_id": str(recipient.id),
            "amount_due": due,
            "incentives_paid": paid.incentives_paid,
            "training_spent": paid.training_spent,
            "stated": amount is not None,
            "entitlements_cancelled": cancelled,
            "due_on": clawback.due_on.isoformat(),
        },
    )
    return clawback


def record_repayment(
    session: Session, *, clawback_id: uuid.UUID, amount: int, reference: str, actor: audit.Actor
) -> Clawback:
    """Money came back under ``reference``: the receivable shrinks, the treasury gets it; fully repaid closes the
    demand. The same reference again with the same amount changes nothing."""
    ref = reference.strip()
    if not (1 <= len(ref) <= 64) or not ref.isprintable():
        raise ValidationFailed(
            "Tuliskan referensi pembayaran (paling banyak 64 karakter).",
            "Write the payment's reference (at most 64 characters).",
            code="reference_required",
            details={"field": "reference"},
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise AmountInvalid()
    clawback = repository.clawback(session, clawback_id, lock=True)
    if clawback is None:
        raise ClawbackNotFound()
    earlier = repository.repayment(session, clawback.id, ref)
    if earlier is not None:
        if earlier.amount != amount:
            raise Conflict(
                "Referensi ini sudah dicatat dengan jumlah lain.",
                "This reference was recorded with another amount.",
                code="repayment_reference_taken",
                details={"field": "reference"},
            )
        return clawback
    if clawback.status not in (ClawbackStatus.open, ClawbackStatus.overdue):
        raise ClawbackClosed()
    if amount > clawback.amount_due - clawback.amount_repaid:
        raise RepaymentTooLarge()
    transfer_id = rules.payouts_id("clawback_repayment", clawback.id, ref)
    ledger.record_repayment(
        session, transfer_id=transfer_id, clawback_id=clawback.id, amount=amount, actor=actor, reason=ref
    )
    repository.add(
        session,
        ClawbackRepayment(
            clawback_id=clawback.id,
            amount=amount,
            reference=ref,
            transfer_id=transfer_id,
            recorded_by=str(actor.id or actor.role),
        ),
    )
    clawback.amount_repaid += amount
    if clawback.amount_repaid == clawback.amount_due:
        clawback.status = ClawbackStatus.repaid
    session.flush()
    audit.record(
        session,
        actor,
        "payouts.clawback_repayment_recorded",
        "clawback",
        clawback.id,
        reason=ref,
        data={"amount": amount, "repaid": clawback.amount_repaid, "status": clawback.status.value},
    )
    return clawback


def withdraw(session: Session, *, clawback_id: uuid.UUID, reason: str, actor: audit.Actor) -> Clawback:
    """An officer withdraws a demand raised in error, with the reason (audited): what was still owed leaves the
    ledger's receivable (``ledger.service.withdraw_demand``), the entitlements the demand cancelled are owed again,
    and the person sees the demand withdrawn. What was already repaid stays recorded (a refund is a payment of its
    own). Withdrawing a withdrawn demand changes nothing; a repaid one cannot be withdrawn."""
    words = " ".join(reason.split())
    if len(words) < MIN_REASON:
        raise ReasonRequired()
    clawback = repository.clawback(session, clawback_id, lock=True)
    if clawback is None:
        raise ClawbackNotFound()
    if clawback.status is ClawbackStatus.withdrawn:
        return clawback
    if clawback.status not in (ClawbackStatus.open, ClawbackStatus.overdue):
        raise ClawbackClosed()
    entitlements.lock(session, clawback.recipient_id)
    outstanding = clawback.amount_due - clawback.amount_repaid
    if outstanding > 0:
        ledger.withdraw_demand(
            session,
            transfer_id=rules.payouts_id("clawback_withdrawn", clawback.id),
            clawback_id=clawback.id,
            amount=outstanding,
            actor=actor,
            reason=words[:500],
        )
    clawback.status = ClawbackStatus.withdrawn
    clawback.withdrawn_at = utcnow()
    clawback.withdrawal_reason = words[:2000]
    session.flush()
    restored = entitlements.restore_cancelled(session, clawback.recipient_id, actor=actor, ref=str(clawback.id))
    audit.record(
        session,
        actor,
        "payouts.clawback_withdrawn",
        "clawback",
        clawback.id,
        reason=words[:500],
        data={
            "recipient_id": str(clawback.recipient_id),
            "released": outstanding,
            "repaid": clawback.amount_repaid,
            "entitlements_restored": restored,
        },
    )
    return clawback


def mark_overdue(session: Session) -> int:
    """Daily: open demands past their 60 days become overdue (set-based; safe to run twice)."""
    return repository.mark_overdue(session, entitlements.today())


def clawback(session: Session, clawback_id: uuid.UUID) -> Clawback:
    found = repository.clawback(session, clawback_id)
    if found is None:
        raise ClawbackNotFound()
    return found


def of_recipient(session: Session, recipient_id: uuid.UUID) -> list[Clawback]:
    return repository.of_recipient(session, recipient_id)


def latest(session: Session, limit: int = 100) -> list[Clawback]:
    return repository.latest(session, limit)


def repayments(session: Session, clawback_id: uuid.UUID) -> list[ClawbackRepayment]:
    return repository.repayments(session, clawback_id)

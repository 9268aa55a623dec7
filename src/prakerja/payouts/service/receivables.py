"""Clawback from institutions and platforms (ADR 0026): a purchase refunded after the settlement for its month was
paid. The participant's balance gets the amount back; the institution owes its share and the platform the share of
its commission (``rules.refund_shares``: in the proportions they were paid): a receivable each (the training
ledger's ``institution_receivable`` / ``platform_receivable``, through ``ledger.service`` as participants' repayment
demands are), deducted from their next settlements (``settlements.prepare``), each deduction shown on the settlement
with its reason.

Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import JAKARTA
from prakerja.kit.errors import NotFound
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.partners import service as partners
from prakerja.payouts import rules
from prakerja.payouts.errors import AlreadyClaimed, PurchaseNotSettled, RefundAmountInvalid, SettlementNotPaid
from prakerja.payouts.models import Receivable, ReceivableStatus, SettlementStatus
from prakerja.payouts.repository import settlements as repository
from prakerja.training import service as training

CLAIMABLE = (SettlementStatus.in_flight, SettlementStatus.paid)
"""A settlement whose money has left the institution's payable: a refund of its month is claimed back."""


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise PurchaseNotSettled() from None


def refund_after_settlement(
    session: Session, *, purchase_id: str | uuid.UUID, amount: int, reason: str, actor: audit.Actor
) -> Receivable:
    """Refund ``amount`` of a purchase whose completion was accepted in a month the institution was paid for: the
    institution's receivable -> the participant's balance, and a receivable row (one per purchase) its next
    settlements deduct. Refused: an unknown or unsettled purchase, an amount above its price, a month not paid yet
    (the refund comes from the payable then), a purchase already claimed."""
    found = training.settlement.settled_purchase(session, _uuid(purchase_id))
    if found is None:
        raise PurchaseNotSettled()
    if not 0 < amount <= found.gross:
        raise RefundAmountInvalid()
    period = f"{found.accepted_at.astimezone(JAKARTA):%Y-%m}"
    settlement = repository.settlement_of(session, found.institution_id, period, lock=True)
    if settlement is None or settlement.status not in CLAIMABLE:
        raise SettlementNotPaid(details={"period": period})
    if repository.purchase_claimed(session, found.purchase_id):
        raise AlreadyClaimed()
    institution_share, platform_share = rules.refund_shares(amount, gross=found.gross, commission=found.commission)
    claims = [(found.institution_id, institution_share, False)]
    if platform_share:
        claims.append((found.platform_id, platform_share, True))
    made = []
    for organisation_id, share, platform in claims:
        made.append(_claim(session, found, organisation_id, share, period, reason, actor, platform=platform))
    audit.record(
        session,
        actor,
        "payouts.institution_clawback",
        "partner",
        found.institution_id,
        reason=reason[:200],
        data={
            "receivable_id": str(made[0].id),
            "purchase_id": str(found.purchase_id),
            "period": period,
            "amount": amount,
            "institution_share": institution_share,
            "platform_share": platform_share,
        },
    )
    if platform_share:
        audit.record(
            session,
            actor,
            "payouts.platform_clawback",
            "partner",
            found.platform_id,
            reason=reason[:200],
            data={
                "receivable_id": str(made[1].id),
                "purchase_id": str(found.purchase_id),
                "period": period,
                "amount": platform_share,
            },
        )
    return made[0]


def _claim(
    session: Session,
    found: training.settlement.SettledPurchase,
    organisation_id: uuid.UUID,
    share: int,
    period: str,
    reason: str,
    actor: audit.Actor,
    *,
    platform: bool,
) -> Receivable:
    """One organisation's share: its receivable -> the participant's wallet, and the receivable row."""
    transfer_id = new_id()
    claim = ledger.claim_from_platform if platform else ledger.claim_from_institution
    claim(
        session,
        transfer_id=transfer_id,
        participant_id=found.participant_id,
        amount=share,
        purchase_ref=str(found.purchase_id),
        actor=actor,
        reason=reason[:200],
        **{"platform_id" if platform else "institution_id": organisation_id},
    )
    receivable = Receivable(
        organisation_id=organisation_id,
        purchase_id=found.purchase_id,
        period=period,
        amount=share,
        recovered=0,
        reason=reason[:200],
        transfer_id=transfer_id,
        status=ReceivableStatus.open,
        created_by="system" if actor.id is None else str(actor.id),
    )
    session.add(receivable)
    session.flush()
    return receivable


def deduct(
    session: Session,
    organisation_id: uuid.UUID,
    *,
    settlement_ref: str,
    available: int,
    actor: audit.Actor,
    platform: bool = False,
) -> tuple[int, list[dict[str, object]]]:
    """Deduct what the institution (or, with ``platform``, the platform) still owes (its open receivables, oldest
    first) from a settlement that can pay ``available``: its payable -> its receivable (one ledger transfer), each
    receivable's recovered amount raised. Returns the total and the lines the settlement shows."""
    owed = repository.open_receivables(session, organisation_id, lock=True)
    plan = rules.deduction_plan([(r.id, r.amount - r.recovered) for r in owed], available)
    total = sum(amount for _id, amount in plan)
    if not total:
        return 0, []
    ledger.net_receivable(
        session,
        transfer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"prakerja:clawback_netted:{settlement_ref}"),
        organisation_id=organisation_id,
        amount=total,
        settlement_ref=settlement_ref,
        actor=actor,
        platform=platform,
        reason="deducted from the settlement",
    )
    by_id = {r.id: r for r in owed}
    lines: list[dict[str, object]] = []
    for receivable_id, amount in plan:
        receivable = by_id[receivable_id]
        receivable.recovered += amount
        if receivable.recovered == receivable.amount:
            receivable.status = ReceivableStatus.recovered
        lines.append(
            {
                "receivable_id": str(receivable.id),
                "purchase_id": str(receivable.purchase_id),
                "period": receivable.period,
                "amount": amount,
                "reason": receivable.reason,
            }
        )
    session.flush()
    return total, lines


# reading -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivableView:
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    purchase_id: uuid.UUID
    period: str
    amount: int
    recovered: int
    outstanding: int
    reason: str
    status: str
    created_at: datetime


def _views(session: Session, rows: list[Receivable]) -> list[ReceivableView]:
    names: dict[uuid.UUID, str] = {}
    out = []
    for r in rows:
        if r.organisation_id not in names:
            try:
                names[r.organisation_id] = partners.find_partner(session, str(r.organisation_id)).name
            except NotFound:
                names[r.organisation_id] = "?"
        out.append(
            ReceivableView(
                id=r.id,
                organisation_id=r.organisation_id,
                organisation_name=names[r.organisation_id],
                purchase_id=r.purchase_id,
                period=r.period,
                amount=r.amount,
                recovered=r.recovered,
                outstanding=r.amount - r.recovered,
                reason=r.reason,
                status=r.status.value,
                created_at=r.created_at,
            )
        )
    return out


def of_organisation(session: Session, organisation_id: uuid.UUID) -> list[ReceivableView]:
    return _views(session, repository.receivables_of(session, organisation_id))


def overview(session: Session, *, limit: int = 200) -> list[ReceivableView]:
    return _views(session, repository.recent_receivables(session, limit))


def owed(session: Session, organisation_id: uuid.UUID, *, platform: bool = False) -> int:
    """What the institution (or the platform) still owes back (the ledger's receivable)."""
    return ledger.organisation_receivable(session, organisation_id, platform=platform).balance

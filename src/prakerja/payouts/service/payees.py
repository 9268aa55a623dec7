"""Who a payout instruction pays, and between which ledger accounts its money moves. The run machinery (``runs``,
``results``, reconciliation) is one for every payee (ADR 0016); only this module knows the difference:

- a participant's **entitlement** (incentive runs), cash ledger: incentive (or survey-incentive) payable -> payouts
  in flight (one per batch) -> disbursed; to the participant's linked payout account;
- an organisation's **settlement** of one period (settlement runs), training ledger, where captured purchases are
  owed: institution payable (or platform commission) -> settlement in flight (one per batch) -> settled; to the
  organisation's verified settlement account, the statement of the period named as remittance information.

Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.ledger import service as ledger
from prakerja.ledger.models import TransferCode
from prakerja.payouts.models import (
    BeneficiaryType,
    Entitlement,
    EntitlementKind,
    InstructionStatus,
    PayoutInstruction,
    RunKind,
    Settlement,
    SettlementStatus,
)
from prakerja.payouts.repository import runs as run_repository
from prakerja.payouts.repository import settlements as settlement_repository

RUN_KINDS: dict[RunKind, tuple[EntitlementKind, ...]] = {
    RunKind.incentives: (EntitlementKind.incentive, EntitlementKind.survey_incentive),
    RunKind.settlement: (),
}
"""The entitlements each kind of run pays (a settlement run pays settlements, no entitlement)."""


@dataclass(frozen=True)
class Codes:
    """The ledger's transfer codes of one instruction's life."""

    out: TransferCode
    """payable -> in flight (the run)"""
    settled: TransferCode
    """in flight -> paid (the partner confirmed)"""
    failed: TransferCode
    """in flight (or paid, on a reversal) -> payable"""


INCENTIVE_CODES = Codes(TransferCode.payout, TransferCode.payout_settled, TransferCode.payout_failed)
SETTLEMENT_CODES = Codes(TransferCode.settlement, TransferCode.settlement_paid, TransferCode.settlement_failed)


@dataclass(frozen=True)
class Due:
    """One settlement a settlement run pays, to the organisation's settlement account."""

    item: Settlement
    provider_id: uuid.UUID
    account_id: uuid.UUID
    """The organisation's settlement account."""

    @property
    def key(self) -> uuid.UUID:
        """What the end-to-end id is derived from (with the attempt)."""
        return self.item.id

    @property
    def amount(self) -> int:
        return self.item.amount


def due_settlements(session: Session) -> list[Due]:
    """The settlements a settlement run pays, locked (rows another worker holds are skipped). An incentive run's
    entitlements are claimed set-based by the run itself (``runs``, ADR 0017), not through here."""
    return [Due(s, a.provider_id, a.id) for s, a in settlement_repository.due(session)]


def attempts_made(session: Session, dues: list[Due]) -> dict[uuid.UUID, int]:
    """Instructions already made per settlement (the next one is attempt + 1, with a new end-to-end id)."""
    return settlement_repository.attempts_made(session, [d.key for d in dues]) if dues else {}


def instruction(
    session: Session,
    found: Due,
    *,
    end_to_end_id: str,
    run_id: uuid.UUID,
    batch_id: uuid.UUID,
    attempt: int,
    pending_transfer_id: uuid.UUID,
) -> PayoutInstruction:
    """The instruction paying the settlement ``found``; the settlement goes in flight."""
    item = found.item
    item.status = SettlementStatus.in_flight
    item.blocked_reason = None
    return PayoutInstruction(
        end_to_end_id=end_to_end_id,
        run_id=run_id,
        batch_id=batch_id,
        provider_id=found.provider_id,
        amount=found.amount,
        attempt=attempt,
        pending_transfer_id=pending_transfer_id,
        status=InstructionStatus.ready,
        sends=0,
        beneficiary_type=item.beneficiary_type,
        beneficiary_id=item.organisation_id,
        settlement_id=item.id,
        settlement_account_id=found.account_id,
        settlement_ref=item.statement_ref,
    )


# the ledger -----------------------------------------------------------------------------------------------------


def entitlement_payable(session: Session, entitlement: Entitlement) -> uuid.UUID:
    opener = (
        ledger.survey_incentive_payable
        if entitlement.kind is EntitlementKind.survey_incentive
        else ledger.incentive_payable
    )
    return opener(session, entitlement.participant_id, scheme=entitlement.scheme, year=entitlement.year).id


def settlement_payable(session: Session, settlement: Settlement) -> uuid.UUID:
    return ledger.organisation_payable(
        session, settlement.organisation_id, platform=settlement.beneficiary_type is BeneficiaryType.platform
    ).id


def payable_of(
    session: Session, instruction: PayoutInstruction, cache: dict[tuple[object, ...], uuid.UUID] | None = None
) -> uuid.UUID | None:
    """The ledger account the instruction's money comes from (and returns to when it fails)."""
    cache = {} if cache is None else cache
    if instruction.settlement_id is not None:
        found = settlement_repository.settlement(session, instruction.settlement_id)
        if found is None:
            return None
        key: tuple[object, ...] = ("settlement", found.organisation_id, found.beneficiary_type)
        if key not in cache:
            cache[key] = settlement_payable(session, found)
        return cache[key]
    if instruction.entitlement_id is None:
        return None
    entitlement = run_repository.entitlement(session, instruction.entitlement_id)
    if entitlement is None:
        return None
    key = (entitlement.participant_id, entitlement.kind, entitlement.scheme, entitlement.year)
    if key not in cache:
        cache[key] = entitlement_payable(session, entitlement)
    return cache[key]


def open_payable(session: Session, found: Due, cache: dict[tuple[object, ...], uuid.UUID]) -> uuid.UUID:
    """The payable a due settlement is paid from, opened in the run's own transaction (the ledger's batch path, on
    other connections, must find it committed)."""
    item = found.item
    key: tuple[object, ...] = ("settlement", item.organisation_id, item.beneficiary_type)
    if key not in cache:
        cache[key] = settlement_payable(session, item)
    return cache[key]


def in_flight(session: Session, batch_id: uuid.UUID, kind: RunKind) -> uuid.UUID:
    """The batch's in-flight account (opened on first use)."""
    if kind is RunKind.settlement:
        return ledger.settlement_in_flight(session, batch_id).id
    return ledger.payouts_in_flight(session, batch_id).id


def in_flight_of(session: Session, instruction: PayoutInstruction) -> uuid.UUID:
    return in_flight(session, instruction.batch_id, kind_of(instruction))


def paid_account(session: Session, instruction: PayoutInstruction) -> uuid.UUID:
    """Where confirmed payments end: disbursed (participants) or settled (organisations)."""
    if instruction.settlement_id is not None:
        return ledger.settled(session).id
    return ledger.disbursed(session).id


def kind_of(instruction: PayoutInstruction) -> RunKind:
    return RunKind.settlement if instruction.settlement_id is not None else RunKind.incentives


def codes(instruction: PayoutInstruction) -> Codes:
    return SETTLEMENT_CODES if instruction.settlement_id is not None else INCENTIVE_CODES


# what the partner receives --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    number: str
    name: str
    remittance: str
    """Empty for an incentive; a settlement names the statement (period and reference) it pays."""


def remittance(settlement: Settlement) -> str:
    """The remittance information of a settlement payment (pain.001 ``RmtInf/Ustrd``, the API's ``remittance``):
    the statement it pays, which is the remittance advice on the organisation's portal."""
    return f"PRAKERJA SETTLEMENT {settlement.period} {settlement.statement_ref}"[:140]


def destination(session: Session, instruction: PayoutInstruction) -> Destination:
    if instruction.settlement_account_id is not None:
        account = settlement_repository.account(session, instruction.settlement_account_id)
        found = settlement_of(session, instruction)
        return Destination(
            account.number if account else "",
            (account.reported_holder_name or account.holder_name) if account else "",
            remittance(found) if found else "",
        )
    linked = run_repository.account(session, instruction.payout_account_id) if instruction.payout_account_id else None
    return Destination(linked.number if linked else "", (linked.holder_name or "") if linked else "", "")


# what a result does to the item paid ------------------------------------------------------------------------------


def settlement_of(session: Session, instruction: PayoutInstruction, *, lock: bool = False) -> Settlement | None:
    if instruction.settlement_id is None:
        return None
    return settlement_repository.settlement(session, instruction.settlement_id, lock=lock)


def settlement_paid(session: Session, settlement: Settlement, *, now: datetime) -> None:
    settlement.status = SettlementStatus.paid
    settlement.paid_at = now
    settlement.blocked_reason = None


def settlement_failed(
    session: Session, settlement: Settlement, instruction: PayoutInstruction, reason: str, *, account: bool
) -> None:
    """An account reason: the organisation must record a verified account again (the account is marked failed);
    a technical one after every resend: the next settlement run pays it again (a new attempt)."""
    if account:
        settlement.status = SettlementStatus.needs_action
        settlement.blocked_reason = reason[:40]
        if instruction.settlement_account_id is not None:
            settlement_repository.account_failed(session, instruction.settlement_account_id)
        settlement_repository.hold_scheduled(session, settlement.organisation_id, "settlement_account_rejected")
    else:
        settlement.status = SettlementStatus.scheduled


def settlement_reversed(session: Session, settlement: Settlement, instruction: PayoutInstruction) -> None:
    settlement.status = SettlementStatus.needs_action
    settlement.blocked_reason = "payout_reversed"
    settlement.paid_at = None
    if instruction.settlement_account_id is not None:
        settlement_repository.account_failed(session, instruction.settlement_account_id)
    settlement_repository.hold_scheduled(session, settlement.organisation_id, "settlement_account_rejected")

"""Applying what a payment partner reports of an instruction (a callback, a status answer, a pain.002 line), once.

Every report is stored in ``payouts_results`` first (one row per partner event id: a replayed event finds its row
and changes nothing), then applied to the instruction under its row lock, or kept with the reason it was not:
``unknown_instruction``, ``wrong_provider``, ``amount_mismatch``, ``duplicate`` (the instruction is already
where the report would take it), ``stale`` (a failure after a success, or news of an instruction already final).
The ledger moves with deterministic transfer ids (uuid5 of the end-to-end id), so even a report applied twice by
some race could not move money twice.

- succeeded: payouts in flight -> disbursed; the entitlement is paid.
- failed for an account reason: in flight -> back to the payable; the entitlement needs the participant's action,
  the account is marked failed and the participant is told.
- failed for a technical reason: the same end-to-end id is sent again after a backoff (the partner dedupes);
  after :data:`MAX_SENDS` sends, in flight -> back to the payable and the entitlement is scheduled again (a later
  run sends it with the next attempt's id).
- reversed (after a success): disbursed -> back to the payable; the entitlement needs the participant's action.

A provider settlement (ADR 0016) goes the same way on its own accounts (``payees``): settlement in flight ->
settled; back to the organisation's payable on a failure or a reversal; an account reason puts the settlement in
``needs_action`` until the organisation records a verified account again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.kit.money import format_rupiah
from prakerja.ledger import service as ledger
from prakerja.ledger.models import TransferCode
from prakerja.ledger.schemas import BatchTransfer, TransferCreate
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.payouts.models import (
    Entitlement,
    EntitlementStatus,
    InstructionStatus,
    PayoutInstruction,
    PayoutProvider,
    ResultSource,
)
from prakerja.payouts.providers.paying import Report
from prakerja.payouts.repository import runs as repository
from prakerja.payouts.service import payees

log = logging.getLogger(__name__)

ACCOUNT_REASONS = frozenset({"account_not_found", "account_closed", "account_blocked", "name_mismatch"})
"""The participant must act (docs/payouts-partner-interface.md 4.3); every other reason is technical."""
MAX_SENDS = 6
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
)


def backoff(sends: int) -> timedelta:
    """How long to wait before the next send after ``sends`` sends."""
    return BACKOFF[min(max(sends, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Outcome:
    applied: bool
    rejection: str | None = None


TRANSFER_NAMESPACE = uuid.UUID("5b0f7c1e-3d2a-5e8b-9a41-7c6d2f0e9b13")
"""uuid5 namespace of the payouts' ledger transfer ids."""


def system_id(*parts: object) -> uuid.UUID:
    """A deterministic ledger transfer id for one step of payouts (the same step always gets the same id)."""
    return uuid.uuid5(TRANSFER_NAMESPACE, ":".join(str(p) for p in parts))


_UUID5_KEEP = ((1 << 128) - 1) & ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID5_SET = (5 << 76) | (0x8000 << 48)


def step_ids(step: str, end_to_end_ids: Iterable[str]) -> list[uuid.UUID]:
    """``system_id("payouts", step, e2e)`` of each end-to-end id, in order, without rebuilding the namespace and the
    common prefix every time (a run's million instructions; the same ids, as tests/payouts/test_rules.py checks)."""
    prefix = TRANSFER_NAMESPACE.bytes + f"payouts:{step}:".encode()
    sha1, from_bytes, make = hashlib.sha1, int.from_bytes, uuid.UUID
    return [
        make(int=(from_bytes(sha1(prefix + e2e.encode()).digest()[:16], "big") & _UUID5_KEEP) | _UUID5_SET)
        for e2e in end_to_end_ids
    ]


def transfer_ids(end_to_end_id: str) -> dict[str, uuid.UUID]:
    """The ledger transfer ids of one instruction's life (the same id every time: retries are idempotent)."""
    return {step: system_id("payouts", step, end_to_end_id) for step in ("out", "settled", "failed", "reversed")}


def payable(session: Session, entitlement: Entitlement) -> uuid.UUID:
    return payees.entitlement_payable(session, entitlement)


def apply_report(
    session: Session,
    provider: PayoutProvider,
    report: Report,
    *,
    source: ResultSource,
    event_id: str,
    now: datetime,
) -> Outcome:
    """Store ``report`` and apply it if it should be (in the caller's transaction)."""
    result_id = repository.insert_result(
        session,
        {
            "provider_id": provider.id,
            "source": source,
            "event_id": event_id[:100],
            "end_to_end_id": report.end_to_end_id[:35],
            "reported_status": report.status[:16],
            "reason_code": (report.reason or None) and str(report.reason)[:40],
            "amount": report.amount,
            "occurred_at": report.occurred_at,
            "received_at": now,
            "applied": False,
            "rejection": None,
        },
    )
    if result_id is None:
        return Outcome(False, "replayed")
    outcome = _apply(session, provider, report, now=now)
    repository.decide_result(session, result_id, applied=outcome.applied, rejection=outcome.rejection)
    return outcome


def apply_reports(
    session: Session,
    provider: PayoutProvider,
    reports: Sequence[tuple[Report, str]],
    *,
    source: ResultSource,
    now: datetime,
) -> int:
    """Store and apply many reports at once (a pain.002 file): (report, event id) pairs, in the caller's
    transaction; returns how many were applied. The outcome is the one :func:`apply_report` gives each of them:
    every report is stored once per event id (a replayed one changes nothing), and the common case (a success of an
    open instruction of this provider with its amount) is applied set-wise: one UPDATE of the instructions (each
    row's lock, its status checked again under it) and of their entitlements, one ledger batch in flight ->
    disbursed (``ledger.service.post_batch``, transfer ids uuid5 of the end-to-end id as one by one, referenced to
    the batch), then the results, each written once as decided (the settled ones ``applied``). Anything else
    (failures, reversals, a second report of one id, mismatches) goes through :func:`apply_report`'s own rules one
    at a time."""
    if not reports:
        return 0
    by_event = {event_id[:100]: report for report, event_id in reports}
    new = repository.stage_results(
        session,
        (
            (
                source.value,
                event_id,
                report.end_to_end_id[:35],
                report.status[:16],
                (report.reason or None) and str(report.reason)[:40],
                report.amount,
                report.occurred_at,
                now,
            )
            for event_id, report in by_event.items()
        ),
        provider_id=provider.id,
    )
    if not new:
        return 0
    per_e2e: dict[str, int] = {}
    for event_id in new:
        e2e = by_event[event_id].end_to_end_id[:35]
        per_e2e[e2e] = per_e2e.get(e2e, 0) + 1
    # the common case, set-wise: the one new report of an id is a success
    paid = {
        by_event[event_id].end_to_end_id[:35]: event_id
        for event_id in new
        if per_e2e[by_event[event_id].end_to_end_id[:35]] == 1 and by_event[event_id].status == "succeeded"
    }
    settled = repository.settle_open(
        session, provider.id, [(e2e, by_event[event_id].amount) for e2e, event_id in paid.items()], now=now
    )
    if settled:
        disbursed = ledger.disbursed(session).id
        in_flight: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
        transfers = []
        ids = step_ids("settled", [instruction.end_to_end_id for instruction in settled])
        for instruction, transfer_id in zip(settled, ids, strict=True):
            if instruction.batch_id not in in_flight:
                account = ledger.payouts_in_flight(session, instruction.batch_id).id
                in_flight[instruction.batch_id] = (account, str(instruction.batch_id))
            account, reference = in_flight[instruction.batch_id]
            transfers.append(
                BatchTransfer(
                    transfer_id,
                    account,
                    disbursed,
                    instruction.amount,
                    TransferCode.payout_settled,
                    "payout_batch",
                    reference,
                )
            )
        ledger.post_batch(session, transfers)
    # stored once, as decided: the settled ones applied; the others are decided below
    stored = repository.store_staged_results(
        session, provider_id=provider.id, applied=[paid[instruction.end_to_end_id] for instruction in settled]
    )
    # everything else (failures, reversals, several reports of one id, mismatches, news of a final instruction)
    # one at a time, under :func:`apply_report`'s rules, in the order the partner reported them
    applied = len(settled)
    if stored:
        order = {event_id: index for index, event_id in enumerate(new)}
        stored.sort(key=lambda r: order[r.event_id])
    for row in stored:
        outcome = _apply(session, provider, by_event[row.event_id], now=now)
        repository.decide_result(session, row.id, applied=outcome.applied, rejection=outcome.rejection)
        applied += outcome.applied
    return applied


def record_refusal(
    session: Session,
    provider: PayoutProvider | None,
    *,
    source: ResultSource,
    end_to_end_id: str,
    rejection: str,
    now: datetime,
) -> None:
    """Keep a report refused before it could be read (bad signature): never applied."""
    repository.insert_result(
        session,
        {
            "provider_id": provider.id if provider else None,
            "source": source,
            "event_id": f"refused:{uuid.uuid4()}",
            "end_to_end_id": end_to_end_id[:35],
            "reported_status": "unknown",
            "reason_code": None,
            "amount": None,
            "occurred_at": None,
            "received_at": now,
            "applied": False,
            "rejection": rejection,
        },
    )


def _apply(session: Session, provider: PayoutProvider, report: Report, *, now: datetime) -> Outcome:
    instruction = repository.instruction_by_e2e(session, report.end_to_end_id, lock=True)
    if instruction is None:
        return Outcome(False, "unknown_instruction")
    if instruction.provider_id != provider.id:
        return Outcome(False, "wrong_provider")
    if report.amount is not None and report.amount != instruction.amount:
        log.warning("payout report with another amount", extra={"end_to_end_id": instruction.end_to_end_id})
        return Outcome(False, "amount_mismatch")
    status = instruction.status
    if report.status == "received":
        if status is InstructionStatus.ready:
            instruction.status = InstructionStatus.sent
            instruction.next_check_at = now + timedelta(minutes=10)
            return Outcome(True)
        return Outcome(False, "duplicate")
    if report.status == "succeeded":
        if status in (InstructionStatus.ready, InstructionStatus.sent):
            _succeed(session, instruction, now=now)
            return Outcome(True)
        return Outcome(False, "duplicate" if status is InstructionStatus.succeeded else "stale")
    if report.status == "failed":
        if status in (InstructionStatus.ready, InstructionStatus.sent):
            _fail(session, instruction, report.reason or "partner_error", now=now)
            return Outcome(True)
        return Outcome(False, "duplicate" if status is InstructionStatus.failed else "stale")
    if report.status == "reversed":
        if status in (InstructionStatus.ready, InstructionStatus.sent):
            _succeed(session, instruction, now=now)  # it was paid before it was reversed
            status = InstructionStatus.succeeded
        if status is InstructionStatus.succeeded:
            _reverse(session, instruction, report.reason or "reversed", now=now)
            return Outcome(True)
        return Outcome(False, "duplicate" if status is InstructionStatus.reversed else "stale")
    return Outcome(False, "unknown_status")


def _in_flight(session: Session, instruction: PayoutInstruction) -> uuid.UUID:
    return payees.in_flight_of(session, instruction)


def _move(
    session: Session,
    transfer_id: uuid.UUID,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    code: TransferCode,
    e2e: str,
) -> None:
    ledger.create_transfers(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=debit,
                credit_account_id=credit,
                amount=amount,
                code=code,
                ref_type="payout",
                ref_id=e2e,
            )
        ],
    )


def _succeed(session: Session, instruction: PayoutInstruction, *, now: datetime) -> None:
    ids = transfer_ids(instruction.end_to_end_id)
    _move(
        session,
        ids["settled"],
        _in_flight(session, instruction),
        payees.paid_account(session, instruction),
        instruction.amount,
        payees.codes(instruction).settled,
        instruction.end_to_end_id,
    )
    instruction.status = InstructionStatus.succeeded
    instruction.settled_at = now
    instruction.next_check_at = None
    settlement = payees.settlement_of(session, instruction, lock=True)
    if settlement is not None:
        payees.settlement_paid(session, settlement, now=now)
    if instruction.entitlement_id is not None:
        entitlement = repository.entitlement(session, instruction.entitlement_id, lock=True)
        if entitlement is not None:
            entitlement.status = EntitlementStatus.paid
            entitlement.paid_at = now


def _void(session: Session, instruction: PayoutInstruction) -> None:
    back_to = payees.payable_of(session, instruction)
    if back_to is None:
        return
    _move(
        session,
        transfer_ids(instruction.end_to_end_id)["failed"],
        _in_flight(session, instruction),
        back_to,
        instruction.amount,
        payees.codes(instruction).failed,
        instruction.end_to_end_id,
    )


def _fail(session: Session, instruction: PayoutInstruction, reason: str, *, now: datetime) -> None:
    entitlement = (
        repository.entitlement(session, instruction.entitlement_id, lock=True) if instruction.entitlement_id else None
    )
    if reason not in ACCOUNT_REASONS and instruction.sends < MAX_SENDS:
        # technical: the same end-to-end id goes again after a backoff; the money stays in flight
        instruction.status = InstructionStatus.ready
        instruction.failure_code = reason[:40]
        instruction.next_check_at = now + backoff(instruction.sends)
        return
    _void(session, instruction)
    instruction.status = InstructionStatus.failed
    instruction.failure_code = reason[:40]
    instruction.settled_at = now
    instruction.next_check_at = None
    settlement = payees.settlement_of(session, instruction, lock=True)
    if settlement is not None:
        payees.settlement_failed(session, settlement, instruction, reason, account=reason in ACCOUNT_REASONS)
    if entitlement is None:
        return
    if reason in ACCOUNT_REASONS:
        entitlement.status = EntitlementStatus.needs_action
        entitlement.blocked_reason = reason[:40]
        if instruction.payout_account_id is not None:
            repository.account_failed(session, instruction.payout_account_id, now=now)
            _notify(session, instruction.payout_account_id, instruction.amount)
    else:
        entitlement.status = EntitlementStatus.scheduled


def _reverse(session: Session, instruction: PayoutInstruction, reason: str, *, now: datetime) -> None:
    entitlement = (
        repository.entitlement(session, instruction.entitlement_id, lock=True) if instruction.entitlement_id else None
    )
    if entitlement is not None:
        _move(
            session,
            transfer_ids(instruction.end_to_end_id)["reversed"],
            ledger.disbursed(session).id,
            payable(session, entitlement),
            instruction.amount,
            TransferCode.payout_failed,
            instruction.end_to_end_id,
        )
        entitlement.status = EntitlementStatus.needs_action
        entitlement.blocked_reason = "payout_reversed"
        entitlement.paid_at = None
        if instruction.payout_account_id is not None:
            repository.account_failed(session, instruction.payout_account_id, now=now)
            _notify(session, instruction.payout_account_id, instruction.amount)
    settlement = payees.settlement_of(session, instruction, lock=True)
    if settlement is not None:
        _move(
            session,
            transfer_ids(instruction.end_to_end_id)["reversed"],
            payees.paid_account(session, instruction),
            payees.settlement_payable(session, settlement),
            instruction.amount,
            payees.codes(instruction).failed,
            instruction.end_to_end_id,
        )
        payees.settlement_reversed(session, settlement, instruction)
    instruction.status = InstructionStatus.reversed
    instruction.failure_code = reason[:40]


def _notify(session: Session, payout_account_id: uuid.UUID, amount: int) -> None:
    account = repository.account(session, payout_account_id)
    if account is None:
        return
    person = auth.get_account(session, account.account_id)
    if person is None:
        return
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=person.email,
        subject="Insentif Kartu Prakerja belum dapat dikirim",
        body=(
            f"Insentif sebesar {format_rupiah(amount)} tidak dapat dikirim ke rekening/e-wallet "
            f"{account.number_masked}: "
            "mitra pembayaran menolaknya. Silakan periksa atau tautkan ulang rekening Anda di dasbor Kartu Prakerja; "
            "insentif akan dikirim kembali setelahnya.\n\n"
            f"Your incentive of {format_rupiah(amount)} could not be sent to {account.number_masked}: "
            "the payment partner "
            "refused it. Please check or link your account again on your Kartu Prakerja dashboard; the incentive "
            "will be sent again afterwards."
        ),
        account_id=account.account_id,
    )

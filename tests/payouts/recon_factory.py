"""Small builders for reconciliation and portal tests: providers, runs, batches, instructions and results written
straight into the payouts tables (the run machinery is built elsewhere), and payments at the simulator."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.partners.service import credentials
from prakerja.payouts import rules
from prakerja.payouts.models import (
    AccountStatus,
    BatchStatus,
    BeneficiaryType,
    Channel,
    Difference,
    InstructionStatus,
    PayoutAccount,
    PayoutBatch,
    PayoutInstruction,
    PayoutProvider,
    PayoutResult,
    PayoutRun,
    ProviderKind,
    ResultSource,
    RunKind,
    RunStatus,
    Statement,
    StatementEntry,
)
from prakerja.simulators.payments.state import Partner, Payment
from tests.recipients.test_service import register

PAID_AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""10:00 WIB on 2 March 2026: the day the tests' payouts are booked."""
DAY = date(2026, 3, 2)


def create_provider(
    session: Session,
    *,
    code: str = "bni",
    kind: ProviderKind = ProviderKind.bank,
    base_url: str = "http://127.0.0.1:9/bni",
    secret: str = "whsec_" + "A" * 44,
    name: str | None = None,
) -> PayoutProvider:
    organisation = credentials.create_partner(
        session, name=name or f"Mitra Bayar {code.upper()}", role="payment_partner", actor=Actor.system()
    )
    provider = PayoutProvider(
        partner_id=organisation.id,
        code=code,
        name=name or code.upper(),
        kind=kind,
        channel=Channel.api,
        api_base_url=base_url,
        api_secret=secret,
    )
    session.add(provider)
    session.flush()
    return provider


def create_batch(session: Session, provider: PayoutProvider, *, run_date: date = DAY) -> PayoutBatch:
    run = session.scalar(select(PayoutRun).where(PayoutRun.kind == RunKind.incentives, PayoutRun.run_date == run_date))
    if run is None:
        run = PayoutRun(
            kind=RunKind.incentives, run_date=run_date, status=RunStatus.awaiting_results, started_by="system"
        )
        session.add(run)
        session.flush()
    batch = session.scalar(
        select(PayoutBatch).where(PayoutBatch.run_id == run.id, PayoutBatch.provider_id == provider.id)
    )
    if batch is None:
        batch = PayoutBatch(
            run_id=run.id,
            provider_id=provider.id,
            message_id=f"PKJ-{provider.code.upper()}-{run_date:%Y%m%d}",
            count=0,
            control_sum=0,
            status=BatchStatus.sent,
            sent_at=PAID_AT,
        )
        session.add(batch)
        session.flush()
    return batch


def create_instruction(
    session: Session,
    provider: PayoutProvider,
    *,
    amount: int = 600_000,
    status: InstructionStatus = InstructionStatus.succeeded,
    settled_at: datetime | None = PAID_AT,
    account: PayoutAccount | None = None,
    reference: str | None = None,
) -> PayoutInstruction:
    batch = create_batch(session, provider)
    instruction = PayoutInstruction(
        end_to_end_id=rules.end_to_end_id(reference or str(uuid.uuid4()), 1),
        run_id=batch.run_id,
        batch_id=batch.id,
        provider_id=provider.id,
        beneficiary_type=BeneficiaryType.participant,
        beneficiary_id=uuid.uuid4(),
        payout_account_id=account.id if account else None,
        amount=amount,
        pending_transfer_id=uuid.uuid4(),
        status=status,
        sends=1,
        settled_at=settled_at if status in {InstructionStatus.succeeded, InstructionStatus.reversed} else None,
        created_at=PAID_AT,
    )
    session.add(instruction)
    batch.count += 1
    batch.control_sum += amount
    session.flush()
    return instruction


def create_account_at(session: Session, provider: PayoutProvider, *, number: str) -> PayoutAccount:
    """A linked payout account (its recipient registered through the recipients' service)."""
    recipient = register(session)
    account = PayoutAccount(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        account_id=recipient.account_id,
        provider_id=provider.id,
        number=number,
        number_index=uuid.uuid4().bytes * 2,
        number_masked=rules.mask_number(number),
        holder_name="Siti Aminah",
        status=AccountStatus.active,
        linked_at=PAID_AT,
    )
    session.add(account)
    session.flush()
    return account


def create_result(
    session: Session,
    provider: PayoutProvider,
    instruction: PayoutInstruction,
    *,
    status: str = "succeeded",
    applied: bool = True,
    rejection: str | None = None,
) -> PayoutResult:
    result = PayoutResult(
        provider_id=provider.id,
        source=ResultSource.callback,
        event_id=f"evt-{uuid.uuid4()}",
        end_to_end_id=instruction.end_to_end_id,
        reported_status=status,
        amount=instruction.amount,
        occurred_at=PAID_AT,
        received_at=PAID_AT,
        applied=applied,
        rejection=rejection,
    )
    session.add(result)
    session.flush()
    return result


def pay_at_sim(partner: Partner, end_to_end_id: str, amount: int, *, at: datetime = PAID_AT, times: int = 1) -> Payment:
    """What the simulated partner did with an instruction: paid it ``times`` times on ``at``'s day."""
    payment = Payment(end_to_end_id=end_to_end_id, number="1234567890", amount=amount, batch_id="B1")
    for _ in range(times):
        payment.mark_paid(at)
    partner.payments[end_to_end_id] = payment
    return payment


def counts(session: Session) -> tuple[int, int, int, int]:
    """(statements, entries, differences, audit entries): what a refusal must leave untouched."""
    return (
        session.scalar(select(func.count()).select_from(Statement)) or 0,
        session.scalar(select(func.count()).select_from(StatementEntry)) or 0,
        session.scalar(select(func.count()).select_from(Difference)) or 0,
        session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
    )

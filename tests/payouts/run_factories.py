"""Keyword-only helpers for payout runs: payment providers, participants with an active payout account and
scheduled entitlements whose money is on the ledger's payable (the way account linking and the entitlement
schedule will leave them), without going through those flows. Used by the tests and benchmarks/payout_crashes.py."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth.models import Account, Role
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode, TransferCode
from prakerja.ledger.schemas import TransferCreate
from prakerja.partners import service as partners
from prakerja.payouts import rules
from prakerja.payouts.models import (
    AccountStatus,
    BeneficiaryType,
    Channel,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    PayoutAccount,
    PayoutProvider,
    ProviderKind,
    Settlement,
    SettlementAccount,
    SettlementAccountStatus,
    SettlementStatus,
)
from prakerja.recipients.models import Recipient
from prakerja.waves.models import Wave

SCHEME = "2023-normal"
YEAR = 2026
AMOUNT = 600_000
DUE = date(2026, 3, 2)


@dataclass(frozen=True)
class Participant:
    recipient_id: uuid.UUID
    participant_id: uuid.UUID
    account_id: uuid.UUID
    payout_account_id: uuid.UUID
    entitlement_id: uuid.UUID
    number: str
    provider_code: str


def create_provider(
    session: Session, *, code: str, base_url: str, secret: str, kind: ProviderKind, channel: Channel = Channel.api
) -> PayoutProvider:
    org = partners.create_partner(session, name=f"Mitra {code.upper()}", role="payment_partner", actor=Actor.system())
    provider = PayoutProvider(
        partner_id=org.id,
        code=code,
        name=f"Mitra {code.upper()}",
        kind=kind,
        channel=channel,
        api_base_url=base_url,
        api_secret=secret,
    )
    session.add(provider)
    session.flush()
    return provider


def fund_cash_budget(session: Session, *, amount: int) -> None:
    ledger.allocate_budget(
        session,
        transfer_id=uuid.uuid4(),
        scheme=SCHEME,
        year=YEAR,
        amount=amount,
        actor=Actor.system(),
        ledger=LedgerCode.cash,
    )


def _wave(session: Session) -> uuid.UUID:
    existing = session.scalars(select(Wave.id).limit(1)).first()
    if existing is not None:
        return existing
    from tests.selection.factories import create_wave

    return create_wave(session).id


def create_participant(
    session: Session,
    provider: PayoutProvider,
    *,
    number: str | None = None,
    amount: int = AMOUNT,
    due_on: date = DUE,
    kind: EntitlementKind = EntitlementKind.incentive,
) -> Participant:
    """A recipient with an active payout account at ``provider`` and one scheduled entitlement of ``amount`` whose
    money the ledger holds on the participant's payable (the cash budget must cover it: :func:`fund_cash_budget`)."""
    email = f"peserta-{uuid.uuid4().hex[:12]}@example.org"
    account = Account(
        id=new_id(),
        email=email,
        email_index=blind_index(email, "email"),
        password_hash="!factory",
        role=Role.applicant,
        display_name="Peserta Uji",
    )
    session.add(account)
    session.flush()
    card = "".join(str(secrets.randbelow(10)) for _ in range(16))
    recipient = Recipient(
        wave_id=_wave(session),
        entry_hash=secrets.token_bytes(32),
        applicant_id=uuid.uuid4(),
        account_id=account.id,
        kk_index=None,
        card_number=card,
        card_number_index=secrets.token_bytes(32),
        card_last4=card[-4:],
        scheme_name=SCHEME,
        training_balance=3_500_000,
        funding_transfer_id=uuid.uuid4(),
        first_purchase_deadline=datetime(2026, 4, 1, tzinfo=UTC),
    )
    session.add(recipient)
    session.flush()
    number = number or (
        "08" + "".join(str(secrets.randbelow(10)) for _ in range(10))
        if provider.kind is ProviderKind.ewallet
        else "".join(str(secrets.randbelow(10)) for _ in range(10))
    )
    payout_account = PayoutAccount(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        account_id=account.id,
        provider_id=provider.id,
        number=number,
        number_index=blind_index(f"{provider.code}:{number}", "payout_account"),
        number_masked=rules.mask_number(number),
        holder_name="PESERTA UJI",
        status=AccountStatus.active,
    )
    session.add(payout_account)
    schedule_id = uuid.uuid4()
    ledger.schedule_incentive(
        session,
        transfer_id=schedule_id,
        participant_id=recipient.applicant_id,
        scheme=SCHEME,
        year=YEAR,
        actor=Actor.system(),
        survey=kind is EntitlementKind.survey_incentive,
        amount=amount,
    )
    entitlement = Entitlement(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        kind=kind,
        instalment=1,
        scheme=SCHEME,
        year=YEAR,
        amount=amount,
        due_on=due_on,
        status=EntitlementStatus.scheduled,
        source_ref=f"test:{uuid.uuid4()}",
        schedule_transfer_id=schedule_id,
    )
    session.add(entitlement)
    session.flush()
    return Participant(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        account_id=account.id,
        payout_account_id=payout_account.id,
        entitlement_id=entitlement.id,
        number=number,
        provider_code=provider.code,
    )


@dataclass(frozen=True)
class Organisation:
    organisation_id: uuid.UUID
    settlement_id: uuid.UUID
    number: str
    amount: int


def create_organisation_settlement(
    session: Session, provider: PayoutProvider, *, period: str, amount: int = AMOUNT
) -> Organisation:
    """An institution with a verified settlement account at ``provider`` (a bank) and one scheduled settlement of
    ``amount`` for ``period`` whose money the training ledger holds on its payable (put there from the training
    budget by an adjustment, as captured purchases would leave it), without the marketplace's flows."""
    name = f"Lembaga Uji {uuid.uuid4().hex[:8]}"
    org = partners.create_partner(session, name=name, role="institution", actor=Actor.system())
    number = "".join(str(secrets.randbelow(10)) for _ in range(10))
    session.add(
        SettlementAccount(
            organisation_id=org.id,
            provider_id=provider.id,
            number=number,
            number_masked=rules.mask_number(number),
            holder_name=name,
            reported_holder_name=name,
            status=SettlementAccountStatus.verified,
            inquiry_reference="PKS" + secrets.token_hex(12).upper(),
            verified_at=datetime(2026, 1, 1, tzinfo=UTC),
            recorded_by="factory",
        )
    )
    ledger.allocate_budget(
        session,
        transfer_id=uuid.uuid4(),
        scheme=SCHEME,
        year=YEAR,
        amount=amount,
        actor=Actor.system(),
        ledger=LedgerCode.training,
    )
    budget = ledger.state_budget(session, scheme=SCHEME, year=YEAR, ledger=LedgerCode.training)
    payable = ledger.institution_payable(session, org.id)
    ledger.create_transfers(
        session,
        [
            TransferCreate(
                id=uuid.uuid4(),
                debit_account_id=budget.id,
                credit_account_id=payable.id,
                amount=amount,
                code=TransferCode.adjustment,
                ref_type="factory",
                ref_id=str(org.id),
            )
        ],
    )
    start = rules.period_start(period)
    assert start is not None
    settlement = Settlement(
        organisation_id=org.id,
        beneficiary_type=BeneficiaryType.institution,
        period=period,
        period_start=start,
        period_end=rules.period_end(start),
        completions=1,
        gross=amount,
        commission=0,
        amount=amount,
        statement_ref=rules.statement_ref("institution", org.id, period),
        status=SettlementStatus.scheduled,
        created_by="factory",
    )
    session.add(settlement)
    session.flush()
    return Organisation(org.id, settlement.id, number, amount)

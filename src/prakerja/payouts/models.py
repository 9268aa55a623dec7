"""The payouts tables. Money is only referenced here (ledger transfer ids and whole-rupiah amounts that the ledger's
own totals must equal): the ledger holds it. Account numbers and holder names are personal data, encrypted at rest;
a blind index finds the same account linked by several people (an integrity signal)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


def _enum(cls: type[enum.Enum], name: str, length: int = 24) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=length)


# providers --------------------------------------------------------------------------------------------------


class ProviderKind(enum.StrEnum):
    bank = "bank"
    """Pays to a bank account number (BNI, ...)."""
    ewallet = "ewallet"
    """Pays to an e-wallet identified by its phone number (OVO, GoPay, LinkAja, DANA, ...)."""


class Channel(enum.StrEnum):
    """How a provider receives a batch of instructions."""

    api = "api"
    """The partner's bulk payout HTTP API; results by callback (and status queries)."""
    file = "file"
    """An ISO 20022 pain.001 file; results in a pain.002 status report file."""


class PayoutProvider(IdMixin, TimestampMixin, Base):
    """A payment partner's payout service: which partner organisation (role ``payment_partner``) it is, what it
    pays to, where its API is and the secret its callbacks are signed with."""

    __tablename__ = "payouts_providers"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    """Short stable name used in URLs and file names (``bni``, ``ovo``)."""
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ProviderKind] = mapped_column(_enum(ProviderKind, "payouts_provider_kind", 16))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "payouts_channel", 16))
    api_base_url: Mapped[str] = mapped_column(String(300))
    """Base URL of the partner's interface (docs/payouts-partner-interface.md)."""
    api_secret: Mapped[str] = mapped_column(Encrypted("payouts_providers.api_secret"))
    """Shared secret: signs our requests to the partner and the partner's callbacks to us."""
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


# payout accounts --------------------------------------------------------------------------------------------


class AccountStatus(enum.StrEnum):
    inquiring = "inquiring"
    """Asked the partner who holds the number; nothing confirmed yet."""
    otp_sent = "otp_sent"
    """The partner confirmed holder and status and sent its OTP to the holder."""
    active = "active"
    """Linked: payouts go here (at most one active account per participant)."""
    rejected = "rejected"
    """The inquiry or the OTP failed; ``failure_reason`` says why. The participant may link again."""
    replaced = "replaced"
    """Was active; the participant linked another account."""


class AccountFailure(enum.StrEnum):
    """Why an account cannot be paid (shown to the participant in words)."""

    account_not_found = "account_not_found"
    account_inactive = "account_inactive"
    nik_mismatch = "nik_mismatch"
    ewallet_not_kyc = "ewallet_not_kyc"
    phone_mismatch = "phone_mismatch"
    otp_failed = "otp_failed"
    otp_expired = "otp_expired"
    """The link waited for its OTP longer than the partner's code lives (``rules.OTP_LIFETIME``)."""
    partner_unavailable = "partner_unavailable"
    closed_after_link = "closed_after_link"
    """A payout to it failed for an account reason after it was linked."""


class PayoutAccount(IdMixin, TimestampMixin, Base):
    """A participant's bank account or e-wallet at one provider."""

    __tablename__ = "payouts_accounts"
    __table_args__ = (
        CheckConstraint("otp_attempts >= 0", name="otp_attempts_not_negative"),
        Index(
            "uq_payouts_accounts_one_active",
            "recipient_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index(None, "number_index"),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_recipients.id"), index=True)
    participant_id: Mapped[uuid.UUID]
    """The ledger's owner id of the participant (the recipient's applicant id)."""
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    number: Mapped[str] = mapped_column(Encrypted("payouts_accounts.number"))
    """Bank account number, or the e-wallet's phone number."""
    number_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    """Blind index of (provider code, number): the same account linked by several people is a signal."""
    number_masked: Mapped[str] = mapped_column(String(32))
    holder_name: Mapped[str | None] = mapped_column(Encrypted("payouts_accounts.holder_name"), nullable=True)
    """The holder's name as the partner reported it."""
    status: Mapped[AccountStatus] = mapped_column(_enum(AccountStatus, "payouts_account_status", 16))
    failure_reason: Mapped[AccountFailure | None] = mapped_column(
        _enum(AccountFailure, "payouts_account_failure", 32), nullable=True
    )
    link_reference: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    """Our reference for the partner's link (inquiry + OTP) session."""
    otp_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    linked_at: Mapped[datetime | None] = mapped_column(nullable=True)


# entitlements -----------------------------------------------------------------------------------------------


class EntitlementKind(enum.StrEnum):
    incentive = "incentive"
    """Post-training incentive instalment (only for the first training)."""
    survey_incentive = "survey_incentive"
    """Incentive for one completed evaluation survey."""


class EntitlementStatus(enum.StrEnum):
    blocked = "blocked"
    """Cannot be paid yet; ``blocked_reason`` says why (no certificate, no rating, no review, no account, ...)."""
    scheduled = "scheduled"
    """Will be due on ``due_on``; the ledger payable exists."""
    in_flight = "in_flight"
    """An instruction for it is with the payment partner."""
    needs_action = "needs_action"
    """The partner refused the account: the participant must fix or re-link it, then it is retried."""
    paid = "paid"
    expired = "expired"
    """Never claimed by the year's end: returned to the treasury."""
    cancelled = "cancelled"
    """Cancelled because the recipient was found ineligible."""


class Entitlement(IdMixin, TimestampMixin, Base):
    """One amount the program owes one participant, with its schedule."""

    __tablename__ = "payouts_entitlements"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("instalment >= 1", name="instalment_positive"),
        UniqueConstraint("recipient_id", "kind", "instalment"),
        Index(None, "status", "due_on"),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_recipients.id"))
    participant_id: Mapped[uuid.UUID]
    kind: Mapped[EntitlementKind] = mapped_column(_enum(EntitlementKind, "payouts_entitlement_kind", 24))
    instalment: Mapped[int] = mapped_column(SmallInteger)
    """1..count of the scheme (the n-th monthly incentive, or the n-th survey)."""
    scheme: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[EntitlementStatus] = mapped_column(_enum(EntitlementStatus, "payouts_entitlement_status", 16))
    blocked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_ref: Mapped[str] = mapped_column(String(100))
    """What earned it: the first training's purchase id, or the survey's response id."""
    schedule_transfer_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    """The ledger transfer budget -> payable (``ledger.service.schedule_incentive``), once scheduled."""
    paid_at: Mapped[datetime | None] = mapped_column(nullable=True)


# provider settlement (ADR 0016) -------------------------------------------------------------------------------


class BeneficiaryType(enum.StrEnum):
    participant = "participant"
    institution = "institution"
    platform = "platform"


class SettlementAccountStatus(enum.StrEnum):
    otp_sent = "otp_sent"
    """The inquiry found it active under the organisation's name; the bank sent its OTP to the holder, whose code
    confirms it (ADR 0026). Not paid into until confirmed; a verified account before it stays until then."""
    verified = "verified"
    """The payment partner's account inquiry found it active and held under the organisation's name: paid here."""
    rejected = "rejected"
    """The inquiry (or a payment to it) failed; ``failure_reason`` says why. The organisation records another."""
    replaced = "replaced"
    """The organisation recorded other details since (a change is verified again)."""


class SettlementAccountFailure(enum.StrEnum):
    """Why an organisation's settlement account cannot be paid (shown to it and to officers in words)."""

    account_not_found = "account_not_found"
    account_inactive = "account_inactive"
    name_mismatch = "name_mismatch"
    """The holder's name at the bank is not the name the organisation gave."""
    closed_after_link = "closed_after_link"
    """A settlement payment to it failed for an account reason after it was verified."""
    otp_expired = "otp_expired"
    """The bank's OTP expired before it was entered."""
    otp_failed = "otp_failed"
    """Too many wrong OTP codes: the bank locked the confirmation."""


class SettlementAccount(IdMixin, TimestampMixin, Base):
    """An institution's or platform's bank account for its settlements (one verified at a time)."""

    __tablename__ = "payouts_settlement_accounts"
    __table_args__ = (
        Index(
            "uq_payouts_settlement_accounts_one_verified",
            "organisation_id",
            unique=True,
            postgresql_where=text("status = 'verified'"),
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    """The bank (a payment partner of kind ``bank``) that holds the account and pays into it."""
    number: Mapped[str] = mapped_column(Encrypted("payouts_settlement_accounts.number"))
    number_masked: Mapped[str] = mapped_column(String(32))
    holder_name: Mapped[str] = mapped_column(Encrypted("payouts_settlement_accounts.holder_name"))
    """The holder's name as the organisation gave it (its legal name)."""
    reported_holder_name: Mapped[str | None] = mapped_column(
        Encrypted("payouts_settlement_accounts.reported_holder_name"), nullable=True
    )
    """The holder's name as the bank reported it."""
    status: Mapped[SettlementAccountStatus] = mapped_column(
        _enum(SettlementAccountStatus, "payouts_settlement_account_status", 16)
    )
    failure_reason: Mapped[SettlementAccountFailure | None] = mapped_column(
        _enum(SettlementAccountFailure, "payouts_settlement_account_failure", 32), nullable=True
    )
    inquiry_reference: Mapped[str] = mapped_column(String(64), unique=True)
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))


class SettlementStatus(enum.StrEnum):
    blocked = "blocked"
    """Cannot be paid yet; ``blocked_reason`` says why (no verified settlement account). Nothing was sent."""
    scheduled = "scheduled"
    """The next settlement run pays it."""
    in_flight = "in_flight"
    """An instruction for it is with the payment partner."""
    needs_action = "needs_action"
    """The bank refused the account (or reversed the payment): the organisation must record a verified account."""
    paid = "paid"


class Settlement(IdMixin, TimestampMixin, Base):
    """What the program owes one institution or platform for one period (a calendar month in Jakarta time): the
    totals of its settlement statement, which is the remittance advice of the payment. One row per (organisation,
    period): preparing a period again creates nothing twice."""

    __tablename__ = "payouts_settlements"
    __table_args__ = (
        UniqueConstraint("organisation_id", "period"),
        CheckConstraint("amount >= 0 AND deducted >= 0", name="amount_not_negative"),
        CheckConstraint("gross >= 0 AND commission >= 0 AND completions > 0", name="totals_valid"),
        Index(None, "status", "period"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    beneficiary_type: Mapped[BeneficiaryType] = mapped_column(
        _enum(BeneficiaryType, "payouts_settlement_beneficiary", 16)
    )
    """``institution`` (paid the net of commissions) or ``platform`` (paid its commissions)."""
    period: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``: the statement's month."""
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    completions: Mapped[int] = mapped_column(Integer)
    gross: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    """What is paid: the statement's payable (the net for an institution, the commissions for a platform) less
    ``deducted``. Zero when the deduction took it all (the settlement is then paid by the deduction)."""
    deducted: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """What the institution owed back (purchases refunded after an earlier settlement was paid, ADR 0026) deducted
    from this settlement."""
    deductions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    """The receivables it deducted: ``{receivable_id, purchase_id, period, amount, reason}``."""
    statement_ref: Mapped[str] = mapped_column(String(100))
    """The remittance advice this pays: ``{role}:{organisation id}:{YYYY-MM}`` (the statement of that month)."""
    status: Mapped[SettlementStatus] = mapped_column(_enum(SettlementStatus, "payouts_settlement_status", 16))
    blocked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))


class ReceivableStatus(enum.StrEnum):
    open = "open"
    """Owed by the institution; deducted from its next settlements."""
    recovered = "recovered"
    """Deducted in full."""


class Receivable(IdMixin, TimestampMixin, Base):
    """A purchase refunded after the settlement for its month was paid (ADR 0026): the participant got the money
    back, and the institution owes its share (the ledger's ``institution_receivable``), the platform the share of
    its commission (``platform_receivable``), until their next settlements deduct it. One per purchase and
    organisation."""

    __tablename__ = "payouts_receivables"
    __table_args__ = (
        CheckConstraint("amount > 0 AND recovered >= 0 AND recovered <= amount", name="amounts_valid"),
        Index(None, "organisation_id", "status"),
        UniqueConstraint("purchase_id", "organisation_id"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    purchase_id: Mapped[uuid.UUID]
    period: Mapped[str] = mapped_column(String(7))
    """The month whose paid settlement included the purchase."""
    amount: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(200))
    transfer_id: Mapped[uuid.UUID]
    """The ledger transfer (the organisation's receivable -> the participant's wallet)."""
    status: Mapped[ReceivableStatus] = mapped_column(_enum(ReceivableStatus, "payouts_receivable_status", 16))
    created_by: Mapped[str] = mapped_column(String(100))


# runs, batches, instructions --------------------------------------------------------------------------------


class RunKind(enum.StrEnum):
    incentives = "incentives"
    """Participants' incentives and survey incentives."""
    settlement = "settlement"
    """Institutions' and platforms' payables from accepted completions."""


class RunStatus(enum.StrEnum):
    preparing = "preparing"
    sending = "sending"
    awaiting_results = "awaiting_results"
    completed = "completed"
    """Every instruction is final (succeeded, failed or voided)."""


class PayoutRun(IdMixin, TimestampMixin, Base):
    """One payout cycle: all due amounts of one kind on one day. A settlement run may be followed the same day by
    further ones (``sequence`` 2, 3, ...) for what was held back then and is due since (ADR 0026)."""

    __tablename__ = "payouts_runs"
    __table_args__ = (
        UniqueConstraint("kind", "run_date", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
    )

    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "payouts_run_kind", 16))
    run_date: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """1 for the day's run; 2, 3, ... for the further runs of the same day."""
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "payouts_run_status", 24))
    started_by: Mapped[str] = mapped_column(String(100))
    """``system`` (the daily job) or the officer's account id."""
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class BatchStatus(enum.StrEnum):
    ready = "ready"
    """Instructions and their ledger pending transfers exist; nothing sent."""
    sent = "sent"
    """Handed to the partner (API accepted the batch, or the pain.001 file was delivered)."""
    completed = "completed"


class PayoutBatch(IdMixin, TimestampMixin, Base):
    """The part of a run that goes to one provider, with its control totals."""

    __tablename__ = "payouts_batches"
    __table_args__ = (
        UniqueConstraint("run_id", "provider_id"),
        CheckConstraint("count >= 0 AND control_sum >= 0", name="totals_not_negative"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_runs.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    """ISO 20022 MsgId (pain.001 GrpHdr/MsgId; the bulk API's ``batch_id``)."""
    count: Mapped[int] = mapped_column(Integer)
    control_sum: Mapped[int] = mapped_column(BigInteger)
    """Sum of the instructions' amounts (pain.001 CtrlSum)."""
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "payouts_batch_status", 16))
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class InstructionStatus(enum.StrEnum):
    ready = "ready"
    """The ledger holds the amount (pending payable -> in flight); not yet sent."""
    sent = "sent"
    """With the partner; no final result yet."""
    succeeded = "succeeded"
    """The partner paid it; the pending transfer is posted."""
    failed = "failed"
    """The partner refused it (``failure_code``); the pending transfer is voided."""
    reversed = "reversed"
    """Reported paid, later reversed by the partner; money back on the payable (reconciliation shows it)."""


class PayoutInstruction(IdMixin, TimestampMixin, Base):
    """One payment order to one beneficiary, identified with the partner by its end-to-end id."""

    __tablename__ = "payouts_instructions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        Index(None, "batch_id", "status"),
        Index(None, "provider_id", "settled_at"),
        Index(None, "entitlement_id"),
        Index(
            "uq_payouts_instructions_one_open_per_entitlement",
            "entitlement_id",
            unique=True,
            postgresql_where=text("status IN ('ready', 'sent', 'succeeded')"),
        ),
        Index(
            "uq_payouts_instructions_one_open_per_settlement",
            "settlement_id",
            unique=True,
            postgresql_where=text("settlement_id IS NOT NULL AND status IN ('ready', 'sent', 'succeeded')"),
        ),
        # room on each page for the send's update in place (HOT: it changes no indexed column; ADR 0027)
        {"postgresql_with": {"fillfactor": 50}},
    )

    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    """Stable id the partner deduplicates on and reports back (ISO 20022 EndToEndId, at most 35 characters)."""
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_runs.id"))
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_batches.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    beneficiary_type: Mapped[BeneficiaryType] = mapped_column(_enum(BeneficiaryType, "payouts_beneficiary_type", 16))
    beneficiary_id: Mapped[uuid.UUID]
    """The participant (ledger owner id) or the partner organisation paid."""
    entitlement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts_entitlements.id"), nullable=True)
    payout_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts_accounts.id"), nullable=True)
    """The participant's linked account (none for a provider settlement: the partner's own bank details)."""
    settlement_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """For a provider settlement: the statement (partner and period) this pays."""
    settlement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts_settlements.id"), nullable=True)
    """For a provider settlement: the organisation's payable of one period this pays (ADR 0016)."""
    settlement_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payouts_settlement_accounts.id"), nullable=True
    )
    """For a provider settlement: the organisation's verified bank account it goes to."""
    amount: Mapped[int] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))
    """1 for the first instruction of an entitlement; a retry after an account fix is a new instruction."""
    pending_transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """The ledger pending transfer payable -> payouts in flight; posted on success, voided on failure."""
    status: Mapped[InstructionStatus] = mapped_column(_enum(InstructionStatus, "payouts_instruction_status", 16))
    failure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    provider_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sends: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    """How many times it was handed to the partner (technical retries resend the same end-to-end id)."""
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """When to resend or ask the partner for its status if no final result came."""
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ResultSource(enum.StrEnum):
    callback = "callback"
    status_file = "status_file"
    """An ISO 20022 pain.002 status report."""
    status_query = "status_query"


class PayoutResult(IdMixin, Base):
    """Every result a partner reported, applied or not: callbacks, pain.002 lines, status answers. Rejected ones
    (bad signature, unknown id, amount mismatch, duplicate, out of order) are kept with the reason, never applied."""

    __tablename__ = "payouts_results"
    __table_args__ = (
        UniqueConstraint("provider_id", "event_id"),
        Index(None, "end_to_end_id"),
    )

    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts_providers.id"), nullable=True)
    source: Mapped[ResultSource] = mapped_column(_enum(ResultSource, "payouts_result_source", 16))
    event_id: Mapped[str] = mapped_column(String(100))
    """The partner's id of the report (callback id; message id + line for a file) for deduplication."""
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    reported_status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(nullable=True)
    received_at: Mapped[datetime]
    applied: Mapped[bool] = mapped_column(Boolean)
    rejection: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """Why it was not applied (``bad_signature``, ``unknown_instruction``, ``amount_mismatch``, ``duplicate``,
    ``stale``...)."""


# reconciliation ---------------------------------------------------------------------------------------------


class StatementFormat(enum.StrEnum):
    camt053 = "camt053"
    csv = "csv"


class Statement(IdMixin, TimestampMixin, Base):
    """A partner's account statement, ingested whole or not at all (bad control sums are refused)."""

    __tablename__ = "payouts_statements"
    __table_args__ = (UniqueConstraint("provider_id", "statement_ref"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    statement_ref: Mapped[str] = mapped_column(String(35))
    """camt.053 Stmt/Id (or the CSV file's own id)."""
    format: Mapped[StatementFormat] = mapped_column(_enum(StatementFormat, "payouts_statement_format", 16))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    entries: Mapped[int] = mapped_column(Integer)
    control_sum: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    ingested_by: Mapped[str] = mapped_column(String(100))


class StatementEntry(IdMixin, Base):
    __tablename__ = "payouts_statement_entries"
    __table_args__ = (Index(None, "end_to_end_id"), Index(None, "statement_id"))

    statement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_statements.id"))
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    amount: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah, positive."""
    debit: Mapped[bool] = mapped_column(Boolean)
    """True for money leaving the program's account (a payout); False for money coming back (a reversal)."""
    booked_on: Mapped[date] = mapped_column(Date)


class DifferenceKind(enum.StrEnum):
    missing = "missing"
    """We recorded a success the statement does not show."""
    extra = "extra"
    """The statement shows a payment we have no success for (or no instruction at all)."""
    amount_mismatch = "amount_mismatch"
    reversal_after_success = "reversal_after_success"


class Difference(IdMixin, TimestampMixin, Base):
    """A reconciliation difference, open until an officer resolves it (audited)."""

    __tablename__ = "payouts_differences"
    __table_args__ = (UniqueConstraint("provider_id", "end_to_end_id", "kind"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_providers.id"))
    statement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts_statements.id"), nullable=True)
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    kind: Mapped[DifferenceKind] = mapped_column(_enum(DifferenceKind, "payouts_difference_kind", 32))
    expected_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actual_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)


# clawback ---------------------------------------------------------------------------------------------------


class ClawbackStatus(enum.StrEnum):
    open = "open"
    """Demanded; within the 60 days."""
    repaid = "repaid"
    overdue = "overdue"
    """60 days passed without full repayment: for a civil claim."""
    withdrawn = "withdrawn"
    """The finding was overturned."""


class Clawback(IdMixin, TimestampMixin, Base):
    """A repayment demand to a recipient later found ineligible (PROGRAM.md step 13: 60 days)."""

    __tablename__ = "payouts_clawbacks"
    __table_args__ = (
        CheckConstraint("amount_due > 0", name="amount_positive"),
        CheckConstraint("amount_repaid >= 0 AND amount_repaid <= amount_due", name="repaid_within_due"),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_recipients.id"), index=True)
    participant_id: Mapped[uuid.UUID]
    amount_due: Mapped[int] = mapped_column(BigInteger)
    amount_repaid: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ClawbackStatus] = mapped_column(_enum(ClawbackStatus, "payouts_clawback_status", 16))
    reason: Mapped[str] = mapped_column(Text)
    demand_transfer_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    """The ledger transfer that records the receivable."""
    created_by: Mapped[str] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why an officer withdrew the demand (the finding was wrong); audited with the officer."""


class ClawbackRepayment(IdMixin, TimestampMixin, Base):
    """One repayment towards a clawback, recorded by an officer (audited) under the payer's reference: the same
    reference again records nothing twice (migration 0023)."""

    __tablename__ = "payouts_clawback_repayments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("clawback_id", "reference"),
    )

    clawback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payouts_clawbacks.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(64))
    """The payment's reference (a bank transfer's or a receipt's number)."""
    transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """The ledger transfer receivable -> treasury."""
    recorded_by: Mapped[str] = mapped_column(String(100))

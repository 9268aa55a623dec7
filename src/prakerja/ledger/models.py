from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin

GENESIS = b"\x00" * 32
"""The chain head of an account that has no transfer yet."""


class LedgerCode(enum.IntEnum):
    """What an amount is denominated in. Transfers never cross ledgers."""

    training = 1
    """Training credit, in rupiah: non-cash, spendable only on courses, never convertible to cash."""
    cash = 2
    """Cash, in rupiah: incentives and survey incentives paid to bank or e-wallet accounts."""


class AccountKind(enum.StrEnum):
    """The chart of accounts (docs/ledger.md)."""

    treasury = "treasury"
    """Kas Negara: where budgets come from and where forfeited balances return (one per ledger)."""
    state_budget = "state_budget"
    """The program's allocation for one scheme-year (one per ledger)."""
    training_wallet = "training_wallet"
    """A participant's training balance (training ledger)."""
    institution_payable = "institution_payable"
    """What the program owes a training institution for captured purchases (training ledger)."""
    platform_commission = "platform_commission"
    """A platform's commission on purchases, where its agreement has one (training ledger)."""
    incentive_payable = "incentive_payable"
    """Post-training incentive owed to a participant (cash ledger)."""
    survey_incentive_payable = "survey_incentive_payable"
    """Survey incentives owed to a participant (cash ledger)."""
    payouts_in_flight = "payouts_in_flight"
    """Money sent to a payment partner in one payout run, not yet confirmed (cash ledger)."""
    disbursed = "disbursed"
    """Money confirmed paid out to participants' own accounts (cash ledger)."""
    settlement_in_flight = "settlement_in_flight"
    """Settlement money sent to a payment partner in one batch of a settlement run, not yet confirmed (training
    ledger: what institutions and platforms are owed lives there; ADR 0016)."""
    settled = "settled"
    """Money confirmed paid to institutions' and platforms' own bank accounts (training ledger)."""
    clawback_claims = "clawback_claims"
    """Where repayment demands come from: what the program claims back from people found ineligible (cash ledger;
    one per program, no flag: its balance is minus everything ever demanded)."""
    clawback_receivable = "clawback_receivable"
    """What one repayment demand still has to bring back (cash ledger, one per demand, never negative)."""
    institution_receivable = "institution_receivable"
    """What an institution owes back to the program for purchases refunded after its settlement was paid (training
    ledger, one per institution, debit-normal, never negative; netted from its next settlements; ADR 0026)."""
    platform_receivable = "platform_receivable"
    """What a platform owes back: its commission's share of a purchase refunded after the settlement of the purchase's
    month was paid (training ledger, one per platform, debit-normal, never negative; netted from its next
    commission settlements)."""


class TransferMode(enum.StrEnum):
    """TigerBeetle's two-phase transfers."""

    posted = "posted"
    """Moves money at once."""
    pending = "pending"
    """Reserves money (a purchase authorised) until posted, voided or expired."""
    post_pending = "post_pending"
    """Posts a pending transfer (all or part of its amount)."""
    void_pending = "void_pending"
    """Releases a pending transfer (cancelled, or expired after its timeout)."""


class TransferCode(enum.StrEnum):
    """Why money moved (program totals are sums by code)."""

    allocate = "allocate"
    """Treasury to a scheme-year budget."""
    fund = "fund"
    """Budget to a participant's training wallet (becoming a recipient)."""
    purchase = "purchase"
    """Wallet to institution payable (authorised, captured or voided)."""
    commission = "commission"
    """Institution payable to platform commission."""
    refund = "refund"
    """Institution payable back to the wallet (session cancelled by the program after capture)."""
    expired = "expired"
    """A pending transfer voided by the system after its timeout."""
    forfeit_revocation = "forfeit_revocation"
    """Wallet to treasury when membership is revoked."""
    forfeit_expiry = "forfeit_expiry"
    """Wallet to treasury at the yearly expiry (15 December)."""
    incentive = "incentive"
    """Cash budget to incentive payable (schedule)."""
    survey_incentive = "survey_incentive"
    """Cash budget to survey-incentive payable."""
    payout = "payout"
    """Payable to payouts in flight (a payout run)."""
    payout_settled = "payout_settled"
    """Payouts in flight to disbursed (partner confirmed)."""
    payout_failed = "payout_failed"
    """Payouts in flight back to the payable (partner refused)."""
    settlement = "settlement"
    """An institution's payable (or a platform's commission) to settlement in flight (a settlement run)."""
    settlement_paid = "settlement_paid"
    """Settlement in flight to settled (the bank confirmed the payment to the organisation)."""
    settlement_failed = "settlement_failed"
    """Settlement in flight (or settled, on a reversal) back to the organisation's payable."""
    incentive_cancelled = "incentive_cancelled"
    """An incentive (or survey-incentive) payable back to the cash budget: its entitlement was cancelled."""
    clawback_demand = "clawback_demand"
    """Clawback claims to a demand's receivable (a recipient found ineligible must repay)."""
    clawback_repayment = "clawback_repayment"
    """A demand's receivable to the treasury (money repaid)."""
    clawback_withdrawn = "clawback_withdrawn"
    """A withdrawn demand's receivable back to clawback claims (what was still owed is no longer claimed)."""
    institution_clawback = "institution_clawback"
    """An institution's receivable to a participant's wallet: a purchase refunded after the institution's settlement
    for its month was paid (the institution owes it back)."""
    clawback_netted = "clawback_netted"
    """An institution's payable (or a platform's commission account) to its receivable: what it owed back deducted
    from its next settlement."""
    platform_clawback = "platform_clawback"
    """A platform's receivable to a participant's wallet: the commission's share of a purchase refunded after the
    settlement of its month was paid (the platform owes it back)."""
    adjustment = "adjustment"
    """A correcting transfer made by an officer (always with a reason in the audit log)."""


_TOTALS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")


class LedgerAccount(IdMixin, TimestampMixin, Base):
    """An account with four running totals. Balance flags are CHECK constraints: the database refuses an
    overdraft even if Python were wrong. Never deleted; closing is a flag. Stored with fillfactor 45 (migrations
    0006, 0008): no indexed column ever changes and every row of a page fits a second version, so updating the
    totals is a HOT update even when a batch touches every account on the page."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("ledger", "kind", "owner_type", "owner_id"),
        CheckConstraint(" AND ".join(f"{t} >= 0" for t in _TOTALS), name="totals_not_negative"),
        CheckConstraint(
            "NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted",
            name="debits_within_credits",
        ),
        CheckConstraint(
            "NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted",
            name="credits_within_debits",
        ),
        CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)", name="one_balance_flag"
        ),
        Index(None, "scheme", "year", "kind"),
    )

    ledger: Mapped[int] = mapped_column(SmallInteger)
    """:class:`LedgerCode`."""
    kind: Mapped[AccountKind] = mapped_column(
        Enum(AccountKind, name="ledger_account_kind", native_enum=False, length=32)
    )
    owner_type: Mapped[str] = mapped_column(String(32))
    """What owns the account: ``program``, ``scheme_year``, ``participant``, ``institution``, ``platform``,
    ``payout_run``."""
    owner_id: Mapped[str] = mapped_column(String(64))
    """The owner's id (an account id, ``2023-normal:2026`` for a scheme-year, ``program`` for singletons)."""
    scheme: Mapped[str | None] = mapped_column(String(64))
    """Scheme of a budget or a wallet (program totals per scheme-year)."""
    year: Mapped[int | None] = mapped_column(Integer)
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean, default=False)
    """Credit-normal accounts that may never go negative (wallets, payables, budgets)."""
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(Boolean, default=False)
    """Debit-normal accounts that may never go negative (payouts in flight)."""
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    """A closed account refuses new transfers."""
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32), default=GENESIS)
    """The account's chain head: the newest link of its chain (a format-1 transfer's ``hash`` or a batch's
    ``debit_link``/``credit_link``, ADR 0013); ``GENESIS`` before its first transfer."""


class LedgerTransfer(Base):
    """One immutable movement between two accounts of the same ledger. The database refuses UPDATE, DELETE
    and TRUNCATE; a correction is a new transfer."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint(
            "(mode IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)", name="pending_reference"
        ),
        CheckConstraint("timeout_at IS NULL OR mode = 'pending'", name="timeout_only_pending"),
        CheckConstraint(
            "(hash IS NOT NULL AND debit_prev_hash IS NOT NULL AND credit_prev_hash IS NOT NULL"
            " AND debit_link IS NULL AND credit_link IS NULL)"
            " OR (hash IS NULL AND debit_prev_hash IS NULL AND credit_prev_hash IS NULL)",
            name="chain_format",
        ),
        Index(None, "debit_account_id", "seq"),
        Index(None, "credit_account_id", "seq"),
        Index(None, "pending_id", unique=True, postgresql_where=text("pending_id IS NOT NULL")),
        Index(None, "timeout_at", postgresql_where=text("timeout_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    """Chosen by the caller: the idempotency key. A retry with the same id never moves money twice."""
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    """Write order (per account it is also commit order, because accounts are locked)."""
    ledger: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[TransferCode] = mapped_column(
        Enum(TransferCode, name="ledger_transfer_code", native_enum=False, length=32)
    )
    mode: Mapped[TransferMode] = mapped_column(
        Enum(TransferMode, name="ledger_transfer_mode", native_enum=False, length=16)
    )
    debit_account_id: Mapped[uuid.UUID]
    """No foreign key (one trigger query per row on the batch path): every writer locks the accounts first and
    refuses unknown ones, accounts are never deleted, and ``ledger check`` reports a transfer on an unknown
    account (migration 0006)."""
    credit_account_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah, > 0."""
    pending_id: Mapped[uuid.UUID | None]
    """For post/void: the pending transfer resolved (at most once: unique). No foreign key (migration 0008): the
    posting function finds the pending transfer under the account locks, and ``ledger check`` reports a resolution
    of a transfer that does not exist."""
    timeout_at: Mapped[datetime | None]
    """For pending: after this moment it can no longer be posted; the expiry job voids it."""
    ref_type: Mapped[str] = mapped_column(String(32), default="")
    """The business object this transfer belongs to (``purchase``, ``payout_run``...)."""
    ref_id: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]
    debit_prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Format 1 (single transfers, linked chains): the debit account's chain head before this transfer. NULL on a
    row written by a batch (format 2, ADR 0013)."""
    credit_prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Format 1: SHA-256 over both previous heads and the canonical form of this row (``rules.chain_hash``); it
    becomes the head of both accounts."""
    debit_link: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Format 2 (the batch path): set on the row that is the debit account's last transfer of its batch, to
    ``rules.link_hash(the account's head before the batch, the canonical forms of the account's transfers of the
    batch, in order)``; that link becomes the account's head. NULL elsewhere."""
    credit_link: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class EmptyForfeit(Base):
    """A forfeit that found nothing to forfeit. Kept under its transfer id so that a retry of the same forfeit
    returns the same "nothing" instead of taking money that arrived in the meantime. Append-only."""

    __tablename__ = "ledger_empty_forfeits"

    transfer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    """The id the caller gave the forfeit."""
    participant_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

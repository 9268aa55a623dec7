"""What the ledger takes and returns (Pydantic)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from prakerja.ledger.models import AccountKind, TransferCode, TransferMode


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ledger: int = Field(ge=1, le=32767)
    kind: AccountKind
    owner_type: str = Field(min_length=1, max_length=32)
    owner_id: str = Field(min_length=1, max_length=64)
    scheme: str | None = Field(default=None, max_length=64)
    year: int | None = Field(default=None, ge=2000, le=2200)
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False


class Account(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ledger: int
    kind: AccountKind
    owner_type: str
    owner_id: str
    scheme: str | None
    year: int | None
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    closed: bool
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    balance: int = 0
    """Posted balance on the account's normal side."""
    available: int = 0
    """What can still be spent: posted balance minus pending debits (credit-normal accounts)."""


class TransferCreate(BaseModel):
    """One transfer to create. ``amount`` is validated by the ledger itself (stable ``amount_invalid`` code)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    """Chosen by the caller; the idempotency key of the transfer."""
    debit_account_id: uuid.UUID | None = None
    """Required for posted and pending; taken from the pending transfer for post/void."""
    credit_account_id: uuid.UUID | None = None
    amount: Any = None
    """Whole rupiah > 0; for post_pending it may be omitted (the full pending amount); ignored for void."""
    ledger: int | None = None
    """If given, must equal both accounts' ledger."""
    code: TransferCode
    mode: TransferMode = TransferMode.posted
    pending_id: uuid.UUID | None = None
    timeout_seconds: int | None = Field(default=None, gt=0, le=366 * 86400)
    """Pending only: after this long the transfer can no longer be posted."""
    ref_type: str = Field(default="", max_length=32)
    ref_id: str = Field(default="", max_length=128)


class Transfer(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    ledger: int
    code: TransferCode
    mode: TransferMode
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    pending_id: uuid.UUID | None
    timeout_at: datetime | None
    ref_type: str
    ref_id: str
    created_at: datetime


class HistoryLine(BaseModel):
    transfer: Transfer
    direction: str
    """``debit`` or ``credit`` for this account."""
    change: int
    """Signed effect on the posted balance (0 for pending and void)."""
    pending_change: int
    """Signed effect on reserved (pending) money."""
    running_balance: int
    """Posted balance after this transfer."""


class ProgramTotals(BaseModel):
    scheme: str
    year: int
    budget: int
    """Allocated from the treasury to the training budget."""
    committed: int
    """Funded into participants' wallets."""
    spent: int
    """Captured purchases (net of partial captures)."""
    refunded: int
    """Returned to wallets after capture (sessions cancelled by the program)."""
    forfeited: int
    """Returned to the treasury (revocation and yearly expiry)."""
    pending: int
    """Authorised purchases not yet captured or voided."""


class CheckReport(BaseModel):
    transfers: int
    accounts: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class BatchTransfer(NamedTuple):
    """One posted transfer of a batch (payout runs, yearly expiry): tuples, because batches are large."""

    id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    code: TransferCode
    ref_type: str = ""
    ref_id: str = ""


class BatchResult(BaseModel):
    created: int
    existing: int

"""Pure ledger decisions: amounts, the effect of a transfer on account totals, the hash chain, dates.

No session, no I/O: the same functions run in the service, the batch path and the tests."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from prakerja.kit.money import MoneyError, rupiah
from prakerja.ledger.errors import AmountInvalid, InsufficientFunds, ReferenceInvalid
from prakerja.ledger.models import GENESIS, TransferMode

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_AMOUNT = 2**62
"""Far above any program budget; keeps every running total inside BIGINT."""
JAKARTA = ZoneInfo("Asia/Jakarta")
NAMESPACE = uuid.UUID("6f1e1d0c-3a59-4c1b-9f5e-8c4a4c2b7d10")
"""Namespace of the deterministic transfer ids the system makes (expiry, jobs): reruns make the same ids."""


def validate_amount(value: object) -> int:
    """Whole rupiah, > 0. Floats, booleans, fractions, zero and negatives are refused."""
    if isinstance(value, str):
        raise AmountInvalid(details={"amount": value[:32]})
    try:
        amount = rupiah(value)
    except MoneyError:
        raise AmountInvalid(details={"amount": repr(value)[:32]}) from None
    if amount <= 0 or amount > MAX_AMOUNT:
        raise AmountInvalid(details={"amount": amount})
    return amount


def validate_reference(ref_type: str, ref_id: str) -> None:
    if len(ref_type) > 32 or len(ref_id) > 128 or "|" in ref_type or "|" in ref_id:
        raise ReferenceInvalid(details={"ref_type": ref_type[:32]})


def system_id(*parts: object) -> uuid.UUID:
    """A deterministic transfer id for a system action (the same action always gets the same id)."""
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def micros(moment: datetime) -> int:
    """Exact microseconds since the epoch (the same integer PostgreSQL computes in ``ledger check``)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def canonical(
    *,
    id: uuid.UUID,
    ledger: int,
    code: str,
    mode: str,
    debit_account_id: uuid.UUID,
    credit_account_id: uuid.UUID,
    amount: int,
    pending_id: uuid.UUID | None,
    timeout_at: datetime | None,
    ref_type: str,
    ref_id: str,
    created_at: datetime,
) -> bytes:
    """``|``-joined text of the row; mirrored in SQL by the function ``ledger_chain_hash`` (migration 0010)."""
    return "|".join(
        (
            str(id),
            str(ledger),
            code,
            mode,
            str(debit_account_id),
            str(credit_account_id),
            str(amount),
            str(pending_id) if pending_id else "",
            str(micros(timeout_at)) if timeout_at else "",
            ref_type,
            ref_id,
            str(micros(created_at)),
        )
    ).encode()


def chain_hash(debit_prev: bytes, credit_prev: bytes, body: bytes) -> bytes:
    """Format 1 (single transfers and linked chains): one link per transfer, the head of both its accounts."""
    return hashlib.sha256(debit_prev + credit_prev + body).digest()


def link_hash(prev: bytes, bodies: Iterable[bytes]) -> bytes:
    """Format 2 (the batch path, ADR 0013): one link per batch and account, over the canonical forms of the
    account's transfers of the batch in batch order, each followed by a newline (a canonical form has a fixed
    number of fields, none holding a newline after its last ``|``, so the boundaries are unambiguous); mirrored in
    SQL by ``ledger check`` (``ledger_canonical``, migration 0022)."""
    digest = hashlib.sha256(prev)
    for body in bodies:
        digest.update(body + b"\n")
    return digest.digest()


@dataclass
class AccountState:
    """The locked row, as Python sees it while a chain is applied."""

    id: uuid.UUID
    ledger: int
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    closed: bool
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    head_hash: bytes = GENESIS

    def check(self) -> None:
        """The same rules as the CHECK constraints, so the caller gets a clean error first."""
        if self.debits_must_not_exceed_credits and self.debits_pending + self.debits_posted > self.credits_posted:
            raise InsufficientFunds(details={"account_id": str(self.id)})
        if self.credits_must_not_exceed_debits and self.credits_pending + self.credits_posted > self.debits_posted:
            raise InsufficientFunds(details={"account_id": str(self.id)})


def apply(debit: AccountState, credit: AccountState, mode: TransferMode, amount: int, pending_amount: int = 0) -> None:
    """Move the totals for one transfer. For post/void, ``pending_amount`` is released from the pending totals
    and ``amount`` (post only) is added to the posted totals."""
    if mode is TransferMode.posted:
        debit.debits_posted += amount
        credit.credits_posted += amount
    elif mode is TransferMode.pending:
        debit.debits_pending += amount
        credit.credits_pending += amount
    elif mode is TransferMode.post_pending:
        debit.debits_pending -= pending_amount
        credit.credits_pending -= pending_amount
        debit.debits_posted += amount
        credit.credits_posted += amount
    else:
        debit.debits_pending -= pending_amount
        credit.credits_pending -= pending_amount
    debit.check()
    credit.check()


def balance(
    *,
    debits_must_not_exceed_credits: bool,
    credits_must_not_exceed_debits: bool,
    debits_posted: int,
    credits_posted: int,
    debits_pending: int,
    credits_pending: int,
) -> tuple[int, int]:
    """(posted balance, available balance) on the account's normal side. Credit-normal unless the account is
    flagged debit-normal (credits must not exceed debits)."""
    if credits_must_not_exceed_debits:
        posted = debits_posted - credits_posted
        return posted, posted - credits_pending
    posted = credits_posted - debits_posted
    return posted, posted - debits_pending


def expiry_date(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def expiry_due(now: datetime, year: int, month: int, day: int) -> bool:
    """Unused balance of ``year`` expires at the start of the expiry day, Jakarta time."""
    return now.astimezone(JAKARTA).date() >= expiry_date(year, month, day)

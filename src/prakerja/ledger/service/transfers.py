"""Creating transfers: validation here (no database), then one call of a SQL posting function (migrations 0008,
0010): the fixed lock order, two-phase rules, idempotent retries, the hash chain, the running totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.ledger import repository, rules
from prakerja.ledger.errors import (
    AccountClosed,
    AccountNotFound,
    AmountInvalid,
    InsufficientFunds,
    LedgerMismatch,
    LinkedEventFailed,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PendingNotFound,
    SameAccount,
    TransferExists,
    TransferInvalid,
)
from prakerja.ledger.models import TransferMode
from prakerja.ledger.schemas import Transfer, TransferCreate


@dataclass
class _Prepared:
    spec: TransferCreate
    amount: int | None


def _prepare(spec: TransferCreate) -> _Prepared:
    """Checks that need no database."""
    rules.validate_reference(spec.ref_type, spec.ref_id)
    if spec.mode in (TransferMode.posted, TransferMode.pending):
        if spec.debit_account_id is None or spec.credit_account_id is None:
            raise TransferInvalid(details={"field": "debit_account_id/credit_account_id"})
        if spec.pending_id is not None:
            raise TransferInvalid(details={"field": "pending_id"})
        amount: int | None = rules.validate_amount(spec.amount)
        if spec.debit_account_id == spec.credit_account_id:
            raise SameAccount()
    else:
        if spec.pending_id is None:
            raise TransferInvalid(details={"field": "pending_id"})
        if spec.timeout_seconds is not None:
            raise TransferInvalid(details={"field": "timeout_seconds"})
        amount = None
        if spec.mode is TransferMode.post_pending and spec.amount is not None:
            amount = rules.validate_amount(spec.amount)
    if spec.timeout_seconds is not None and spec.mode is not TransferMode.pending:
        raise TransferInvalid(details={"field": "timeout_seconds"})
    return _Prepared(spec=spec, amount=amount)


def prepare_transfer(spec: TransferCreate) -> int | None:
    """The checks of one transfer that need no database; its amount (None for a void or a full capture)."""
    return _prepare(spec).amount


def refusal(error: str, details: Any) -> DomainError:
    """The refusal a posting function answered for a single transfer, as :func:`create_transfers` raises it."""
    return _refusal_at(0, 1, _REFUSALS[error](details=dict(details or {})))


def map_integrity(error: Exception) -> DomainError:
    return _map_integrity(error)


def _refusal_at(index: int, count: int, error: DomainError) -> DomainError:
    if count == 1:
        error.details.setdefault("index", index)
        return error
    return LinkedEventFailed(
        error.message,
        error.message_en,
        status_code=error.status_code,
        details={"index": index, "cause": error.code, **error.details},
    )


def create_transfers(session: Session, specs: Sequence[TransferCreate]) -> list[Transfer]:
    """Create a linked chain of transfers: all or nothing, in the caller's transaction.

    A retry (every id already stored with the same fields) returns the stored transfers and writes nothing."""
    transfers, _created = create_or_find_transfers(session, specs)
    return transfers


def create_or_find_transfers(session: Session, specs: Sequence[TransferCreate]) -> tuple[list[Transfer], bool]:
    """As :func:`create_transfers`, also telling whether this call wrote the chain (True) or found it stored by an
    earlier call with the same ids (False: a retry)."""
    if not specs:
        raise TransferInvalid(details={"field": "transfers"})
    if len({s.id for s in specs}) != len(specs):
        raise TransferInvalid(details={"field": "id", "problem": "duplicate id in the chain"})
    prepared = []
    for index, spec in enumerate(specs):
        try:
            prepared.append(_prepare(spec))
        except DomainError as error:
            raise _refusal_at(index, len(specs), error) from None
    try:
        return _post_in_one_call(session, prepared)
    except (IntegrityError, psycopg.IntegrityError) as error:
        # only reachable by a race the locks do not cover (the same id on other accounts): the transaction is
        # aborted, so nothing of the chain can be committed
        raise _map_integrity(error) from None


def _map_integrity(error: Exception) -> DomainError:
    orig: Any = getattr(error, "orig", None) or error
    sqlstate = getattr(orig, "sqlstate", None)
    # psycopg names the constraint in ``diag``, asyncpg (loop connections) on the error itself
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None) or getattr(orig, "constraint_name", "")
    constraint = constraint or ""
    if sqlstate == "23514" and constraint.startswith("ck_ledger_accounts_"):
        return InsufficientFunds(details={"constraint": constraint})
    if sqlstate == "23505" and constraint == "pk_ledger_transfers":
        return TransferExists()
    if sqlstate == "23505" and constraint == "ix_ledger_transfers_pending_id":
        return PendingAlreadyPosted()
    return TransferInvalid(details={"constraint": constraint})


_REFUSALS: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        AccountClosed,
        AccountNotFound,
        AmountInvalid,
        InsufficientFunds,
        LedgerMismatch,
        PendingAlreadyPosted,
        PendingAlreadyVoided,
        PendingExpired,
        PendingNotFound,
        TransferExists,
        TransferInvalid,
    )
}
"""What ``ledger_create_transfers`` may answer instead of writing, by stable code."""

_COLUMNS = {
    "id": "r_id",
    "seq": "r_seq",
    "ledger": "r_ledger",
    "code": "r_code",
    "mode": "r_mode",
    "debit_account_id": "r_debit",
    "credit_account_id": "r_credit",
    "amount": "r_amount",
    "pending_id": "r_pending",
    "timeout_at": "r_timeout",
    "ref_type": "r_ref_type",
    "ref_id": "r_ref_id",
    "created_at": "r_created_at",
}
"""Each field of the public ``Transfer`` and the posting functions' result column it comes from, by name: a field
added to the schema (with a default) or columns in another order cannot shift the values."""


def _transfer(row: Any) -> Transfer:
    return Transfer.model_validate({field: getattr(row, column) for field, column in _COLUMNS.items()})


_DIRECT = (TransferMode.posted, TransferMode.pending)
"""Modes posted by ``ledger_create_transfer`` itself (the others resolve a pending transfer)."""


def direct_params(spec: TransferCreate, amount: int) -> dict[str, Any]:
    """The posting function's parameters for one transfer of ``amount`` (checked by :func:`prepare_transfer`)."""
    assert spec.debit_account_id is not None and spec.credit_account_id is not None  # _prepare checked it
    return {
        "id": spec.id,
        "debit": spec.debit_account_id,
        "credit": spec.credit_account_id,
        "amount": amount,
        "ledger": spec.ledger,
        "code": spec.code.value,
        "mode": spec.mode.value,
        "timeout": spec.timeout_seconds,
        "ref_type": spec.ref_type,
        "ref_id": spec.ref_id,
        "now": utcnow(),
    }


def _direct_transfer(spec: TransferCreate, amount: int, row: tuple[Any, ...]) -> tuple[Transfer, bool]:
    """The function returns only what the caller does not know (seq, ledger, timeout, creation time, and whether
    this call wrote it); every other field is the request's, which the function wrote as given or, on a retry,
    found equal in the stored transfer. No validation of the result: each value is already of its type (the
    request's were validated, the database's come typed from the driver)."""
    assert spec.debit_account_id is not None and spec.credit_account_id is not None  # _prepare checked it
    error, index, details, created, seq, ledger, timeout_at, created_at = row
    if error is not None:
        raise _refusal_at(index, 1, _REFUSALS[error](details=dict(details or {})))
    transfer = Transfer.model_construct(
        id=spec.id,
        seq=seq,
        ledger=ledger,
        code=spec.code,
        mode=spec.mode,
        debit_account_id=spec.debit_account_id,
        credit_account_id=spec.credit_account_id,
        amount=amount,
        pending_id=None,
        timeout_at=timeout_at,
        ref_type=spec.ref_type,
        ref_id=spec.ref_id,
        created_at=created_at,
    )
    return transfer, bool(created)


def _post_direct(session: Session, spec: TransferCreate, amount: int) -> tuple[Transfer, bool]:
    """The hot path: a posted or pending transfer (:func:`_direct_transfer`)."""
    return _direct_transfer(spec, amount, repository.create_posted(session, **direct_params(spec, amount)))


def _one_params(spec: TransferCreate, amount: int | None) -> dict[str, Any]:
    return {
        "id": spec.id,
        "debit": spec.debit_account_id,
        "credit": spec.credit_account_id,
        "amount": amount,
        "ledger": spec.ledger,
        "code": spec.code.value,
        "mode": spec.mode.value,
        "pending": spec.pending_id,
        "timeout": spec.timeout_seconds,
        "ref_type": spec.ref_type,
        "ref_id": spec.ref_id,
        "now": utcnow(),
    }


def _from_rows(rows: list[Any], count: int) -> tuple[list[Transfer], bool]:
    first = rows[0]
    if first.r_error is not None:
        refusal = _REFUSALS[first.r_error](details=dict(first.r_details or {}))
        raise _refusal_at(first.r_index, count, refusal)
    return [_transfer(row) for row in rows], bool(first.r_created)


def _is_direct(spec: TransferCreate, amount: int | None) -> bool:
    return spec.pending_id is None and amount is not None and spec.mode in _DIRECT


async def create_or_find_transfer_on_loop(conn: asyncpg.Connection, spec: TransferCreate) -> tuple[Transfer, bool]:
    """:func:`create_or_find_transfers` for one transfer, as its own transaction on an autocommit loop connection
    (``db.on_loop``; ADR 0014, 0023): the posting function's one statement is the unit of work, committed durably
    before the answer, in one round trip, with no ``Session`` and no thread. The same checks, refusals (nothing
    written), rows, hash chain and totals as the ``Session`` path (tests/ledger/test_on_loop.py holds the two
    equal). For a caller whose unit of work is this transfer alone; anything written with it (an audit entry, a
    job) belongs on a ``Session`` with :func:`create_or_find_transfers`."""
    try:
        prepared = _prepare(spec)
    except DomainError as error:
        raise _refusal_at(0, 1, error) from None
    amount = prepared.amount
    try:
        if _is_direct(spec, amount):
            assert amount is not None
            row = await repository.create_posted_alone_on_loop(conn, **direct_params(spec, amount))
            return _direct_transfer(spec, amount, row)
        rows = await repository.create_transfer_on_loop(conn, **_one_params(spec, amount))
    except asyncpg.IntegrityConstraintViolationError as error:  # a race the locks do not cover: rolled back
        raise _map_integrity(error) from None
    transfers, created = _from_rows(rows, 1)
    return transfers[0], created


def _post_in_one_call(session: Session, prepared: list[_Prepared]) -> tuple[list[Transfer], bool]:
    """One round trip: the function locks the accounts in id order, answers a retry, applies the two-phase
    rules and balance flags, chains the hashes and writes the transfers and totals (migration 0008, ADR 0003)."""
    if len(prepared) == 1:  # the hot path: one transfer, sent as scalars
        spec, amount = prepared[0].spec, prepared[0].amount
        if _is_direct(spec, amount):
            assert amount is not None
            transfer, created = _post_direct(session, spec, amount)
            return [transfer], created
        rows = repository.create_transfer(session, **_one_params(spec, amount))
    else:
        specs = [p.spec for p in prepared]
        rows = repository.create_transfers(
            session,
            ids=[s.id for s in specs],
            debits=[s.debit_account_id for s in specs],
            credits=[s.credit_account_id for s in specs],
            amounts=[p.amount for p in prepared],
            ledgers=[s.ledger for s in specs],
            codes=[s.code.value for s in specs],
            modes=[s.mode.value for s in specs],
            pendings=[s.pending_id for s in specs],
            timeouts=[s.timeout_seconds for s in specs],
            ref_types=[s.ref_type for s in specs],
            ref_ids=[s.ref_id for s in specs],
            now=utcnow(),
        )
    return _from_rows(rows, len(prepared))

"""Creating transfers: validation, the fixed lock order, two-phase rules, idempotent retries, the hash chain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
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
from prakerja.ledger.models import TransferCode, TransferMode
from prakerja.ledger.schemas import Transfer, TransferCreate

_RESOLVING = (TransferMode.post_pending, TransferMode.void_pending)


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


def _same(spec: TransferCreate, row: Row[Any]) -> bool:
    """A retry: the stored transfer matches every field the caller sent."""
    if spec.code != row.code or spec.mode != row.mode or spec.pending_id != row.pending_id:
        return False
    if spec.ref_type != row.ref_type or spec.ref_id != row.ref_id:
        return False
    if spec.debit_account_id is not None and spec.debit_account_id != row.debit_account_id:
        return False
    if spec.credit_account_id is not None and spec.credit_account_id != row.credit_account_id:
        return False
    if spec.ledger is not None and spec.ledger != row.ledger:
        return False
    if spec.mode is not TransferMode.void_pending and spec.amount is not None:
        try:
            if rules.validate_amount(spec.amount) != row.amount:
                return False
        except AmountInvalid:
            return False
    stored_timeout = int((row.timeout_at - row.created_at).total_seconds()) if row.timeout_at is not None else None
    return spec.timeout_seconds == stored_timeout


def _state(row: Row[Any]) -> rules.AccountState:
    return rules.AccountState(
        id=row.id,
        ledger=row.ledger,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        closed=row.closed,
        debits_pending=row.debits_pending,
        debits_posted=row.debits_posted,
        credits_pending=row.credits_pending,
        credits_posted=row.credits_posted,
        head_hash=row.head_hash,
    )


def _to_schema(row: Row[Any] | dict[str, Any]) -> Transfer:
    if isinstance(row, dict):
        return Transfer.model_validate({**row, "seq": row.get("seq", 0)})
    return Transfer.model_validate(row._mapping)


def _wrap(index: int, count: int, error: DomainError) -> DomainError:
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
    transfers, _created = create_transfers_ex(session, specs)
    return transfers


def create_transfers_ex(session: Session, specs: Sequence[TransferCreate]) -> tuple[list[Transfer], bool]:
    """As :func:`create_transfers`, also telling whether the chain was newly written (False for a retry)."""
    if not specs:
        raise TransferInvalid(details={"field": "transfers"})
    if len({s.id for s in specs}) != len(specs):
        raise TransferInvalid(details={"field": "id", "problem": "duplicate id in the chain"})
    prepared = []
    for index, spec in enumerate(specs):
        try:
            prepared.append(_prepare(spec))
        except DomainError as error:
            raise _wrap(index, len(specs), error) from None
    try:
        return _create(session, prepared)
    except IntegrityError as error:
        # only reachable by a race the locks do not cover (the same id on other accounts): the transaction is
        # aborted, so nothing of the chain can be committed
        raise _map_integrity(error) from None


def _map_integrity(error: IntegrityError) -> DomainError:
    orig: Any = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None) or ""
    if sqlstate == "23514" and constraint.startswith("ck_ledger_accounts_"):
        return InsufficientFunds(details={"constraint": constraint})
    if sqlstate == "23505" and constraint == "pk_ledger_transfers":
        return TransferExists()
    if sqlstate == "23505" and constraint == "ix_ledger_transfers_pending_id":
        return PendingAlreadyPosted()
    if sqlstate == "23503":
        return AccountNotFound()
    return TransferInvalid(details={"constraint": constraint})


def _create(session: Session, prepared: list[_Prepared]) -> tuple[list[Transfer], bool]:
    specs = [p.spec for p in prepared]
    count = len(specs)
    own_ids = [s.id for s in specs]
    pending_ids = [s.pending_id for s in specs if s.pending_id is not None]
    known = repository.transfers_by_ids(session, pending_ids) if pending_ids else {}

    # accounts touched, locked in id order; then (under the locks) retries and resolutions are looked up
    account_ids: set[uuid.UUID] = set()
    for index, spec in enumerate(specs):
        if spec.pending_id is not None:
            pending = known.get(spec.pending_id)
            if pending is None and spec.pending_id not in set(own_ids):
                raise _wrap(index, count, PendingNotFound(details={"pending_id": str(spec.pending_id)}))
            if pending is not None:
                account_ids.update((pending.debit_account_id, pending.credit_account_id))
        else:
            assert spec.debit_account_id is not None and spec.credit_account_id is not None
            account_ids.update((spec.debit_account_id, spec.credit_account_id))
    locked = repository.lock_accounts(session, account_ids)
    existing, resolved = repository.existing_and_resolutions(session, own_ids, pending_ids)

    stored = [existing.get(i) for i in own_ids]
    if any(row is not None for row in stored):
        for index, (spec, row) in enumerate(zip(specs, stored, strict=True)):
            if row is None:
                raise _wrap(index, count, TransferInvalid(details={"problem": "chain partly exists"}))
            if not _same(spec, row):
                raise _wrap(index, count, TransferExists(details={"id": str(spec.id)}))
        return [_to_schema(row) for row in stored if row is not None], False
    states = {account_id: _state(row) for account_id, row in locked.items()}

    now = utcnow()
    rows: list[dict[str, Any]] = []
    in_chain: dict[uuid.UUID, dict[str, Any]] = {}
    for index, item in enumerate(prepared):
        try:
            new_row = _apply(item, states, known, in_chain, resolved, now)
        except DomainError as error:
            raise _wrap(index, count, error) from None
        rows.append(new_row)
        in_chain[new_row["id"]] = new_row

    seqs = repository.insert_transfers(session, rows)
    touched = {r["debit_account_id"] for r in rows} | {r["credit_account_id"] for r in rows}
    repository.save_account_states(
        session,
        [
            {
                "b_id": s.id,
                "b_dp": s.debits_pending,
                "b_dpo": s.debits_posted,
                "b_cp": s.credits_pending,
                "b_cpo": s.credits_posted,
                "b_head": s.head_hash,
            }
            for account_id, s in sorted(states.items())
            if account_id in touched
        ],
    )
    return [_to_schema({**r, "seq": seqs[r["id"]]}) for r in rows], True


def _apply(
    item: _Prepared,
    states: dict[uuid.UUID, rules.AccountState],
    known: dict[uuid.UUID, Row[Any]],
    in_chain: dict[uuid.UUID, dict[str, Any]],
    resolved: dict[uuid.UUID, str],
    now: datetime,
) -> dict[str, Any]:
    spec = item.spec
    pending_amount = 0
    amount = item.amount
    if spec.pending_id is not None:
        pending: Any = known.get(spec.pending_id) or in_chain.get(spec.pending_id)
        if pending is None:
            raise PendingNotFound(details={"pending_id": str(spec.pending_id)})
        fields: dict[str, Any] = pending if isinstance(pending, dict) else dict(pending._mapping)
        get = fields.__getitem__
        if get("mode") != TransferMode.pending:
            raise PendingNotFound(details={"pending_id": str(spec.pending_id), "problem": "not a pending transfer"})
        done = resolved.get(spec.pending_id) or next(
            (r["mode"] for r in in_chain.values() if r["pending_id"] == spec.pending_id), None
        )
        if done == TransferMode.post_pending:
            raise PendingAlreadyPosted(details={"pending_id": str(spec.pending_id)})
        if done == TransferMode.void_pending:
            raise PendingAlreadyVoided(details={"pending_id": str(spec.pending_id)})
        timeout_at = get("timeout_at")
        expired = timeout_at is not None and timeout_at <= now
        if expired and not (spec.mode is TransferMode.void_pending and spec.code is TransferCode.expired):
            raise PendingExpired(details={"pending_id": str(spec.pending_id)})
        if spec.code is TransferCode.expired and not expired:
            raise TransferInvalid(details={"problem": "not expired yet"})
        debit_id, credit_id = get("debit_account_id"), get("credit_account_id")
        if (spec.debit_account_id not in (None, debit_id)) or (spec.credit_account_id not in (None, credit_id)):
            raise TransferInvalid(details={"problem": "accounts differ from the pending transfer"})
        pending_amount = int(get("amount"))
        if spec.mode is TransferMode.void_pending or amount is None:
            amount = pending_amount
        elif amount > pending_amount:
            raise AmountInvalid(details={"problem": "more than the pending amount", "pending": pending_amount})
    else:
        debit_id, credit_id = spec.debit_account_id, spec.credit_account_id
    assert amount is not None and debit_id is not None and credit_id is not None
    debit, credit = states.get(debit_id), states.get(credit_id)
    if debit is None or credit is None:
        missing = debit_id if debit is None else credit_id
        raise AccountNotFound(details={"account_id": str(missing)})
    if debit.ledger != credit.ledger or (spec.ledger is not None and spec.ledger != debit.ledger):
        raise LedgerMismatch(details={"debit_ledger": debit.ledger, "credit_ledger": credit.ledger})
    if spec.mode is not TransferMode.void_pending and (debit.closed or credit.closed):
        raise AccountClosed(details={"account_id": str(debit.id if debit.closed else credit.id)})
    rules.apply(debit, credit, spec.mode, amount, pending_amount)

    timeout_at = now + timedelta(seconds=spec.timeout_seconds) if spec.timeout_seconds else None
    row: dict[str, Any] = {
        "id": spec.id,
        "ledger": debit.ledger,
        "code": spec.code.value,
        "mode": spec.mode.value,
        "debit_account_id": debit_id,
        "credit_account_id": credit_id,
        "amount": amount,
        "pending_id": spec.pending_id,
        "timeout_at": timeout_at,
        "ref_type": spec.ref_type,
        "ref_id": spec.ref_id,
        "created_at": now,
        "debit_prev_hash": debit.head_hash,
        "credit_prev_hash": credit.head_hash,
    }
    body = rules.canonical(
        id=spec.id,
        ledger=debit.ledger,
        code=spec.code.value,
        mode=spec.mode.value,
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        amount=amount,
        pending_id=spec.pending_id,
        timeout_at=timeout_at,
        ref_type=spec.ref_type,
        ref_id=spec.ref_id,
        created_at=now,
    )
    row["hash"] = rules.chain_hash(debit.head_hash, credit.head_hash, body)
    debit.head_hash = row["hash"]
    credit.head_hash = row["hash"]
    return row

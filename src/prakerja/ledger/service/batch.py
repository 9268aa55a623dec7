"""The batch path (payout runs, yearly expiry): set-based posting of many posted transfers in one transaction.

Same guarantees as single transfers: amounts > 0, accounts exist, are open and on one ledger, locked in id order;
idempotent ids (a retried batch writes nothing twice; a reused id with other fields fails the batch); CHECK
constraints on the aggregated UPDATE; the hash chain computed in one fast loop in write order."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.ledger import repository, rules
from prakerja.ledger.errors import (
    AccountClosed,
    AccountNotFound,
    AmountInvalid,
    InsufficientFunds,
    LedgerMismatch,
    SameAccount,
    TransferExists,
    TransferInvalid,
)
from prakerja.ledger.models import TransferMode
from prakerja.ledger.schemas import BatchResult, BatchTransfer

_POSTED = TransferMode.posted.value


def post_batch(session: Session, batch: Sequence[BatchTransfer]) -> BatchResult:
    """Post every transfer of ``batch`` or none (a savepoint in the caller's transaction)."""
    if not batch:
        return BatchResult(created=0, existing=0)
    account_ids: set[int] = set()  # uuid.UUID.int: hashed and sorted in C, unlike the UUID objects
    add = account_ids.add
    max_amount = rules.MAX_AMOUNT
    checked_refs: set[tuple[str, str]] = set()
    for index, (_id, debit, credit, amount, _code, ref_type, ref_id) in enumerate(batch):
        if type(amount) is not int or amount <= 0 or amount > max_amount:
            raise AmountInvalid(details={"index": index, "amount": repr(amount)[:32]})
        debit_int = debit.int
        credit_int = credit.int
        if debit_int == credit_int:
            raise SameAccount(details={"index": index})
        ref = (ref_type, ref_id)
        if ref not in checked_refs:
            if "|" in ref_type or "|" in ref_id or len(ref_type) > 32 or len(ref_id) > 128:
                raise TransferInvalid(details={"index": index, "field": "ref"})
            checked_refs.add(ref)
        add(debit_int)
        add(credit_int)
    try:
        with session.begin_nested():
            _post(session, batch, account_ids)
        return BatchResult(created=len(batch), existing=0)
    except (IntegrityError, psycopg.IntegrityError) as error:
        if _diag(error)[0] != "23505":
            raise _mapped(error) from None
    # some ids exist already (a retried batch): compare them, then post only the new ones
    existing = {row[0]: row for row in repository.batch_existing(session, (t.id for t in batch))}
    if not existing:
        raise TransferInvalid(details={"problem": "duplicate id in the batch"})
    fresh = []
    for index, t in enumerate(batch):
        row = existing.get(t.id)
        if row is None:
            fresh.append(t)
        elif (row[1], row[2], row[3], row[4], row[5], row[6], row[7]) != (
            t.debit_account_id,
            t.credit_account_id,
            t.amount,
            t.code,
            t.ref_type,
            t.ref_id,
            _POSTED,
        ):
            raise TransferExists(details={"index": index, "id": str(t.id)})
    if fresh:
        try:
            with session.begin_nested():
                _post(session, fresh, account_ids)
        except (IntegrityError, psycopg.IntegrityError) as error:
            raise _mapped(error) from None
    return BatchResult(created=len(fresh), existing=len(batch) - len(fresh))


def _diag(error: Exception) -> tuple[str | None, str]:
    orig: Any = getattr(error, "orig", None) or error
    return getattr(orig, "sqlstate", None), getattr(getattr(orig, "diag", None), "constraint_name", None) or ""


def _mapped(error: Exception) -> Exception:
    sqlstate, constraint = _diag(error)
    if sqlstate == "23514" and constraint.startswith("ck_ledger_accounts_"):
        return InsufficientFunds(details={"constraint": constraint})
    if sqlstate == "23505":
        return TransferInvalid(details={"problem": "duplicate id in the batch"})
    return TransferInvalid(details={"constraint": constraint})


def _post(session: Session, batch: Sequence[BatchTransfer], account_ids: set[int]) -> None:
    ordered = sorted(account_ids)  # PostgreSQL orders uuids by the same 128-bit value
    texts = [_uuid_text(account_id) for account_id in ordered]
    locked = repository.batch_lock_accounts(session, texts)
    if len(locked) != len(ordered):
        missing = repository.batch_missing_account(session)
        raise AccountNotFound(details={"account_id": str(missing)})
    # the rows come back in id order, without their ids: matched by position
    # id.int -> [ledger, closed, head, debits, credits, dmnec, cmned, dp, dpo, cp, cpo, "ledger|", "id",
    #            id as a COPY field]
    state: dict[int, list[Any]] = {
        account_id: [
            ledger, closed, head, 0, 0, dflag, cflag, dp, dpo, cp, cpo, f"{ledger}|", text,
            _UUID_FIELD + account_id.to_bytes(16),
        ]
        for account_id, text, (ledger, dflag, cflag, closed, dp, dpo, cp, cpo, head) in zip(
            ordered, texts, locked, strict=True
        )
    }  # fmt: skip
    repository.batch_copy_transfers(session, _blocks(batch, state, utcnow()))
    for account_id, s in state.items():
        debits_posted = s[8] + s[3]
        credits_posted = s[10] + s[4]
        if (s[5] and s[7] + debits_posted > credits_posted) or (s[6] and s[9] + credits_posted > debits_posted):
            raise InsufficientFunds(details={"account_id": _uuid_text(account_id)})
    repository.batch_apply_deltas(session, _delta_blocks(state))


_UUID_FIELD = struct.pack(">i", 16)
_HASH_FIELD = struct.pack(">i", 32)
_TRANSFER_ROW = struct.pack(">hi", len(repository.TRANSFER_COPY_COLUMNS), 16)
_DELTA_ROW = struct.pack(">h", 4)
_BIGINT = struct.Struct(">iq").pack
_EPOCH_2000_US = 946_684_800 * 1_000_000
"""PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC."""
_BLOCK = 1000
"""Rows per COPY write."""


def _uuid_text(value: int) -> str:
    """``str(uuid.UUID(int=value))`` without making the UUID."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _text_field(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def _blocks(batch: Sequence[BatchTransfer], state: dict[int, list[Any]], now: datetime) -> Iterator[bytes]:
    """Validate against the locked accounts and chain each transfer to both accounts' heads, in batch order; yield
    the rows as blocks of binary COPY data (``repository.TRANSFER_COPY_COLUMNS``).

    The hashed text is exactly ``rules.canonical`` (mirrored in SQL for ``ledger check``), built with one
    f-string from per-account, per-code and per-reference pieces computed once instead of per row."""
    sha256 = hashlib.sha256
    micros = rules.micros(now)
    created_us = str(micros)
    created = _BIGINT(8, micros - _EPOCH_2000_US)
    codes: dict[Any, str] = {}
    fixed: dict[tuple[int, str], bytes] = {}  # (ledger, code) -> the ledger, code and mode fields
    refs: dict[tuple[str, str], bytes] = {}  # -> the ref_type and ref_id fields
    block = bytearray()
    rows = 0
    for index, (tid, debit_id, credit_id, amount, code_in, ref_type, ref_id) in enumerate(batch):
        debit = state[debit_id.int]
        credit = state[credit_id.int]
        ledger = debit[0]
        if credit[0] != ledger:
            raise LedgerMismatch(details={"index": index})
        if debit[1] or credit[1]:
            raise AccountClosed(details={"index": index})
        code = codes.get(code_in)
        if code is None:
            code = codes[code_in] = code_in.value if hasattr(code_in, "value") else str(code_in)
        head = fixed.get((ledger, code))
        if head is None:
            head = fixed[(ledger, code)] = struct.pack(">ih", 2, ledger) + _text_field(code) + _text_field(_POSTED)
        ref = refs.get((ref_type, ref_id))
        if ref is None:
            ref = refs[(ref_type, ref_id)] = _text_field(ref_type) + _text_field(ref_id)
        # id|ledger|code|mode|debit|credit|amount|pending_id|timeout_us|ref_type|ref_id|created_us
        tid_int = tid.int
        h = f"{tid_int:032x}"
        body = (
            f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}|{debit[11]}{code}|{_POSTED}|{debit[12]}|{credit[12]}"
            f"|{amount}|||{ref_type}|{ref_id}|{created_us}"
        )
        debit_prev = debit[2]
        credit_prev = credit[2]
        digest = sha256(debit_prev + credit_prev + body.encode()).digest()
        debit[2] = credit[2] = digest
        debit[3] += amount
        credit[4] += amount
        block += _TRANSFER_ROW
        block += tid_int.to_bytes(16)
        block += head
        block += debit[13]
        block += credit[13]
        block += _BIGINT(8, amount)
        block += ref
        block += created
        block += _HASH_FIELD
        block += debit_prev
        block += _HASH_FIELD
        block += credit_prev
        block += _HASH_FIELD
        block += digest
        rows += 1
        if rows == _BLOCK:
            yield bytes(block)
            block.clear()
            rows = 0
    if block:
        yield bytes(block)


def _delta_blocks(state: dict[int, list[Any]]) -> Iterator[bytes]:
    """Binary COPY rows ``id, debits, credits, new head`` of every account the batch moved."""
    block = bytearray()
    for s in state.values():
        if s[3] or s[4]:
            block += _DELTA_ROW
            block += s[13]
            block += _BIGINT(8, s[3])
            block += _BIGINT(8, s[4])
            block += _HASH_FIELD
            block += s[2]
            if len(block) > 1 << 20:
                yield bytes(block)
                block.clear()
    if block:
        yield bytes(block)

"""The batch path (payout runs, yearly expiry): set-based posting of many posted transfers in one transaction.

Same guarantees as single transfers: amounts > 0, accounts exist, are open and on one ledger, locked in id order;
idempotent ids (a retried batch writes nothing twice; a reused id with other fields fails the batch); the balance
flags checked by the database's CHECK constraints on the aggregated UPDATE (a refusal names the account); the hash
chain linked once per batch and account, in batch order (``rules.canonical`` + ``rules.link_hash``, ADR 0013).

The work is split so that most of it needs no database and runs in bulk: :func:`prepare_batch` validates and
turns the batch into arrays (account positions, ids and their texts); under the locks only the hash chain itself is
a Python loop, and the binary COPY rows around the hashes are assembled by numpy. :func:`post_batches` posts a run
of batches, one transaction each, preparing the next batch while the database finishes the current one."""

from __future__ import annotations

import hashlib
import itertools
import operator
import queue
import struct
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.kit.pgcopy import uuid_texts
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
from prakerja.ledger.models import TransferCode, TransferMode
from prakerja.ledger.schemas import BatchResult, BatchTransfer

_POSTED = TransferMode.posted.value
_BLOCK = 5000
"""Rows per COPY write: the hashes of one block are computed while the server stores the previous one."""

U8 = npt.NDArray[np.uint8]


@dataclass(slots=True)
class PreparedBatch:
    """A validated batch as arrays; made without the database (:func:`prepare_batch`)."""

    transfers: Sequence[BatchTransfer]
    account_raw: U8
    """The distinct accounts' 16-byte ids, ascending: the lock order (PostgreSQL orders uuids by their bytes)."""
    account_texts: list[str]
    debit_pos: list[int]
    """Per transfer, the position of its debit account in ``account_raw``."""
    credit_pos: list[int]
    id_raw: U8
    id_texts: list[str]
    amounts: list[int]
    debit_sums: list[int]
    """Per account (in lock order), what the batch debits it; exact."""
    credit_sums: list[int]
    mixed: list[int]
    """Positions of the accounts the batch both debits and credits: only their balance can dip and recover inside
    the batch, so only they are replayed transfer by transfer (under the locks, before the totals are updated); the
    others move one way, and the CHECK constraints on the UPDATE decide for them."""
    groups: list[tuple[str, str, str]]
    """The distinct (code, ref_type, ref_id) of the batch."""
    group_of: list[int] | None
    """Per transfer, its index in ``groups``; None when the batch has one group."""

    @property
    def accounts(self) -> list[int]:
        """The distinct accounts as ``uuid.UUID.int``, in lock order (ascending)."""
        raw = self.account_raw.tobytes()
        return [int.from_bytes(raw[i : i + 16]) for i in range(0, len(raw), 16)]


_ID = operator.itemgetter(0)
_DEBIT = operator.itemgetter(1)
_CREDIT = operator.itemgetter(2)
_AMOUNT = operator.itemgetter(3)
_GROUP_FIELDS = (operator.itemgetter(4), operator.itemgetter(5), operator.itemgetter(6))
_UUID_INT = operator.attrgetter("int")


def _raw(values: Iterable[uuid.UUID], n: int) -> U8:
    """UUIDs -> an ``(n, 16)`` array of their bytes (``UUID.bytes`` is a Python property; ``int`` is a slot)."""
    raw = b"".join(map(int.to_bytes, map(_UUID_INT, values), itertools.repeat(16)))
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, 16)


def prepare_batch(batch: Sequence[BatchTransfer]) -> PreparedBatch:
    """Every check that needs no database: amounts, two distinct accounts, codes and references. The per-transfer
    work runs in C (``map`` over item getters, numpy): the accounts are sorted and numbered by ``numpy.unique`` over
    their 16-byte ids, which orders them as PostgreSQL orders uuids."""
    if not batch:
        raise TransferInvalid(details={"field": "transfers", "problem": "empty batch"})
    n = len(batch)
    amounts = list(map(_AMOUNT, batch))
    if set(map(type, amounts)) != {int} or min(amounts) <= 0 or max(amounts) > rules.MAX_AMOUNT:
        for index, amount in enumerate(amounts):
            if type(amount) is not int or amount <= 0 or amount > rules.MAX_AMOUNT:
                raise AmountInvalid(details={"index": index, "amount": repr(amount)[:32]})
    debit_raw = _raw(map(_DEBIT, batch), n)
    credit_raw = _raw(map(_CREDIT, batch), n)
    same = (debit_raw == credit_raw).all(axis=1)
    if same.any():
        raise SameAccount(details={"index": int(np.flatnonzero(same)[0])})
    # (code, ref_type, ref_id) groups; a batch usually shares one set of objects (no tuple per row then)
    first = batch[0][4:]
    keys: list[Any] | None = None
    for field, value in zip(_GROUP_FIELDS, first, strict=True):
        if not all(map(operator.is_, map(field, batch), itertools.repeat(value))):
            keys = [t[4:] for t in batch]
            break
    index_of: dict[Any, int] = {}
    for key in keys if keys is not None else [tuple(first)]:
        if key not in index_of:
            index_of[key] = len(index_of)
    groups = []
    for code, ref_type, ref_id in index_of:
        index = keys.index((code, ref_type, ref_id)) if keys is not None else 0
        try:
            code_text = TransferCode(code).value
        except ValueError:
            raise TransferInvalid(details={"index": index, "field": "code"}) from None
        if "|" in ref_type or "|" in ref_id or len(ref_type) > 32 or len(ref_id) > 128:
            raise TransferInvalid(details={"index": index, "field": "ref"})
        groups.append((code_text, ref_type, ref_id))
    # the distinct accounts in byte order (= uuid order), and each side's position among them
    both = np.concatenate((debit_raw, credit_raw)).view("S16").ravel()
    distinct, position = np.unique(both, return_inverse=True)
    account_raw = np.frombuffer(distinct.tobytes(), dtype=np.uint8).reshape(len(distinct), 16)
    positions = position.reshape(-1)
    debit_pos = positions[:n].tolist()
    credit_pos = positions[n:].tolist()
    id_raw = _raw(map(_ID, batch), n)
    debit_sums, credit_sums = _account_sums(len(distinct), debit_pos, credit_pos, amounts)
    return PreparedBatch(
        transfers=batch,
        account_raw=account_raw,
        account_texts=uuid_texts(account_raw),
        debit_pos=debit_pos,
        credit_pos=credit_pos,
        id_raw=id_raw,
        id_texts=uuid_texts(id_raw),
        amounts=amounts,
        debit_sums=debit_sums,
        credit_sums=credit_sums,
        mixed=[i for i, (d, c) in enumerate(zip(debit_sums, credit_sums, strict=True)) if d and c],
        groups=groups,
        group_of=[index_of[k] for k in keys] if keys is not None and len(groups) > 1 else None,
    )


def post_batch(session: Session, batch: Sequence[BatchTransfer]) -> BatchResult:
    """Post every transfer of ``batch`` or none (a savepoint in the caller's transaction)."""
    if not batch:
        return BatchResult(created=0, existing=0)
    return post_prepared(session, prepare_batch(batch))


def post_batches(session_factory: Callable[[], Session], batches: Iterable[Sequence[BatchTransfer]]) -> BatchResult:
    """Post a run of batches (a payout run in chunks), each all or nothing in its own transaction, committed
    before the next one starts; the run stops at the first refused batch (earlier ones stay committed: they are
    idempotent, so posting the same run again posts only what is missing).

    A worker thread posts and commits one batch while this thread prepares the next (validation, lock order, id
    texts) once the worker waits for the database's UPDATE of the totals: the database's work and Python's
    overlap on two cores, and the preparation never competes with the hashing for the interpreter."""
    outcomes: dict[int, BatchResult | BaseException] = {}
    _pipeline(session_factory, ((0, batch) for batch in batches), outcomes)
    outcome = outcomes.get(0, BatchResult(created=0, existing=0))
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def post_runs(
    session_factory: Callable[[], Session],
    runs: Sequence[Iterable[Sequence[BatchTransfer]]],
    *,
    streams: int = 2,
) -> list[BatchResult | DomainError]:
    """Post several independent runs at once (a payout cycle: one run per payment partner) on ``streams``
    connections. Each stream takes the next run not yet started when it reaches the end of its current one, and
    keeps its pipeline going across runs (the next run's first batch is prepared while the last one of the
    previous run is finishing). Returns each run's result, or the refusal that stopped it (the other runs go on;
    any other error stops everything and is raised). Runs that share an account are still correct (their batches
    wait for each other's locks, taken in the same id order); runs on distinct accounts use the database's cores
    in parallel."""
    waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(runs)):
        waiting.put(index)
    outcomes: dict[int, BatchResult | BaseException] = {}

    def chunks() -> Iterator[tuple[int, Sequence[BatchTransfer]]]:
        while True:
            try:
                index = waiting.get_nowait()
            except queue.Empty:
                return
            outcomes[index] = BatchResult(created=0, existing=0)
            for batch in runs[index]:
                yield index, batch

    failures: list[BaseException] = []

    def stream() -> None:
        try:
            _pipeline(session_factory, chunks(), outcomes)
        except BaseException as error:  # a run's own iterable failed: handed to the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=stream, name="ledger-run") for _ in range(max(1, min(streams, len(runs))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    results: list[BatchResult | DomainError] = []
    for index in range(len(runs)):
        outcome = outcomes.get(index, BatchResult(created=0, existing=0))
        if isinstance(outcome, BaseException) and not isinstance(outcome, DomainError):
            raise outcome
        results.append(outcome)
    return results


def _pipeline(
    session_factory: Callable[[], Session],
    chunks: Iterable[tuple[int, Sequence[BatchTransfer]]],
    outcomes: dict[int, BatchResult | BaseException],
) -> None:
    """Post ``(run, batch)`` items in order, one committed transaction per batch, summing each run's results in
    ``outcomes``. A refused batch (``DomainError``) ends its run: the first refusal becomes the run's outcome and
    its later batches are skipped; any other error ends the pipeline. A worker thread posts while this thread
    prepares the next batch, started when the worker only waits for the database's UPDATE. The batch in flight
    is always finished (committed or refused) before anything after it is recorded or raised."""
    worker: threading.Thread | None = None
    posted: list[BatchResult | BaseException] = []
    updating = threading.Event()
    current = -1

    def post(prepared: PreparedBatch) -> None:
        try:
            with session_factory() as session:
                result = post_prepared(session, prepared, before_update=updating.set)
                session.commit()
            posted.append(result)
        except BaseException as error:  # handed to the pipeline's thread
            posted.append(error)
        finally:
            updating.set()

    def finish() -> bool:
        """Wait for the batch in flight, if any; False when the pipeline must stop."""
        nonlocal worker
        if worker is None:
            return True
        worker.join()
        worker = None
        return _merge_outcome(outcomes, current, posted.pop())

    try:
        for run, batch in chunks:
            if isinstance(outcomes.get(run), BaseException) or not batch:
                continue  # the run was refused earlier (or the batch is empty)
            if worker is not None:
                updating.wait()
            try:
                prepared = prepare_batch(batch)
            except BaseException as error:
                if not finish() or not _merge_outcome(outcomes, run, error):
                    return
                continue
            if not finish():
                return
            if isinstance(outcomes.get(run), BaseException):
                continue  # the batch that was in flight refused this run: its later batches are not posted
            updating.clear()
            current = run
            worker = threading.Thread(target=post, args=(prepared,), name="ledger-batch")
            worker.start()
    finally:
        finish()


def _merge_outcome(
    outcomes: dict[int, BatchResult | BaseException], run: int, result: BatchResult | BaseException
) -> bool:
    """Add one batch's result to its run's (the run's first refusal stays its outcome); False when the pipeline
    must stop (an error that is no refusal)."""
    before = outcomes.get(run)
    if isinstance(result, BaseException):
        if not isinstance(before, BaseException):
            outcomes[run] = result
        return isinstance(result, DomainError)
    if isinstance(before, BaseException):
        return True
    if before is not None:
        result = BatchResult(created=before.created + result.created, existing=before.existing + result.existing)
    outcomes[run] = result
    return True


def post_prepared(
    session: Session, prepared: PreparedBatch, *, before_update: Callable[[], None] | None = None
) -> BatchResult:
    """Post a prepared batch: all or nothing, in a savepoint of the caller's transaction. ``before_update`` is
    called when only the database's work is left (the UPDATE of the totals)."""
    batch = prepared.transfers
    try:
        with session.begin_nested():
            _lock_copy_update(session, prepared, before_update)
        return BatchResult(created=len(batch), existing=0)
    except (IntegrityError, psycopg.IntegrityError) as error:
        if _sqlstate_and_constraint(error)[0] != "23505":
            raise _refusal_for(session, prepared, error) from None
    # some ids exist already (a retried batch): compare them, then post only the new ones
    existing = repository.batch_existing(session, prepared.id_texts)
    if not existing:
        raise TransferInvalid(details={"problem": "duplicate id in the batch"})
    fresh = []
    texts = prepared.account_texts
    for index, (t, tid, d, c) in enumerate(
        zip(batch, prepared.id_texts, prepared.debit_pos, prepared.credit_pos, strict=True)
    ):
        row = existing.get(tid)
        if row is None:
            fresh.append(t)
        elif row != (texts[d], texts[c], t.amount, t.code, t.ref_type, t.ref_id, _POSTED):
            raise TransferExists(details={"index": index, "id": tid})
    if fresh:
        again = prepare_batch(fresh)
        original = [index for index, tid in enumerate(prepared.id_texts) if tid not in existing]
        try:
            try:
                with session.begin_nested():
                    _lock_copy_update(session, again, before_update)
            except (IntegrityError, psycopg.IntegrityError) as error:
                raise _refusal_for(session, again, error) from None
        except DomainError as refusal:
            if isinstance(refusal.details.get("index"), int):  # an index into the batch as given
                refusal.details["index"] = original[refusal.details["index"]]
            raise
    return BatchResult(created=len(fresh), existing=len(batch) - len(fresh))


def _sqlstate_and_constraint(error: Exception) -> tuple[str | None, str]:
    orig: Any = getattr(error, "orig", None) or error
    return getattr(orig, "sqlstate", None), getattr(getattr(orig, "diag", None), "constraint_name", None) or ""


def _refusal_for(session: Session, prepared: PreparedBatch, error: Exception) -> Exception:
    sqlstate, constraint = _sqlstate_and_constraint(error)
    if sqlstate == "23514" and constraint.startswith("ck_ledger_accounts_"):
        # the savepoint is rolled back: name the transfer and account from the totals as they are now
        found = _first_overdraft(session, prepared, range(prepared.account_raw.shape[0]))
        if found is None:
            return InsufficientFunds(details={"constraint": constraint})
        return InsufficientFunds(details={"account_id": found[1], "index": found[0]})
    if sqlstate == "23505":
        return TransferInvalid(details={"problem": "duplicate id in the batch"})
    return TransferInvalid(details={"constraint": constraint})


def _account_sums(
    k: int, debit_pos: list[int], credit_pos: list[int], amounts: list[int]
) -> tuple[list[int], list[int]]:
    """Per account (``k`` of them, in lock order): the batch's debits and credits, exact."""
    if max(amounts) * len(amounts) < 2**63:
        values = np.array(amounts, dtype=np.int64)
        debits = np.zeros(k, dtype=np.int64)
        credits = np.zeros(k, dtype=np.int64)
        np.add.at(debits, np.array(debit_pos, dtype=np.intp), values)
        np.add.at(credits, np.array(credit_pos, dtype=np.intp), values)
        return debits.tolist(), credits.tolist()
    debit_sums, credit_sums = [0] * k, [0] * k
    for d, c, amount in zip(debit_pos, credit_pos, amounts, strict=True):
        debit_sums[d] += amount
        credit_sums[c] += amount
    if max(debit_sums) >= 2**63 or max(credit_sums) >= 2**63:  # past BIGINT: no total could hold it
        raise AmountInvalid(details={"problem": "the batch moves more than an account total can hold"})
    return debit_sums, credit_sums


def _first_overdraft(session: Session, p: PreparedBatch, positions: Iterable[int]) -> tuple[int, str] | None:
    """Apply the batch in order to the flagged accounts among ``positions`` (their totals as they are now) and
    return the first transfer that takes one of them past its flag: ``(index, account)``; the debit account is
    looked at first, as in the posting functions."""
    texts = p.account_texts
    totals = repository.batch_flagged_totals(session, [texts[i] for i in positions])
    state = {
        i: [dflag, cflag, dp, dpo, cp, cpo]
        for i in positions
        if (row := totals.get(texts[i])) is not None
        for dflag, cflag, dp, dpo, cp, cpo in [row]
    }
    if not state:
        return None
    for index, (d, c, amount) in enumerate(zip(p.debit_pos, p.credit_pos, p.amounts, strict=True)):
        debit = state.get(d)
        credit = state.get(c)
        if debit is not None:
            debit[3] += amount
        if credit is not None:
            credit[5] += amount
        for position, account in ((d, debit), (c, credit)):
            if account is None:
                continue
            dflag, cflag, dp, dpo, cp, cpo = account
            if (dflag and dp + dpo > cpo) or (cflag and cp + cpo > dpo):
                return index, texts[position]
    return None


def _lock_copy_update(session: Session, p: PreparedBatch, before_update: Callable[[], None] | None) -> None:
    count, low, high, any_closed, ids_blob, heads_blob = repository.batch_lock_accounts(session, _account_rows(p))
    if count != p.account_raw.shape[0]:
        missing = repository.batch_missing_account(session)
        raise AccountNotFound(details={"account_id": str(missing)})
    if ids_blob != p.account_raw.tobytes():  # the heads must come in lock order: checked, never assumed
        raise RuntimeError("ledger: locked accounts came back out of id order")
    row_ledgers: list[int] | None = None
    if low != high or any_closed:
        flags = repository.batch_locked_flags(session)
        ledgers = [f[0] for f in flags]
        closed = [f[1] for f in flags]
        for index, (d, c) in enumerate(zip(p.debit_pos, p.credit_pos, strict=True)):
            if ledgers[d] != ledgers[c]:
                raise LedgerMismatch(details={"index": index})
            if closed[d] or closed[c]:
                raise AccountClosed(details={"index": index})
        if low != high:
            row_ledgers = [ledgers[d] for d in p.debit_pos]
    heads = [heads_blob[o : o + 32] for o in range(0, len(heads_blob), 32)]
    repository.batch_copy_transfers(session, _transfer_copy_blocks(p, heads, low, row_ledgers, utcnow()))
    if p.mixed and _first_overdraft(session, p, p.mixed) is not None:
        # an account debited and credited in the batch dips past its flag before it recovers: refused like the
        # chain path refuses it, naming the first transfer (over every flagged account) that overdraws
        found = _first_overdraft(session, p, range(p.account_raw.shape[0]))
        assert found is not None
        raise InsufficientFunds(details={"account_id": found[1], "index": found[0]})
    heads_blob = b"".join(heads)
    if before_update is not None:
        before_update()
    repository.batch_apply_deltas(session, heads_blob)


_TRANSFER_ROW = struct.pack(">hi", len(repository.TRANSFER_COPY_COLUMNS), 16)
_LEN = {size: np.frombuffer(struct.pack(">i", size), dtype=np.uint8) for size in (8, 16, 32)}
_NULL = np.frombuffer(struct.pack(">i", -1), dtype=np.uint8)
_FIXED = 74
"""Bytes of a transfer row before its two links: count, id, debit, credit, amount."""
_EPOCH_2000_US = 946_684_800 * 1_000_000
"""PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC."""
_ONCE, _OPEN, _LAST = 0, 1, 2
"""A row's part in one of its accounts' batch link: the account's only transfer of the batch (the row carries the
link), one of several but not the last (no link on the row), the last of several (the row carries the link)."""


def _copy_field(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def _link_roles(p: PreparedBatch) -> tuple[list[int], list[int]]:
    """Per transfer, its part (``_ONCE``, ``_OPEN``, ``_LAST``) in its debit account's and its credit account's link
    of this batch, computed in bulk."""
    n, k = len(p.transfers), p.account_raw.shape[0]
    debit_pos = np.array(p.debit_pos, dtype=np.intp)
    credit_pos = np.array(p.credit_pos, dtype=np.intp)
    uses = np.bincount(debit_pos, minlength=k) + np.bincount(credit_pos, minlength=k)
    rows = np.arange(n, dtype=np.int64)
    last = np.full(k, -1, dtype=np.int64)
    np.maximum.at(last, debit_pos, rows)
    np.maximum.at(last, credit_pos, rows)

    def roles(positions: npt.NDArray[np.intp]) -> list[int]:
        found = np.where(last[positions] == rows, _LAST, _OPEN)
        found[uses[positions] == 1] = _ONCE
        return list(found.tolist())

    return roles(debit_pos), roles(credit_pos)


def _transfer_copy_blocks(
    p: PreparedBatch, heads: list[bytes], ledger: int, row_ledgers: list[int] | None, now: datetime
) -> Iterator[bytes]:
    """Link each account's transfers of the batch to its head, once per account (``rules.link_hash``, ADR 0013),
    and yield binary COPY blocks (``repository.TRANSFER_COPY_COLUMNS``); ``heads`` ends holding each account's new
    head.

    The hashed text of a transfer is exactly ``rules.canonical`` (mirrored in SQL for ``ledger check``):
    ``id|ledger|code|mode|debit|credit|amount|pending_id|timeout_us|ref_type|ref_id|created_us``, built from
    pieces computed once per group (ledger, code, reference). An account with one transfer in the batch (a payable
    in a payout run) costs one SHA-256 call; an account with many (the run's payouts-in-flight account) one
    running digest fed by each of its transfers, read at its last one."""
    sha256 = hashlib.sha256
    micros = rules.micros(now)
    created_us = str(micros)
    created = struct.pack(">iq", 8, micros - _EPOCH_2000_US)
    # a variant per (ledger, group): the text around the accounts and the COPY fields after the links
    variant_of: list[int] | None
    if row_ledgers is None:
        keys: list[tuple[int, int]] = [(ledger, g) for g in range(len(p.groups))]
        variant_of = p.group_of
    else:
        group_of = p.group_of or [0] * len(p.transfers)
        index_of: dict[tuple[int, int], int] = {}
        variant_of = [index_of.setdefault(key, len(index_of)) for key in zip(row_ledgers, group_of, strict=True)]
        keys = list(index_of)
    variants = []
    for variant_ledger, g in keys:
        code, ref_type, ref_id = p.groups[g]
        variants.append(
            (
                f"|{variant_ledger}|{code}|{_POSTED}|",
                f"|||{ref_type}|{ref_id}|{created_us}\n",
                struct.pack(">ih", 2, variant_ledger)
                + _copy_field(code.encode())
                + _copy_field(_POSTED.encode())
                + _copy_field(ref_type.encode())
                + _copy_field(ref_id.encode())
                + created,
            )
        )
    debit_roles, credit_roles = _link_roles(p)
    # per row: 2 when its debit side carries a link, 1 when its credit side does (a role other than _OPEN)
    linked = (np.asarray(debit_roles) != _OPEN) * 2 + (np.asarray(credit_roles) != _OPEN)
    texts = p.account_texts
    n = len(p.transfers)
    debit_pos = np.array(p.debit_pos, dtype=np.intp)
    credit_pos = np.array(p.credit_pos, dtype=np.intp)
    amounts_be = np.array(p.amounts, dtype=">i8").view(np.uint8).reshape(n, 8)
    running: dict[int, Any] = {}
    """The running digest of each account with several transfers in the batch, until its last one."""
    for start in range(0, n, _BLOCK):
        end = min(n, start + _BLOCK)
        block_variants = variant_of[start:end] if variant_of is not None else [0] * (end - start)
        debit_links: list[bytes | None] = []
        credit_links: list[bytes | None] = []
        rows = zip(
            p.id_texts[start:end],
            p.debit_pos[start:end],
            p.credit_pos[start:end],
            p.amounts[start:end],
            block_variants,
            debit_roles[start:end],
            credit_roles[start:end],
            strict=True,
        )
        add_debit, add_credit = debit_links.append, credit_links.append
        for tid, d, c, amount, v, debit_role, credit_role in rows:
            mid, tail, _ = variants[v]
            body = f"{tid}{mid}{texts[d]}|{texts[c]}|{amount}{tail}".encode()
            # the two sides written out: an account used once in the batch (a payable in a payout run) links with
            # one call; one used several times (the run's account) feeds its running digest
            if debit_role == _ONCE:
                link = heads[d] = sha256(heads[d] + body).digest()
                add_debit(link)
            else:
                digest = running.get(d)
                if digest is None:
                    digest = running[d] = sha256(heads[d])
                digest.update(body)
                if debit_role == _LAST:
                    link = heads[d] = digest.digest()
                    del running[d]
                    add_debit(link)
                else:
                    add_debit(None)
            if credit_role == _ONCE:
                link = heads[c] = sha256(heads[c] + body).digest()
                add_credit(link)
            else:
                digest = running.get(c)
                if digest is None:
                    digest = running[c] = sha256(heads[c])
                digest.update(body)
                if credit_role == _LAST:
                    link = heads[c] = digest.digest()
                    del running[c]
                    add_credit(link)
                else:
                    add_credit(None)
        # rows of one variant and one link pattern share a layout: assemble each run of them at once (the runs'
        # bounds found by numpy, where the variant or a side's having a link changes: no Python per row)
        pattern = np.asarray(block_variants, dtype=np.int64) * 4 + linked[start:end]
        cuts = [0, *(np.flatnonzero(pattern[1:] != pattern[:-1]) + 1).tolist(), end - start]
        for i, j in itertools.pairwise(cuts):
            variant, has_links = block_variants[i], int(linked[start + i])
            yield _assemble(
                p,
                start + i,
                start + j,
                debit_links[i:j] if has_links & 2 else None,
                credit_links[i:j] if has_links & 1 else None,
                debit_pos,
                credit_pos,
                amounts_be,
                variants[variant][2],
            )


def _assemble(
    p: PreparedBatch,
    start: int,
    end: int,
    debit_links: list[bytes | None] | None,
    credit_links: list[bytes | None] | None,
    debit_pos: npt.NDArray[np.intp],
    credit_pos: npt.NDArray[np.intp],
    amounts_be: U8,
    tail: bytes,
) -> bytes:
    """Rows ``start:end`` as binary COPY data: id, debit, credit, amount, the debit and credit links (NULL where
    None is given), then ``tail`` (ledger, code, mode, references, created_at)."""
    m = end - start
    width = _FIXED + (36 if debit_links is not None else 4) + (36 if credit_links is not None else 4) + len(tail)
    out = np.empty((m, width), dtype=np.uint8)
    out[:, 0:6] = np.frombuffer(_TRANSFER_ROW, dtype=np.uint8)
    out[:, 6:22] = p.id_raw[start:end]
    out[:, 22:26] = _LEN[16]
    out[:, 26:42] = p.account_raw[debit_pos[start:end]]
    out[:, 42:46] = _LEN[16]
    out[:, 46:62] = p.account_raw[credit_pos[start:end]]
    out[:, 62:66] = _LEN[8]
    out[:, 66:74] = amounts_be[start:end]
    column = _FIXED
    for links in (debit_links, credit_links):
        if links is None:
            out[:, column : column + 4] = _NULL
            column += 4
            continue
        out[:, column : column + 4] = _LEN[32]
        out[:, column + 4 : column + 36] = np.frombuffer(b"".join(cast(list[bytes], links)), dtype=np.uint8).reshape(
            m, 32
        )
        column += 36
    out[:, column:] = np.frombuffer(tail, dtype=np.uint8)
    return out.tobytes()


_ACCOUNT_ROW = np.frombuffer(struct.pack(">hi", 4, 16), dtype=np.uint8)
_POSITION = np.frombuffer(struct.pack(">i", 4), dtype=np.uint8)


def _account_rows(p: PreparedBatch) -> bytes:
    """Binary COPY rows ``id, position, debits, credits`` of every account of the batch, in lock order."""
    k = p.account_raw.shape[0]
    out = np.empty((k, 54), dtype=np.uint8)
    out[:, 0:6] = _ACCOUNT_ROW
    out[:, 6:22] = p.account_raw
    out[:, 22:26] = _POSITION
    out[:, 26:30] = np.arange(k, dtype=">i4").view(np.uint8).reshape(k, 4)
    out[:, 30:34] = _LEN[8]
    out[:, 34:42] = np.array(p.debit_sums, dtype=">i8").view(np.uint8).reshape(k, 8)
    out[:, 42:46] = _LEN[8]
    out[:, 46:54] = np.array(p.credit_sums, dtype=">i8").view(np.uint8).reshape(k, 8)
    return out.tobytes()

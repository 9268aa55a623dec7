"""Bulk import of applicant records registered offline (regional manpower offices), set-based.

Rows are validated by the same rules as the wizard, encrypted, and written chunk by chunk with binary COPY into a
staging table, each chunk then inserted in one statement that skips NIKs already registered. The whole file commits
or nothing does (one transaction, the caller's). Preparing chunks is pure CPU work (:func:`prepare_binary_chunk`),
done by forked processes (:func:`preparers`) while this process feeds PostgreSQL."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import multiprocessing
import os
import re
import struct
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id_block
from prakerja.kit.keys import get_keys
from prakerja.kit.pii import Sealer
from prakerja.registration import repository, rules
from prakerja.registration.models import IdentityStatus
from prakerja.registration.rules import regions

COLUMNS = ("nik", "kk", "birth_date", "sex", "full_name", "mother_maiden_name", "domicile_district")
"""The CSV header an offline file must have, in any order."""


@dataclass(frozen=True)
class BulkResult:
    rows_read: int
    rows_invalid: int
    rows_inserted: int
    rows_duplicate: int


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z'.,-]*(?: [A-Za-z'.,-]+)*")


def _name_ok(name: str) -> bool:
    """``rules.validate_name`` with a fast path for plain ASCII names (the same verdict for those)."""
    if len(name) <= rules.NAME_MAX_LENGTH and _PLAIN_NAME.fullmatch(name):
        return True
    return not rules.validate_name(name)


def _normal_name(name: str) -> str:
    return name if _PLAIN_NAME.fullmatch(name) else rules.normalize_name(name)


_T = "registration_applicants."
_CONTEXTS = {name: (_T + name).encode() for name in ("nik", "kk", "birth_date", "full_name", "mother_maiden_name")}


def _checked(row: Sequence[str], today: datetime.date) -> tuple[str, str, str, str, str, str, str] | None:
    """The row's fields in their stored form (numbers and names normalised), or None when any field is refused by
    the wizard's rules."""
    if len(row) != len(COLUMNS):
        return None
    nik, kk, birth, sex, name, mother, district = (value.strip() for value in row)
    try:
        born = datetime.date.fromisoformat(birth)
    except ValueError:
        return None
    if sex not in ("M", "F") or regions.district(district) is None:
        return None
    if (
        rules.validate_nik(nik, birth_date=born, female=(sex == "F"))
        or rules.validate_kk(kk)
        or rules.validate_birth_date(born, reference_date=today)
        or not _name_ok(name)
        or not _name_ok(mother)
    ):
        return None
    return (
        rules.normalize_number(nik),
        rules.normalize_number(kk),
        born.isoformat(),
        sex,
        _normal_name(name),
        _normal_name(mother),
        district,
    )


STAGE_COLUMNS = (
    "id",
    "nik",
    "nik_index",
    "kk",
    "kk_index",
    "birth_date",
    "sex",
    "full_name",
    "mother_maiden_name",
    "domicile_province",
    "domicile_regency",
    "domicile_district",
)
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = struct.pack("!h", -1)
_FIELD_COUNT = struct.pack("!h", len(STAGE_COLUMNS))
_LENGTHS = [n.to_bytes(4, "big") for n in range(2048)]
"""Binary COPY field lengths, looked up instead of formatted per field (a row's fields are far shorter)."""


def _length(value: bytes) -> bytes:
    n = len(value)
    return _LENGTHS[n] if n < 2048 else n.to_bytes(4, "big")


def prepare_binary_chunk(rows: Sequence[Sequence[str]], today: datetime.date) -> tuple[bytes, int, int]:
    """Validate and encrypt a chunk into PostgreSQL binary COPY rows (no header): (data, rows read, invalid).
    Pure CPU work with no session, so chunks can be prepared in other processes (:func:`import_rows`).

    Per field, as :func:`prakerja.kit.pii.encrypt` and :func:`~prakerja.kit.pii.blind_index` would store it: AES-GCM
    with a fresh random nonce and the column as associated data, and the HMAC blind index of the NIK and KK (16
    ASCII digits once checked, so their own normal form)."""
    keys = get_keys()
    seal = Sealer(keys).seal  # made here, in the process that prepares the chunk (nonces are never shared)
    index_key = keys.blind_index_key
    digest, sha256 = hmac.digest, hashlib.sha256
    c_nik, c_kk, c_birth = _CONTEXTS["nik"], _CONTEXTS["kk"], _CONTEXTS["birth_date"]
    c_name, c_mother = _CONTEXTS["full_name"], _CONTEXTS["mother_maiden_name"]
    checked = [_checked(row, today) for row in rows]
    valid = [fields for fields in checked if fields is not None]
    ids = new_id_block(len(valid))
    l16, l32, l1, l2, l4, l6 = (_LENGTHS[n] for n in (16, 32, 1, 2, 4, 6))
    out: list[bytes] = []
    for row_id, (nik, kk, born, sex, name, mother, district) in zip(ids, valid, strict=True):
        nik_sealed = seal(nik, c_nik)
        kk_sealed = seal(kk, c_kk)
        born_sealed = seal(born, c_birth)
        name_sealed = seal(name, c_name)
        mother_sealed = seal(mother, c_mother)
        area = district.encode()
        fields = (
            _FIELD_COUNT, l16, row_id,
            _length(nik_sealed), nik_sealed, l32, digest(index_key, b"nik\x00" + nik.encode(), sha256),
            _length(kk_sealed), kk_sealed, l32, digest(index_key, b"kk\x00" + kk.encode(), sha256),
            _length(born_sealed), born_sealed, l1, sex.encode(),
            _length(name_sealed), name_sealed, _length(mother_sealed), mother_sealed,
            l2, area[:2], l4, area[:4], l6, area,
        )  # fmt: skip
        out.append(b"".join(fields))
    return b"".join(out), len(rows), len(rows) - len(valid)


def write_binary_chunks(session: Session, chunks: Iterable[tuple[bytes, int, int]]) -> BulkResult:
    """COPY chunks made by :func:`prepare_binary_chunk` and insert them, skipping NIKs already present.

    Each chunk is COPYed into the staging table and inserted (one set-based ``INSERT ... SELECT``) as soon as it
    arrives, all in the caller's transaction: PostgreSQL inserts one chunk while other processes prepare the next
    ones, and the import still commits whole or not at all."""
    read = invalid = staged = inserted = 0
    now = utcnow()
    repository.open_applicant_stage(session, STAGE_COLUMNS)
    for data, chunk_read, chunk_invalid in chunks:
        read += chunk_read
        invalid += chunk_invalid
        if not data:
            continue
        staged += repository.stage_applicants_raw(session, STAGE_COLUMNS, (_BINARY_HEADER, data, _BINARY_TRAILER))
        inserted += repository.insert_staged_applicants(
            session, STAGE_COLUMNS, now=now, status=IdentityStatus.unsubmitted.value
        )
    return BulkResult(rows_read=read, rows_invalid=invalid, rows_inserted=inserted, rows_duplicate=staged - inserted)


def _batches(rows: Iterable[Sequence[str]], size: int) -> Iterator[list[Sequence[str]]]:
    batch: list[Sequence[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


SMALL_FILE_BYTES = 2_000_000
"""Below this (about 20,000 rows) a file is prepared in the importing process alone."""


def preparing_cores() -> int:
    """Cores this process may use: the processes that prepare chunks (PostgreSQL and this process mostly wait)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def preparers(processes: int | None = None) -> Iterator[Executor | None]:
    """Processes that prepare chunks for :func:`import_rows`, or None for one core (then this process does it).

    They are forked (started now, before the caller starts threads or opens connections where it can): a child
    has the personal-data keys already loaded, so keys never travel through a pipe, and it only computes, never
    touching the parent's connections. Each chunk is encrypted with a :class:`~prakerja.kit.pii.Sealer` made in
    the process that prepares it, so no two processes ever draw nonces from the same block."""
    count = preparing_cores() if processes is None else processes
    if count < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    get_keys()  # loaded before the fork, so every child has them
    executor = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"))
    try:
        executor.submit(int).result()  # fork the children now
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _in_order(
    executor: Executor, batches: Iterable[list[Sequence[str]]], today: datetime.date, ahead: int
) -> Iterator[tuple[bytes, int, int]]:
    """Chunks prepared by the pool, in file order, at most ``ahead`` in flight (memory stays bounded)."""
    pending: deque[Future[tuple[bytes, int, int]]] = deque()
    try:
        for batch in batches:
            pending.append(executor.submit(prepare_binary_chunk, batch, today))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def import_rows(
    session: Session,
    rows: Iterable[Sequence[str]],
    chunk_size: int = 10_000,
    *,
    pool: Executor | None = None,
) -> BulkResult:
    """Validate, encrypt and register rows, in the caller's transaction. With a ``pool`` (:func:`preparers`) the
    chunks are prepared by its processes, a few ahead, while this one feeds PostgreSQL; without, here."""
    today = utcnow().date()
    batches = _batches(rows, chunk_size)
    if pool is None:
        return write_binary_chunks(session, (prepare_binary_chunk(batch, today) for batch in batches))
    ahead = 2 * getattr(pool, "_max_workers", 2)
    return write_binary_chunks(session, _in_order(pool, batches, today, ahead))

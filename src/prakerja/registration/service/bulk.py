"""Bulk import of applicant records registered offline (regional manpower offices), set-based.

Rows are validated by the same rules as the wizard, encrypted, and written chunk by chunk with binary COPY into a
staging table, each chunk then inserted in one statement that skips NIKs already registered. The whole file commits
or nothing does (one transaction, the caller's). Preparing chunks is pure CPU work (:func:`prepare_binary_chunk`),
done by forked processes (:func:`preparers`) while this process feeds PostgreSQL."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import itertools
import multiprocessing
import operator
import os
import re
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

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
    "identity_status",
    "created_at",
    "updated_at",
)
"""The columns of a prepared row, in order: what ``registration_applicants`` receives (the others keep their
defaults, as before)."""
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = struct.pack("!h", -1)
_FIELD_COUNT = struct.pack("!h", len(STAGE_COLUMNS))
_LENGTHS = [n.to_bytes(4, "big") for n in range(2048)]
"""Binary COPY field lengths, looked up instead of formatted per field (a row's fields are far shorter)."""
_POSTGRES_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_DIGITS16 = re.compile(r"[0-9]{16}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ZEROS16 = "0" * 16
_SEX_FIELDS = {"M": _LENGTHS[1] + b"M", "F": _LENGTHS[1] + b"F"}


def _length_of(n: int) -> bytes:
    return _LENGTHS[n] if n < 2048 else n.to_bytes(4, "big")


def _length(value: bytes) -> bytes:
    return _length_of(len(value))


def _blind_index(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 under ``key`` (RFC 2104) from its inner and outer hash states, computed once: the same digest
    as ``hmac.digest(key, message, "sha256")`` (:func:`prakerja.kit.pii.blind_index`) at a quarter of its cost for
    short messages, which key OpenSSL's HMAC again on every call."""
    key = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    copy_inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    copy_outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def digest(message: bytes) -> bytes:
        inner = copy_inner()
        inner.update(message)
        outer = copy_outer()
        outer.update(inner.digest())
        return outer.digest()

    return digest


def _timestamp(moment: datetime.datetime) -> bytes:
    """A ``timestamptz`` in binary COPY: microseconds since 2000-01-01 UTC, big-endian."""
    delta = moment - _POSTGRES_EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return _LENGTHS[8] + micros.to_bytes(8, "big", signed=True)


class _Verdicts:
    """The wizard's verdicts that depend on a few characters of a row, cached per process (the region lists do not
    change while it runs; a file has few districts and birth dates compared with its rows)."""

    def __init__(self) -> None:
        self.district: dict[str, bytes | None] = {}  # the three area fields in binary COPY, or None when refused
        self.nik_region: dict[str, bool] = {}
        self.kk_region: dict[str, bool] = {}
        self.birth: dict[tuple[str, datetime.date], bool] = {}

    def area(self, code: str) -> bytes | None:
        found = self.district.get(code, b"")
        if found == b"":
            found = None
            if code == code.strip() and regions.district(code) is not None:
                area = code.encode()
                found = _LENGTHS[2] + area[:2] + _LENGTHS[4] + area[:4] + _length(area) + area
            self.district[code] = found
        return found

    def nik_region_ok(self, prefix: str) -> bool:
        ok = self.nik_region.get(prefix)
        if ok is None:
            ok = self.nik_region[prefix] = (
                regions.province(prefix[:2], include_retired=True) is not None
                and regions.regency(prefix[:4], include_retired=True) is not None
                and regions.district(prefix, include_retired=True) is not None
            )
        return ok

    def kk_region_ok(self, prefix: str) -> bool:
        ok = self.kk_region.get(prefix)
        if ok is None:
            ok = self.kk_region[prefix] = (
                regions.province(prefix[:2], include_retired=True) is not None
                and regions.regency(prefix, include_retired=True) is not None
            )
        return ok

    def birth_ok(self, birth: str, today: datetime.date) -> bool:
        key = (birth, today)
        ok = self.birth.get(key)
        if ok is None:
            if len(self.birth) > 200_000:
                self.birth.clear()
            try:
                born = datetime.date.fromisoformat(birth)
            except ValueError:
                ok = False
            else:
                ok = born.isoformat() == birth and not rules.validate_birth_date(born, reference_date=today)
            self.birth[key] = ok
        return ok


_VERDICTS = _Verdicts()


def _plain(value: str) -> bool:
    return len(value) <= rules.NAME_MAX_LENGTH and _PLAIN_NAME.fullmatch(value) is not None


def _checked_fast(
    row: Sequence[str], today: datetime.date, v: _Verdicts = _VERDICTS
) -> tuple[str, str, str, str, str, str, str] | None:
    """:func:`_checked` with the same verdicts and stored forms, by a short path for the common row (16 plain
    digits, an ISO date, M or F, plain ASCII names, a district code as written): the region verdicts and birth
    dates are cached and the NIK's date and sex fields compared as characters. Any other row takes
    :func:`_checked` itself."""
    if len(row) == 7:
        nik, kk, birth, sex, name, mother, district = row
        if (
            (sex == "M" or sex == "F")
            and _DIGITS16.fullmatch(nik)
            and _DIGITS16.fullmatch(kk)
            and _ISO_DATE.fullmatch(birth)
            and nik[12:] != "0000"
            and kk != _ZEROS16
            and v.area(district) is not None
            and v.nik_region_ok(nik[:6])
            and v.kk_region_ok(kk[:4])
            and v.birth_ok(birth, today)
            and _plain(name)
            and _plain(mother)
        ):
            # validate_nik's date and sex: DD (+40 for women) MM YY of the NIK against the declared date
            day = int(nik[6:8]) - 40 if sex == "F" else int(nik[6:8])
            if day == int(birth[8:10]) and nik[8:10] == birth[5:7] and nik[10:12] == birth[2:4]:
                return nik, kk, birth, sex, name, mother, district
    return _checked(row, today)


def prepare_binary_chunk(
    rows: Sequence[Sequence[str]], today: datetime.date, now: datetime.datetime | None = None
) -> tuple[bytes, int, int]:
    """Validate and encrypt a chunk into PostgreSQL binary COPY rows of :data:`STAGE_COLUMNS` (no header): (data,
    rows read, invalid). Pure CPU work with no session, so chunks can be prepared in other processes
    (:func:`import_rows`). ``now`` is the rows' ``created_at`` and ``updated_at`` (one instant for the import).

    Per field, as :func:`prakerja.kit.pii.encrypt` and :func:`~prakerja.kit.pii.blind_index` would store it: AES-GCM
    with a fresh random nonce and the column as associated data, and the HMAC blind index of the NIK and KK (16
    ASCII digits once checked, so their own normal form). The work is done column by column (one C-level loop per
    column where it can), and the rows joined in one ``bytes.join`` for the chunk."""
    keys = get_keys()
    sealer = Sealer(keys)  # made here, in the process that prepares the chunk (nonces are never shared)
    valid = [fields for fields in (_checked_fast(row, today) for row in rows) if fields is not None]
    if not valid:
        return b"", len(rows), len(rows) - len(valid)
    niks, kks, births, sexes, names, mothers, districts = (list(column) for column in zip(*valid, strict=True))
    overhead = len(sealer.prefix) + 12
    sealed: list[tuple[list[bytes], list[bytes], list[bytes]]] = []  # per column: length fields, nonces, boxes
    for values, context in (
        (niks, "nik"),
        (kks, "kk"),
        (births, "birth_date"),
        (names, "full_name"),
        (mothers, "mother_maiden_name"),
    ):
        nonces, boxes = sealer.seal_column_parts(values, _CONTEXTS[context])
        sealed.append(([_length_of(overhead + len(box)) for box in boxes], nonces, boxes))
    index = _blind_index(keys.blind_index_key)
    nik_i = [index(b"nik\x00" + nik.encode()) for nik in niks]
    kk_i = [index(b"kk\x00" + kk.encode()) for kk in kks]
    areas = [_VERDICTS.area(district) for district in districts]
    stamp = _timestamp(now or utcnow())
    status = IdentityStatus.unsubmitted.value.encode()
    prefix = itertools.repeat(sealer.prefix)
    l32 = itertools.repeat(_LENGTHS[32])
    (nik_l, nik_n, nik_b), (kk_l, kk_n, kk_b), (born_l, born_n, born_b), (name_l, name_n, name_b), mother = sealed
    pieces = zip(
        itertools.repeat(_FIELD_COUNT + _LENGTHS[16]), new_id_block(len(valid)),
        nik_l, prefix, nik_n, nik_b, l32, nik_i,
        kk_l, prefix, kk_n, kk_b, l32, kk_i,
        born_l, prefix, born_n, born_b,
        map(_SEX_FIELDS.__getitem__, sexes),
        name_l, prefix, name_n, name_b,
        mother[0], prefix, mother[1], mother[2],
        areas, itertools.repeat(_length(status) + status + stamp + stamp),
        strict=False,
    )  # fmt: skip
    data = b"".join(itertools.chain.from_iterable(pieces))
    return data, len(rows), len(rows) - len(valid)


def prepare_csv_chunk(
    text: str, order: Sequence[int], today: datetime.date, now: datetime.datetime
) -> tuple[bytes, int, int]:
    """:func:`prepare_binary_chunk` of whole CSV records (``text``, read by :func:`csv_blocks`), parsed here with the
    :mod:`csv` module exactly as the CLI reads a file, each record's fields taken in ``order`` (missing ones empty)."""
    return prepare_binary_chunk(_records(text, order), today, now)


def _records(text: str, order: Sequence[int]) -> list[Sequence[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    last = max(order)
    pick = operator.itemgetter(*order)
    return [pick(row) if len(row) > last else [row[j] if j < len(row) else "" for j in order] for row in reader]


SAVEPOINT_GROUP_BYTES = 64 << 20
"""The most COPY data one savepoint covers (kept in memory to be staged again if it conflicts)."""


def write_binary_chunks(session: Session, chunks: Iterable[tuple[bytes, int, int]]) -> BulkResult:
    """COPY chunks made by :func:`prepare_binary_chunk` into ``registration_applicants``, skipping NIKs already
    present.

    Each chunk is COPYed as soon as it arrives, all in the caller's transaction: PostgreSQL stores one chunk while
    other processes prepare the next ones, and the import still commits whole or not at all. Chunks go straight
    into the table under a savepoint that covers a group of them; when one of their NIKs is already registered (or
    repeated in the file) the unique index refuses the COPY, the savepoint undoes the group, and the group alone
    takes the way that skips them: a staging table and ``INSERT ... SELECT ... ON CONFLICT (nik_index) DO NOTHING``.

    A group is one chunk at first and twice as many after each clean one, up to :data:`SAVEPOINT_GROUP_BYTES` of
    data, and one chunk again after a conflict: every released savepoint keeps its subtransaction id in the
    import's transaction until the commit, and past 64 of them PostgreSQL's per-backend cache of subtransactions
    overflows, after which every other session's snapshot looks subtransactions up in ``pg_subtrans`` for as long
    as the import runs. A savepoint per chunk (~10,000 rows) overflowed at ~640,000 rows; groups keep an import of
    tens of millions of rows under 64."""
    read = invalid = offered = inserted = 0
    group: list[bytes] = []  # the chunks COPYed under the open savepoint
    group_bytes = group_rows = 0
    group_size = 1
    for data, chunk_read, chunk_invalid in chunks:
        read += chunk_read
        invalid += chunk_invalid
        if not data:
            continue
        if not group:
            repository.open_applicant_group(session)
        copied = repository.copy_applicants_in_group(session, STAGE_COLUMNS, (_BINARY_HEADER, data, _BINARY_TRAILER))
        if copied is None:  # a NIK conflicted, the group undone: its chunks again, skipping the NIKs already there
            group.append(data)
            repository.open_applicant_stage(session, STAGE_COLUMNS)
            staged = repository.stage_applicants_raw(session, STAGE_COLUMNS, (_BINARY_HEADER, *group, _BINARY_TRAILER))
            moved = repository.insert_staged_applicants(session, STAGE_COLUMNS)
            offered += staged - group_rows
            inserted += moved - group_rows
            group, group_bytes, group_rows, group_size = [], 0, 0, 1
            continue
        offered += copied
        inserted += copied
        group.append(data)
        group_bytes += len(data)
        group_rows += copied
        if len(group) >= group_size or group_bytes >= SAVEPOINT_GROUP_BYTES:
            repository.close_applicant_group(session)
            group, group_bytes, group_rows, group_size = [], 0, 0, group_size * 2
    if group:
        repository.close_applicant_group(session)
    return BulkResult(rows_read=read, rows_invalid=invalid, rows_inserted=inserted, rows_duplicate=offered - inserted)


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


def _in_order(executor: Executor, calls: Iterable[tuple[object, ...]], ahead: int) -> Iterator[tuple[bytes, int, int]]:
    """Chunks prepared by the pool (each call: a function and its arguments), in file order, at most ``ahead`` in
    flight (memory stays bounded)."""
    pending: deque[Future[tuple[bytes, int, int]]] = deque()
    try:
        for function, *arguments in calls:
            pending.append(executor.submit(function, *arguments))  # type: ignore[arg-type]
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _prepared(calls: Iterable[tuple[object, ...]], pool: Executor | None) -> Iterator[tuple[bytes, int, int]]:
    if pool is None:
        return (function(*arguments) for function, *arguments in calls)  # type: ignore[operator]
    return _in_order(pool, calls, 2 * getattr(pool, "_max_workers", 2))


def import_rows(
    session: Session,
    rows: Iterable[Sequence[str]],
    chunk_size: int = 10_000,
    *,
    pool: Executor | None = None,
) -> BulkResult:
    """Validate, encrypt and register rows, in the caller's transaction. With a ``pool`` (:func:`preparers`) the
    chunks are prepared by its processes, a few ahead, while this one feeds PostgreSQL; without, here."""
    now = utcnow()
    today = now.date()
    calls = ((prepare_binary_chunk, batch, today, now) for batch in _batches(rows, chunk_size))
    return write_binary_chunks(session, _prepared(calls, pool))


class HeaderError(ValueError):
    """The file's first record is not the columns of :data:`COLUMNS` (in any order)."""


CHUNK_CHARACTERS = 1 << 20
"""Characters of CSV records per chunk handed to a preparing process (about 10,000 rows)."""


def csv_order(header: Sequence[str]) -> list[int]:
    """Where each of :data:`COLUMNS` is in a file's header; :class:`HeaderError` when the header is not them."""
    names = [h.strip() for h in header]
    if sorted(names) != sorted(COLUMNS):
        raise HeaderError(",".join(COLUMNS))
    return [names.index(c) for c in COLUMNS]


def import_csv(
    session: Session,
    handle: TextIO,
    order: Sequence[int],
    *,
    pool: Executor | None = None,
    chunk_characters: int = CHUNK_CHARACTERS,
    on_rows: Callable[[int], object] | None = None,
) -> BulkResult:
    """Register the records of an offline CSV file (``handle``: opened as text with ``newline=""``, positioned after
    the header, whose :func:`csv_order` is ``order``), in the caller's transaction; ``on_rows`` sees the rows read
    so far.

    The records reach the preparing processes as text and are parsed there: whole lines at a time, read with
    ``readlines`` (up to ``chunk_characters``), which are whole records as long as no double quote has been seen
    (without quotes a CSV record is one line). From the first chunk with a double quote on, the rest of the file is
    parsed here, record by record (a quoted field may hold a line break), and handed over as rows. Either way the
    rows are those :mod:`csv` reads from the file, fields in header order, missing ones empty."""
    now = utcnow()
    today = now.date()
    counted = [0]

    def calls() -> Iterator[tuple[object, ...]]:
        while lines := handle.readlines(chunk_characters):
            text = "".join(lines)
            if '"' in text:
                rows = csv.reader(itertools.chain(lines, handle))
                padded = ([row[j] if j < len(row) else "" for j in order] for row in rows)
                for batch in _batches(padded, 10_000):
                    yield prepare_binary_chunk, batch, today, now
                return
            yield prepare_csv_chunk, text, order, today, now

    def reported(chunks: Iterator[tuple[bytes, int, int]]) -> Iterator[tuple[bytes, int, int]]:
        for chunk in chunks:
            counted[0] += chunk[1]
            if on_rows is not None:
                on_rows(counted[0])
            yield chunk

    return write_binary_chunks(session, reported(_prepared(calls(), pool)))

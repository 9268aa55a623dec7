"""Bulk import of applicant records registered offline (regional manpower offices), set-based.

Rows are validated by the same rules as the wizard, encrypted, and written with COPY into a staging table, then
inserted in one statement that skips NIKs already registered. The whole file commits or nothing does.
Preparing rows is pure CPU work (:func:`prepare_row`), so callers may spread it over processes."""

from __future__ import annotations

import datetime
import re
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id_bytes
from prakerja.kit.keys import KeyMaterial, get_keys
from prakerja.kit.pii import Sealer, blind_index
from prakerja.registration import repository, rules
from prakerja.registration.models import IdentityStatus
from prakerja.registration.rules import regions

COLUMNS = ("nik", "kk", "birth_date", "sex", "full_name", "mother_maiden_name", "domicile_district")
"""The CSV header an offline file must have, in any order."""

Prepared = tuple[object, ...]


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


def prepare_row(
    row: Sequence[str], *, today: datetime.date, keys: KeyMaterial | None = None, sealer: Sealer | None = None
) -> Prepared | None:
    """One validated, encrypted row ready for COPY, or None when any field is refused."""
    keys = keys or get_keys()
    seal = (sealer or Sealer(keys)).seal
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
    nik, kk = rules.normalize_number(nik), rules.normalize_number(kk)
    contexts = _CONTEXTS
    return (
        new_id_bytes(),
        seal(nik, contexts["nik"]),
        blind_index(nik, "nik", keys),
        seal(kk, contexts["kk"]),
        blind_index(kk, "kk", keys),
        seal(born.isoformat(), contexts["birth_date"]),
        sex,
        seal(_normal_name(name), contexts["full_name"]),
        seal(_normal_name(mother), contexts["mother_maiden_name"]),
        district[:2],
        district[:4],
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


def _binary_row(row: Prepared) -> bytes:
    parts = [_FIELD_COUNT if len(row) == len(STAGE_COLUMNS) else struct.pack("!h", len(row))]
    for value in row:
        raw = value if type(value) is bytes else value.bytes if isinstance(value, uuid.UUID) else str(value).encode()
        parts.append(len(raw).to_bytes(4, "big"))
        parts.append(raw)
    return b"".join(parts)


def prepare_binary_chunk(rows: Sequence[Sequence[str]], today: datetime.date) -> tuple[bytes, int, int]:
    """Validate and encrypt a chunk into PostgreSQL binary COPY rows (no header): (data, rows read, invalid).
    Pure CPU work with no session, so chunks can be prepared in other processes."""
    keys = get_keys()
    sealer = Sealer(keys)  # made here, in the process that prepares the chunk (nonces are never shared)
    out: list[bytes] = []
    invalid = 0
    for row in rows:
        prepared = prepare_row(row, today=today, keys=keys, sealer=sealer)
        if prepared is None:
            invalid += 1
        else:
            out.append(_binary_row(prepared))
    return b"".join(out), len(rows), invalid


def write_binary_chunks(session: Session, chunks: Iterable[tuple[bytes, int, int]]) -> BulkResult:
    """COPY chunks made by :func:`prepare_binary_chunk` and insert them, skipping NIKs already present."""
    counts = {"read": 0, "invalid": 0}

    def stream() -> Iterable[bytes]:
        yield _BINARY_HEADER
        for data, read, invalid in chunks:
            counts["read"] += read
            counts["invalid"] += invalid
            yield data
        yield _BINARY_TRAILER

    staged = repository.stage_applicants_raw(session, STAGE_COLUMNS, stream())
    inserted = repository.insert_staged_applicants(
        session, STAGE_COLUMNS, now=utcnow(), status=IdentityStatus.unsubmitted.value
    )
    return BulkResult(
        rows_read=counts["read"],
        rows_invalid=counts["invalid"],
        rows_inserted=inserted,
        rows_duplicate=staged - inserted,
    )


def import_rows(session: Session, rows: Iterable[Sequence[str]], chunk_size: int = 10_000) -> BulkResult:
    """Validate, encrypt and register rows in this process (the CLI); see :func:`prepare_binary_chunk` to spread
    the CPU work over processes."""
    today = utcnow().date()

    def chunks() -> Iterable[tuple[bytes, int, int]]:
        batch: list[Sequence[str]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk_size:
                yield prepare_binary_chunk(batch, today)
                batch = []
        if batch:
            yield prepare_binary_chunk(batch, today)

    return write_binary_chunks(session, chunks())

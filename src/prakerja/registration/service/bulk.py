"""Bulk import of applicant records registered offline (regional manpower offices), set-based.

Rows are validated by the same rules as the wizard, encrypted, and written with COPY into a staging table, then
inserted in one statement that skips NIKs already registered. The whole file commits or nothing does.
Preparing rows is pure CPU work (:func:`prepare_row`), so callers may spread it over processes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.keys import KeyMaterial, get_keys
from prakerja.kit.pii import blind_index, encrypt
from prakerja.registration import regions, repository, rules
from prakerja.registration.models import IdentityStatus

COLUMNS = ("nik", "kk", "birth_date", "sex", "full_name", "mother_maiden_name", "domicile_district")
"""The CSV header an offline file must have, in any order."""

Prepared = tuple[object, ...]


@dataclass(frozen=True)
class BulkResult:
    rows_read: int
    rows_invalid: int
    rows_inserted: int
    rows_duplicate: int


def prepare_row(row: Sequence[str], *, today: datetime.date, keys: KeyMaterial | None = None) -> Prepared | None:
    """One validated, encrypted row ready for COPY, or None when any field is refused."""
    keys = keys or get_keys()
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
        or rules.validate_name(name)
        or rules.validate_name(mother, field="mother_maiden_name")
    ):
        return None
    nik, kk = rules.normalize_number(nik), rules.normalize_number(kk)
    t = "registration_applicants."
    return (
        new_id(),
        encrypt(nik, t + "nik", keys),
        blind_index(nik, "nik", keys),
        encrypt(kk, t + "kk", keys),
        blind_index(kk, "kk", keys),
        encrypt(born.isoformat(), t + "birth_date", keys),
        sex,
        encrypt(rules.normalize_name(name), t + "full_name", keys),
        encrypt(rules.normalize_name(mother), t + "mother_maiden_name", keys),
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
STAGE_TYPES = (
    "uuid",
    "bytea",
    "bytea",
    "bytea",
    "bytea",
    "bytea",
    "varchar",
    "bytea",
    "bytea",
    "varchar",
    "varchar",
    "varchar",
)


def write_prepared(session: Session, rows: Iterable[Prepared | None]) -> BulkResult:
    """COPY prepared rows (None counts as invalid) and insert them, skipping NIKs already present."""
    counts = {"read": 0, "invalid": 0}

    def valid() -> Iterable[Prepared]:
        for row in rows:
            counts["read"] += 1
            if row is None:
                counts["invalid"] += 1
                continue
            yield row

    staged = repository.stage_applicants(session, STAGE_COLUMNS, STAGE_TYPES, valid())
    inserted = repository.insert_staged_applicants(
        session, STAGE_COLUMNS, now=utcnow(), status=IdentityStatus.unsubmitted.value
    )
    return BulkResult(
        rows_read=counts["read"],
        rows_invalid=counts["invalid"],
        rows_inserted=inserted,
        rows_duplicate=staged - inserted,
    )


def import_rows(session: Session, rows: Iterable[Sequence[str]]) -> BulkResult:
    today = utcnow().date()
    keys = get_keys()
    return write_prepared(session, (prepare_row(r, today=today, keys=keys) for r in rows))

"""Exclusion lists and whitelists from ministries: NIKs kept as blind indexes only, with provenance."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.pii import blind_index
from prakerja.registration import repository, rules
from prakerja.registration.errors import ListFileInvalid, ListFileTooLarge
from prakerja.registration.models import EXCLUSION_TYPES, WHITELIST_TYPES, ListImport, ListKind
from prakerja.registration.rules.listfiles import ListFileError, read_niks


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    list_type: str
    kind: str
    mode: str
    rows_read: int
    rows_invalid: int
    rows_added: int
    rows_removed: int
    rows_total: int


def kind_of(list_type: str) -> ListKind:
    if list_type in EXCLUSION_TYPES:
        return ListKind.exclusion
    if list_type in WHITELIST_TYPES:
        return ListKind.whitelist
    raise ListFileInvalid(
        f"Jenis daftar tidak dikenal: {list_type}.",
        f"Unknown list type: {list_type}.",
        code="list_type_unknown",
        details={"field": "list_type", "allowed": [*EXCLUSION_TYPES, *WHITELIST_TYPES]},
    )


MAX_LIST_BYTES = 512 * 1024 * 1024
"""The largest list file accepted (a national list of NIKs as CSV is about 300 MB)."""


def read_upload(file: BinaryIO) -> bytes:
    """An uploaded list file, read up to :data:`MAX_LIST_BYTES` (one more byte tells that it is larger): every
    route that takes a list (PMO page, PMO API, partner API) reads it here, with the same limit."""
    data = file.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise ListFileTooLarge(details={"max_bytes": MAX_LIST_BYTES})
    return data


def import_list(
    session: Session,
    *,
    data: bytes,
    filename: str,
    list_type: str,
    source: str,
    as_of: datetime.date,
    mode: str,
    actor: audit.Actor,
    via: str,
) -> ImportResult:
    """Replace or merge one list from a CSV/Parquet file with a ``nik`` column. Rows that are not 16-digit NIKs
    are counted and skipped. The file is staged with COPY and applied with set-based SQL in this transaction."""
    kind = kind_of(list_type)
    if mode not in ("replace", "merge"):
        raise ListFileInvalid(
            "Mode harus replace atau merge.", "Mode must be replace or merge.", code="list_mode_invalid"
        )
    source = source.strip()
    if not source or len(source) > 200:
        raise ListFileInvalid(
            "Sumber daftar wajib diisi.", "The list's source is required.", code="list_source_invalid"
        )
    counts = {"read": 0, "invalid": 0}

    def indexes() -> Iterator[bytes]:
        for raw in read_niks(data, filename):
            counts["read"] += 1
            nik = rules.normalize_number(raw)
            if len(nik) != 16 or not is_ascii_number(nik):
                counts["invalid"] += 1
                continue
            yield blind_index(nik, "nik")

    repository.lock_list(session, list_type, source)
    try:
        repository.stage_list(session, indexes())
    except ListFileError as error:
        raise ListFileInvalid(details={"problem": str(error)}) from None
    if counts["read"] == 0 or counts["read"] == counts["invalid"]:
        raise ListFileInvalid(
            "Berkas tidak berisi NIK yang valid.", "The file holds no valid NIK.", code="list_file_empty"
        )
    record = ListImport(
        kind=kind.value,
        list_type=list_type,
        source=source,
        as_of=as_of,
        mode=mode,
        imported_by=actor.id,
        imported_via=via,
        file_sha256=hashlib.sha256(data).digest(),
        rows_read=counts["read"],
        rows_invalid=counts["invalid"],
        rows_added=0,
        rows_removed=0,
        rows_total=0,
    )
    repository.add(session, record)
    added, removed, total = repository.apply_staged_list(
        session, list_type=list_type, source=source, kind=kind.value, import_id=record.id, replace=(mode == "replace")
    )
    record.rows_added, record.rows_removed, record.rows_total = added, removed, total
    audit.record(
        session,
        actor,
        "registration.list_imported",
        "list",
        list_type,
        data={
            "import_id": str(record.id),
            "source": source,
            "as_of": as_of.isoformat(),
            "mode": mode,
            "rows_read": counts["read"],
            "rows_invalid": counts["invalid"],
            "added": added,
            "removed": removed,
            "total": total,
        },
    )
    return ImportResult(
        import_id=str(record.id),
        list_type=list_type,
        kind=kind.value,
        mode=mode,
        rows_read=counts["read"],
        rows_invalid=counts["invalid"],
        rows_added=added,
        rows_removed=removed,
        rows_total=total,
    )


def recent_imports(session: Session, limit: int = 50) -> list[ListImport]:
    return repository.list_imports(session, limit)

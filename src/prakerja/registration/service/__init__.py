"""Registration use cases. Other domains call only what is re-exported here."""

from prakerja.registration.service.snapshots import (
    ApplicantSnapshot,
    applicant_for_account,
    kk_index,
    list_types_for,
    nik_index,
    snapshots,
    whitelist_types_for,
)

__all__ = [
    "ApplicantSnapshot",
    "applicant_for_account",
    "kk_index",
    "list_types_for",
    "nik_index",
    "snapshots",
    "whitelist_types_for",
]

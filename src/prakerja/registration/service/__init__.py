"""Registration use cases. Other domains call only what is re-exported here (and ``record_signal``).

The interface for waves and selection: :class:`ApplicantSnapshot`, :func:`applicant_for_account`,
:func:`snapshots`, :func:`list_types_for`, :func:`whitelist_types_for`, :func:`nik_index`,
:func:`region_exists`, ``WHITELIST_TYPES`` (the list types a priority tier may name)."""

from prakerja.registration.models import WHITELIST_TYPES
from prakerja.registration.service import (
    ability,
    bulk,
    checks,
    identity,
    integrity,
    lists,
    localtime,
    officers,
    phone,
)
from prakerja.registration.service.integrity import record_signal
from prakerja.registration.service.regions import region_exists, region_name
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
    "WHITELIST_TYPES",
    "ApplicantSnapshot",
    "ability",
    "applicant_for_account",
    "bulk",
    "checks",
    "identity",
    "integrity",
    "kk_index",
    "list_types_for",
    "lists",
    "localtime",
    "nik_index",
    "officers",
    "phone",
    "record_signal",
    "region_exists",
    "region_name",
    "snapshots",
    "whitelist_types_for",
]

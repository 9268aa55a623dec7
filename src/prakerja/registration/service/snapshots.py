"""What other domains (waves, selection) read about applicants: plain snapshots, looked up set-wise."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.kit.pii import blind_index
from prakerja.registration import repository
from prakerja.registration.models import Applicant, IdentityStatus, ListKind


@dataclass(frozen=True)
class ApplicantSnapshot:
    """An applicant whose identity fields are complete. No plaintext NIK or KK: blind indexes only."""

    applicant_id: uuid.UUID
    account_id: uuid.UUID
    identity_verified: bool
    """The civil registry matched NIK, KK, names and birth date."""
    domicile_province: str
    """2-digit Kemendagri code."""
    domicile_regency: str
    """4-digit Kemendagri code."""
    nik_index: bytes
    kk_index: bytes
    birth_date: datetime.date
    is_citizen: bool
    declared_student: bool


def nik_index(nik: str) -> bytes:
    """The blind index NIKs are stored and looked up by (lists, applicants, other domains)."""
    return blind_index(nik, "nik")


def kk_index(kk: str) -> bytes:
    return blind_index(kk, "kk")


def _snapshot(applicant: Applicant) -> ApplicantSnapshot | None:
    if (
        applicant.account_id is None
        or applicant.nik_index is None
        or applicant.kk_index is None
        or applicant.birth_date is None
        or applicant.domicile_province is None
        or applicant.domicile_regency is None
    ):
        return None
    return ApplicantSnapshot(
        applicant_id=applicant.id,
        account_id=applicant.account_id,
        identity_verified=applicant.identity_status == IdentityStatus.matched.value,
        domicile_province=applicant.domicile_province,
        domicile_regency=applicant.domicile_regency,
        nik_index=bytes(applicant.nik_index),
        kk_index=bytes(applicant.kk_index),
        birth_date=datetime.date.fromisoformat(applicant.birth_date),
        is_citizen=applicant.is_citizen is not False,
        declared_student=bool(applicant.declared_student),
    )


def applicant_for_account(session: Session, account_id: uuid.UUID) -> ApplicantSnapshot | None:
    """The account's applicant, or None when there is none or its NIK, KK, birth date or domicile is missing."""
    found = repository.applicant_by_account(session, account_id)
    return _snapshot(found) if found is not None else None


def snapshots(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ApplicantSnapshot]:
    """Snapshots by applicant id; ids unknown or with incomplete identity fields are left out."""
    result: dict[uuid.UUID, ApplicantSnapshot] = {}
    for applicant in repository.applicants(session, list(applicant_ids)):
        snap = _snapshot(applicant)
        if snap is not None:
            result[applicant.id] = snap
    return result


def _memberships(session: Session, kind: ListKind, nik_indexes: Sequence[bytes]) -> dict[bytes, set[str]]:
    found: dict[bytes, set[str]] = {}
    for nik_index, list_type in repository.list_memberships(session, kind.value, [bytes(n) for n in nik_indexes]):
        found.setdefault(nik_index, set()).add(list_type)
    return found


def list_types_for(session: Session, nik_indexes: Sequence[bytes]) -> dict[bytes, set[str]]:
    """Exclusion list types currently listing each NIK (only NIKs on at least one list appear)."""
    return _memberships(session, ListKind.exclusion, nik_indexes)


def whitelist_types_for(session: Session, nik_indexes: Sequence[bytes]) -> dict[bytes, set[str]]:
    """Whitelist (priority) types currently listing each NIK (only NIKs on at least one list appear)."""
    return _memberships(session, ListKind.whitelist, nik_indexes)

"""What PMO officers see and do: find an applicant by NIK (blind index), status, decisions, flags. Every look-up
and action is recorded in the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.pii import blind_index, mask
from prakerja.registration import repository, rules
from prakerja.registration.errors import ApplicantNotFound
from prakerja.registration.models import Applicant, IdentityCheck, IntegrityFlag
from prakerja.registration.service.identity import request_identity_check


@dataclass(frozen=True)
class ApplicantView:
    """Masked for the page: NIK and KK show the last 4 digits; names show initials and length."""

    id: uuid.UUID
    nik_masked: str
    kk_masked: str
    name_masked: str
    domicile_regency: str | None
    ktp_regency: str | None
    """The KTP address's regency (region codes are not personal data; the address texts are never shown)."""
    identity_status: str
    submitted_at: object
    identity_checked_at: object
    phone_verified: bool
    profile_complete: bool
    lists: list[tuple[str, str, str]]
    checks: list[IdentityCheck]
    flags: list[IntegrityFlag]


def _mask_name(name: str | None) -> str:
    if not name:
        return "-"
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


def find_by_nik(session: Session, *, nik: str, actor: audit.Actor) -> uuid.UUID:
    """The applicant holding this NIK; the search itself is audited (without the NIK)."""
    index = blind_index(rules.normalize_number(nik), "nik")
    found = repository.applicant_by_nik_index(session, index)
    audit.record(
        session,
        actor,
        "registration.applicant_searched",
        "applicant",
        found.id if found else "none",
        data={"found": found is not None},
    )
    if found is None:
        raise ApplicantNotFound(details={"field": "nik"})
    return found.id


def view(session: Session, *, applicant_id: uuid.UUID, actor: audit.Actor) -> ApplicantView:
    applicant: Applicant | None = repository.applicant(session, applicant_id)
    if applicant is None:
        raise ApplicantNotFound()
    audit.record(session, actor, "registration.applicant_viewed", "applicant", applicant.id)
    return ApplicantView(
        id=applicant.id,
        nik_masked=mask(applicant.nik or ""),
        kk_masked=mask(applicant.kk or ""),
        name_masked=_mask_name(applicant.full_name),
        domicile_regency=applicant.domicile_regency,
        ktp_regency=applicant.ktp_regency,
        identity_status=applicant.identity_status,
        submitted_at=applicant.submitted_at,
        identity_checked_at=applicant.identity_checked_at,
        phone_verified=applicant.phone_verified_at is not None,
        profile_complete=applicant.declared_at is not None,
        lists=repository.list_types_of(session, bytes(applicant.nik_index)) if applicant.nik_index else [],
        checks=repository.identity_checks(session, applicant.id),
        flags=repository.flags_for(session, applicant.id),
    )


def request_recheck(session: Session, *, applicant_id: uuid.UUID, actor: audit.Actor, reason: str) -> None:
    """An officer asks the civil registry again (e.g. after the person fixed their record at Dukcapil)."""
    applicant = repository.applicant(session, applicant_id, lock=True)
    if applicant is None or applicant.nik_index is None:
        raise ApplicantNotFound()
    check = request_identity_check(session, applicant)
    audit.record(
        session,
        actor,
        "registration.identity_recheck_requested",
        "applicant",
        applicant.id,
        reason=reason.strip()[:500],
        data={"check_id": str(check.id)},
    )

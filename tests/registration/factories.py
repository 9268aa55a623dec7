"""Keyword-only helpers that put applicants (and list entries) in the database, for any domain's tests."""

from __future__ import annotations

import datetime
import itertools
import uuid

from sqlalchemy.orm import Session

from prakerja.auth.models import Account, Role
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.registration.models import Applicant, IdentityStatus, ListEntry, ListImport, ListKind
from prakerja.registration.service import ApplicantSnapshot, applicant_for_account

_serial = itertools.count(1)


def make_nik(
    *,
    regency: str = "3201",
    birth_date: datetime.date = datetime.date(1995, 5, 17),
    female: bool = False,
    serial: int | None = None,
) -> str:
    """A well-formed NIK for the region and birth date (day + 40 for women)."""
    day = birth_date.day + (40 if female else 0)
    number = next(_serial) if serial is None else serial
    return f"{regency}01{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{number % 10000:04d}"


def make_kk(*, regency: str = "3201", serial: int | None = None) -> str:
    number = next(_serial) if serial is None else serial
    return f"{regency}01{number:010d}"[:16]


def create_applicant(
    session: Session,
    *,
    nik: str | None = None,
    kk: str | None = None,
    birth_date: datetime.date = datetime.date(1995, 5, 17),
    regency: str = "3201",
    district: str | None = None,
    ktp_district: str | None = None,
    female: bool = False,
    verified: bool = True,
    is_citizen: bool = True,
    declared_student: bool = False,
    full_name: str = "Siti Rahmawati",
    mother_maiden_name: str = "Aminah",
    phone: str | None = None,
    email: str | None = None,
    account_id: uuid.UUID | None = None,
) -> ApplicantSnapshot:
    """An applicant with a complete identity (and an applicant account unless ``account_id`` is given).

    Flushes, never commits. NIK and KK default to fresh well-formed numbers for ``regency``; the KTP address's
    district defaults to the domicile's (the applicant lives at the KTP address)."""
    nik = nik or make_nik(regency=regency, birth_date=birth_date, female=female)
    kk = kk or make_kk(regency=regency)
    if account_id is None:
        account_email = email or f"applicant-{uuid.uuid4().hex[:12]}@example.org"
        account = Account(
            id=new_id(),
            email=account_email,
            email_index=blind_index(account_email, "email"),
            password_hash="!factory",
            role=Role.applicant,
            display_name=full_name,
            email_verified_at=utcnow(),  # a complete applicant has verified their e-mail (joining a wave needs it)
        )
        session.add(account)
        session.flush()
        account_id = account.id
    applicant = Applicant(
        account_id=account_id,
        nik=nik,
        nik_index=blind_index(nik, "nik"),
        kk=kk,
        kk_index=blind_index(kk, "kk"),
        birth_date=birth_date.isoformat(),
        sex="F" if female else "M",
        full_name=full_name,
        mother_maiden_name=mother_maiden_name,
        ktp_address="Jl. Contoh No. 1",
        domicile_address="Jl. Contoh No. 1",
        domicile_province=regency[:2],
        domicile_regency=regency,
        domicile_district=district or f"{regency}01",
        ktp_district=ktp_district or district or f"{regency}01",
        ktp_regency=(ktp_district or district or f"{regency}01")[:4],
        ktp_province=(ktp_district or district or f"{regency}01")[:2],
        education="sma",
        job_status="job_seeker",
        has_disability=False,
        former_migrant_worker=False,
        is_citizen=is_citizen,
        declared_student=declared_student,
        phone=phone,
        phone_index=blind_index(phone, "phone") if phone else None,
        identity_status=(IdentityStatus.matched if verified else IdentityStatus.pending).value,
    )
    session.add(applicant)
    session.flush()
    snapshot = applicant_for_account(session, account_id)
    assert snapshot is not None
    return snapshot


def put_on_list(
    session: Session,
    niks: list[str],
    *,
    list_type: str,
    kind: ListKind = ListKind.exclusion,
    source: str = "test",
    as_of: datetime.date = datetime.date(2026, 1, 1),
) -> None:
    """Put NIKs on an exclusion list or whitelist (merge), with a provenance row."""
    record = ListImport(
        kind=kind.value,
        list_type=list_type,
        source=source,
        as_of=as_of,
        mode="merge",
        imported_by=None,
        imported_via="cli",
        file_sha256=b"\x00" * 32,
        rows_read=len(niks),
        rows_invalid=0,
        rows_added=len(niks),
        rows_removed=0,
        rows_total=len(niks),
    )
    session.add(record)
    session.flush()
    for nik in niks:
        session.merge(
            ListEntry(
                list_type=list_type,
                source=source,
                nik_index=blind_index(nik, "nik"),
                kind=kind.value,
                import_id=record.id,
            )
        )
    session.flush()

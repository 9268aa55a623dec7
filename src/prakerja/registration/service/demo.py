"""Demo data for registration: a synthetic civil-registry population file and one applicant with a complete,
verified profile. Synthetic only: generated deterministically, never real people."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.config import get_settings
from prakerja.kit.clock import utcnow
from prakerja.kit.pii import blind_index
from prakerja.registration import repository
from prakerja.registration.models import Applicant, IdentityCheck, IdentityStatus
from prakerja.registration.service.identity import CONSENT_VERSION, DECLARATION_VERSION, save_photo
from prakerja.simulators import dukcapil

POPULATION_PEOPLE = 10_000
DEMO_PERSON = 1


def population_path() -> Path:
    """The demo's civil-registry population (``prakerja demo``'s Dukcapil simulator answers from it), written
    when missing."""
    path = get_settings().home / "dukcapil-population.jsonl"
    if not path.exists():
        dukcapil.generate_population(path, POPULATION_PEOPLE)
    return path


def seed(session: Session, *, account_id: uuid.UUID) -> None:
    """Idempotent: writes the population file if missing and gives the account a verified profile."""
    population_path()
    if repository.applicant_by_account(session, account_id) is not None:
        return
    person = dukcapil.person(DEMO_PERSON)
    now = utcnow()
    nik, kk = str(person["nik"]), str(person["kk"])
    applicant = Applicant(
        account_id=account_id,
        nik=nik,
        nik_index=blind_index(nik, "nik"),
        kk=kk,
        kk_index=blind_index(kk, "kk"),
        birth_date=datetime.date.fromisoformat(str(person["birth_date"])).isoformat(),
        sex=str(person["sex"]),
        full_name=str(person["full_name"]),
        mother_maiden_name=str(person["mother_maiden_name"]),
        ktp_address="Jl. Kenanga No. 7, RT 002/RW 003",
        domicile_address="Jl. Kenanga No. 7, RT 002/RW 003",
        domicile_district=f"{person['regency']}01",
        domicile_regency=str(person["regency"]),
        domicile_province=str(person["regency"])[:2],
        ktp_district=f"{person['regency']}01",
        ktp_regency=str(person["regency"]),
        ktp_province=str(person["regency"])[:2],
        education="sma",
        job_status="job_seeker",
        has_disability=False,
        former_migrant_worker=False,
        is_citizen=True,
        declared_student=False,
        phone="+6281200000001",
        phone_index=blind_index("+6281200000001", "phone"),
        phone_verified_at=now,
        declaration_version=DECLARATION_VERSION,
        declared_at=now,
        consent_version=CONSENT_VERSION,
        consented_at=now,
        identity_status=IdentityStatus.matched.value,
        submitted_at=now,
        identity_checked_at=now,
    )
    repository.add(session, applicant)
    repository.add(
        session,
        IdentityCheck(applicant_id=applicant.id, outcome=IdentityStatus.matched.value, attempts=1, completed_at=now),
    )
    save_photo(session, account_id=account_id, data=_demo_ktp_photo())  # a complete profile has its KTP photo


def _demo_ktp_photo() -> bytes:
    """A plain KTP-sized card image (synthetic: the demo person does not exist)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (856, 540), (164, 196, 228)).save(buffer, format="PNG")
    return buffer.getvalue()


def seed_for_email(session: Session, email: str) -> None:
    """``prakerja demo``: seed the applicant with this e-mail (when it exists)."""
    account = auth.account_by_email(session, email)
    if account is not None:
        seed(session, account_id=account.id)


def give_phone(session: Session, *, account_id: uuid.UUID, phone: str) -> Applicant | None:
    """The account's applicant with ``phone`` registered and verified (a synthetic person of the demo wave who signs
    in on the demo and links an e-wallet needs one); an applicant with a phone keeps it. None without an applicant."""
    applicant = repository.applicant_by_account(session, account_id)
    if applicant is None:
        return None
    if not applicant.phone:
        applicant.phone = phone
        applicant.phone_index = blind_index(phone, "phone")
        applicant.phone_verified_at = utcnow()
        session.flush()
    return applicant

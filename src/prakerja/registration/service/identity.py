"""The profile wizard (saved step by step, resumable) and identity submission with its civil-registry check."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.jobs import enqueue
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index, decrypt
from prakerja.registration import repository, rules
from prakerja.registration.errors import (
    IdentityLocked,
    InvalidInput,
    PhotoMissing,
    PhotoTooSmall,
    ProfileIncomplete,
    UploadRejected,
    UploadTooLarge,
    nik_taken,
)
from prakerja.registration.models import Applicant, IdentityCheck, IdentityStatus
from prakerja.registration.providers.base import IdentityQuery
from prakerja.registration.providers.storage import Storage, default_storage, stage_until_commit
from prakerja.registration.rules.uploads import ImageRefused, check_image
from prakerja.registration.service import checks, integrity, kk_region

DECLARATION_VERSION = "2026.1"
CONSENT_VERSION = "2026.1"
EDUCATION = ("sd", "smp", "sma", "d1_d3", "s1", "s2_s3")
JOB_STATUSES = ("job_seeker", "laid_off", "sent_home", "worker_reskilling", "micro_business")

STEPS = ("identitas", "nama", "alamat", "latar", "telepon", "foto", "pernyataan")
"""Wizard pages in order: identity numbers, names, address, background, phone, KTP photo, declaration."""


VERIFY_TASK = "registration.verify_identity"
VERIFY_QUEUE = "default"


def ip_index(ip: str) -> bytes:
    return integrity.ip_index(ip)


def get_or_start(session: Session, account_id: uuid.UUID, *, ip: str | None = None) -> Applicant:
    found = repository.applicant_by_account(session, account_id, lock=True)
    if found is not None:
        return found
    applicant = Applicant(account_id=account_id, registration_ip_index=ip_index(ip) if ip else None)
    repository.add(session, applicant)
    return applicant


def find(session: Session, account_id: uuid.UUID) -> Applicant | None:
    return repository.applicant_by_account(session, account_id)


def verified_phone_sql(account: str) -> str:
    """An SQL expression read by :func:`phone_of`: the account's (given as an SQL expression) verified phone, as
    :func:`find` shows it, for a statement another domain's repository composes (ADR 0031)."""
    return repository.verified_phone_sql(account)


def phone_of(value: bytes | None) -> str | None:
    """A value of :func:`verified_phone_sql`, decrypted; None without a verified phone. Personal data: never
    logged."""
    return None if value is None else decrypt(bytes(value), "registration_applicants.phone") or None


def full_name_sql(account: str) -> str:
    """An SQL expression read by :func:`full_name_of`: ``find(...).full_name`` of the account given as an SQL
    expression, for a statement another domain's repository composes (ADR 0031)."""
    return repository.full_name_sql(account)


def full_name_of(value: bytes | None) -> str | None:
    """A value of :func:`full_name_sql`, decrypted: None when the account has no profile or the profile no name.
    Personal data: callers mask it before it leaves their domain."""
    return None if value is None else decrypt(bytes(value), "registration_applicants.full_name")


def full_names(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The registered full name of each applicant, by applicant id (one query per thousand ids; those without a
    name are left out). Personal data: callers mask it before it leaves their domain."""
    return {a.id: a.full_name for a in repository.applicants(session, list(applicant_ids)) if a.full_name}


def step_done(applicant: Applicant | None, step: str) -> bool:
    if applicant is None:
        return False
    a = applicant
    return {
        "identitas": a.nik_index is not None and a.kk_index is not None and a.birth_date is not None,
        "nama": a.full_name is not None and a.mother_maiden_name is not None,
        "alamat": a.domicile_regency is not None and a.ktp_address is not None,
        "latar": a.education is not None and a.job_status is not None,
        "telepon": a.phone_verified_at is not None,
        "foto": a.ktp_photo_path is not None,
        "pernyataan": a.declared_at is not None and a.consented_at is not None,
    }[step]


def next_step(applicant: Applicant | None) -> str | None:
    return next((s for s in STEPS if not step_done(applicant, s)), None)


def _unlocked(applicant: Applicant) -> None:
    if applicant.identity_status == IdentityStatus.matched.value:
        raise IdentityLocked()


def save_identity(
    session: Session,
    *,
    account_id: uuid.UUID,
    nik: str,
    kk: str,
    birth_date: str,
    sex: str,
    ip: str | None = None,
    device: str | None = None,
) -> Applicant:
    """Step 1: NIK, KK, birth date and sex, checked against each other and the region list; the device and IP
    they were sent from are kept as integrity signals."""
    problems, born = checks.identity_problems(nik=nik, kk=kk, birth_date=birth_date, sex=sex)
    if problems:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id, ip=ip)
    _unlocked(applicant)
    nik, kk = rules.normalize_number(nik), rules.normalize_number(kk)
    index = blind_index(nik, "nik")
    if repository.nik_taken(session, index, other_than=applicant.id):
        raise nik_taken()
    assert born is not None
    applicant.nik, applicant.nik_index = nik, index
    applicant.kk, applicant.kk_index = kk, blind_index(kk, "kk")
    applicant.birth_date, applicant.sex = born.isoformat(), sex
    if applicant.identity_status != IdentityStatus.unsubmitted.value:
        applicant.identity_status = IdentityStatus.unsubmitted.value  # changed numbers need a fresh check
    session.flush()
    kk_region.review(session, applicant)
    integrity.record_use(session, applicant_id=applicant.id, ip=ip, device=device)
    return applicant


def save_names(
    session: Session,
    *,
    account_id: uuid.UUID,
    full_name: str,
    mother_maiden_name: str,
    ip: str | None = None,
    device: str | None = None,
) -> Applicant:
    """Step 2: names as on the KTP. Completing it submits the identity to the civil registry (a job), with the
    device and IP it was sent from as integrity signals."""
    problems = checks.name_problems(full_name=full_name, mother_maiden_name=mother_maiden_name)
    if problems:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    _unlocked(applicant)
    if not step_done(applicant, "identitas"):
        raise ProfileIncomplete()
    applicant.full_name = rules.normalize_name(full_name)
    applicant.mother_maiden_name = rules.normalize_name(mother_maiden_name)
    request_identity_check(session, applicant)
    integrity.record_use(session, applicant_id=applicant.id, ip=ip, device=device)
    return applicant


@dataclass(frozen=True)
class IdentitySubmission:
    nik: str
    kk: str
    birth_date: str
    sex: str
    full_name: str
    mother_maiden_name: str


@dataclass(frozen=True)
class Submitted:
    """What an identity submission returns (the hot path loads no ORM object)."""

    id: uuid.UUID
    identity_status: str


class _InsertArguments(TypedDict):
    """``repository.insert_submitted_applicant``'s keyword arguments."""

    values: dict[str, object]
    check_id: uuid.UUID
    device_index: bytes | None
    queue: str
    task: str
    job_args: str


@dataclass(frozen=True)
class _Prepared:
    """A submission checked and normalised, with everything the one-statement insert needs."""

    account_id: uuid.UUID | None
    """None when the statement takes the account from the session (ADR 0035)."""
    submission: IdentitySubmission
    born: datetime.date
    nik: str
    kk: str
    nik_index: bytes
    full_name: str
    mother_maiden_name: str
    ip: str | None
    device: str | None

    def insert_arguments(self) -> tuple[uuid.UUID, _InsertArguments]:
        """The new applicant's id and ``repository.insert_submitted_applicant``'s arguments (fresh ids each call)."""
        applicant_id, check_id, now = new_id(), new_id(), utcnow()
        return applicant_id, {
            "values": {
                "id": applicant_id,
                "account_id": self.account_id,
                "nik": self.nik,
                "nik_index": self.nik_index,
                "kk": self.kk,
                "kk_index": blind_index(self.kk, "kk"),
                "birth_date": self.born.isoformat(),
                "sex": self.submission.sex,
                "full_name": self.full_name,
                "mother_maiden_name": self.mother_maiden_name,
                "status": IdentityStatus.pending.value,
                "now": now,
                "ip_index": ip_index(self.ip) if self.ip else None,
            },
            "check_id": check_id,
            "device_index": integrity.device_index(self.device) if self.device else None,
            "queue": VERIFY_QUEUE,
            "task": VERIFY_TASK,
            "job_args": json.dumps({"check_id": str(check_id)}),
        }


def _prepare(
    account_id: uuid.UUID | None, submission: IdentitySubmission, ip: str | None, device: str | None
) -> _Prepared:
    """Validation and normalisation (no I/O): any problem refuses the whole submission (``InvalidInput``)."""
    problems, born = checks.identity_problems(
        nik=submission.nik, kk=submission.kk, birth_date=submission.birth_date, sex=submission.sex
    )
    problems += checks.name_problems(full_name=submission.full_name, mother_maiden_name=submission.mother_maiden_name)
    if problems:
        raise InvalidInput(problems)
    assert born is not None
    nik = rules.normalize_number(submission.nik)
    return _Prepared(
        account_id=account_id,
        submission=submission,
        born=born,
        nik=nik,
        kk=rules.normalize_number(submission.kk),
        nik_index=blind_index(nik, "nik"),
        full_name=rules.normalize_name(submission.full_name),
        mother_maiden_name=rules.normalize_name(submission.mother_maiden_name),
        ip=ip,
        device=device,
    )


def submit_identity(
    session: Session,
    *,
    account_id: uuid.UUID,
    submission: IdentitySubmission,
    ip: str | None = None,
    device: str | None = None,
) -> Submitted:
    """The whole identity at once (API): validated, encrypted, persisted, and the registry check enqueued in the
    same transaction, with the device and IP it came from as integrity signals. Any problem refuses the whole
    submission. This is the intake hot path: an account without a profile gets one statement (applicant, check,
    device signal and job); an existing profile or a NIK held by another profile takes the general path below."""
    prepared = _prepare(account_id, submission, ip, device)
    applicant_id, arguments = prepared.insert_arguments()
    if repository.insert_submitted_applicant(session, **arguments):
        return Submitted(id=applicant_id, identity_status=IdentityStatus.pending.value)
    return _submit_to_existing(session, prepared)


@dataclass(frozen=True)
class SignedInSubmission:
    """What :func:`submit_signed_in_identity_on_loop` found and did."""

    account: auth.CurrentAccount | None
    """Who is signed in (None: nobody, and nothing was written)."""
    submitted: Submitted | None
    """The submission, when it was written; None with nothing written for an account of another role, or when
    the general path must run (``submit_identity`` on a ``Session``, for ``account``)."""


async def submit_signed_in_identity_on_loop(
    conn: asyncpg.Connection,
    *,
    session: auth.SessionLookup,
    role: Role,
    submission: IdentitySubmission,
    ip: str | None = None,
    device: str | None = None,
) -> SignedInSubmission:
    """``submit_identity``'s hot path as a whole unit of work on a loop connection (``db.on_loop``, ADR 0014), with
    who is signed in asked in the same statement and round trip (ADR 0035): auth's own SQL for a live session
    (``session``) decides the account, and the applicant, its check, its device signal and its job are written only
    for an account of ``role``, together and durably, or not at all, in one statement. ``InvalidInput`` before
    anything is sent (the caller answers who is signed in first, as it would have). Nothing is written, and
    ``submitted`` is None, when the account already has a profile or another profile holds the NIK: the caller then
    runs ``submit_identity`` on a ``Session`` (the general path, with its refusals)."""
    prepared = _prepare(None, submission, ip, device)
    applicant_id, arguments = prepared.insert_arguments()
    row, written = await repository.insert_signed_in_submission_on_loop(
        conn, signed_in_sql=session.sql, signed_in_params=session.params, role=role.value, **arguments
    )
    if row is None:
        return SignedInSubmission(account=None, submitted=None)
    account = session.account(*row)
    submitted = Submitted(id=applicant_id, identity_status=IdentityStatus.pending.value) if written else None
    return SignedInSubmission(account=account, submitted=submitted)


def _submit_to_existing(session: Session, prepared: _Prepared) -> Submitted:
    """The general path: an existing profile (locked) takes the new identity, unless it is locked or another
    profile holds the NIK."""
    account_id, ip, device = prepared.account_id, prepared.ip, prepared.device
    assert account_id is not None
    applicant, taken = repository.applicant_and_nik_holder(session, account_id, prepared.nik_index)
    if taken:
        raise nik_taken()
    if applicant is None:
        applicant = Applicant(account_id=account_id, registration_ip_index=ip_index(ip) if ip else None)
        session.add(applicant)
    else:
        _unlocked(applicant)
    applicant.nik, applicant.nik_index = prepared.nik, prepared.nik_index
    applicant.kk, applicant.kk_index = prepared.kk, blind_index(prepared.kk, "kk")
    applicant.birth_date, applicant.sex = prepared.born.isoformat(), prepared.submission.sex
    applicant.full_name, applicant.mother_maiden_name = prepared.full_name, prepared.mother_maiden_name
    request_identity_check(session, applicant)
    kk_region.review(session, applicant)  # an existing profile may already have its KTP address
    integrity.record_use(session, applicant_id=applicant.id, ip=ip, device=device)
    return Submitted(id=applicant.id, identity_status=applicant.identity_status)


def request_identity_check(session: Session, applicant: Applicant) -> IdentityCheck:
    applicant.identity_status = IdentityStatus.pending.value
    applicant.submitted_at = applicant.submitted_at or utcnow()
    if applicant.id is None:
        applicant.id = new_id()
    check = IdentityCheck(id=new_id(), applicant_id=applicant.id, attempts=0)
    session.add(check)
    session.flush()  # one flush: the applicant's insert or update, then the check
    enqueue(session, VERIFY_TASK, queue=VERIFY_QUEUE, check_id=str(check.id))
    return check


def save_address(
    session: Session,
    *,
    account_id: uuid.UUID,
    ktp_address: str,
    domicile_address: str = "",
    domicile_district: str = "",
    ktp_district: str | None = None,
    domicile_same_as_ktp: bool = False,
) -> Applicant:
    """Step 3: KTP address and domicile, each with a district code that implies regency and province.

    ``domicile_same_as_ktp`` (the common case): the domicile is the KTP address; its codes and text are copied
    and the domicile arguments are ignored. Otherwise both districts are asked, and a separate domicile needs
    its own address. ``ktp_district`` None keeps the older call that asks only the domicile's region: the KTP
    district is then the domicile's when the domicile address is empty or the KTP address, and unknown (empty)
    otherwise."""
    problems = checks.address_problems(
        ktp_address=ktp_address,
        domicile_address=domicile_address,
        district=domicile_district,
        ktp_district=ktp_district,
        domicile_same_as_ktp=domicile_same_as_ktp,
    )
    if problems:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    ktp_text = " ".join(ktp_address.split())
    domicile_text = " ".join((domicile_address or ktp_address).split())
    if domicile_same_as_ktp:
        domicile_text = ktp_text
    ktp_code: str | None = checks.digits(ktp_district) if ktp_district is not None else None
    district = ktp_code if domicile_same_as_ktp and ktp_code else checks.digits(domicile_district)
    if ktp_code is None and domicile_text == ktp_text:
        ktp_code = district
    applicant.ktp_address, applicant.domicile_address = ktp_text, domicile_text
    applicant.domicile_district, applicant.domicile_regency = district, district[:4]
    applicant.domicile_province = district[:2]
    applicant.ktp_district = ktp_code
    applicant.ktp_regency = ktp_code[:4] if ktp_code else None
    applicant.ktp_province = ktp_code[:2] if ktp_code else None
    session.flush()
    kk_region.review(session, applicant)
    return applicant


def save_background(
    session: Session,
    *,
    account_id: uuid.UUID,
    education: str,
    job_status: str,
    has_disability: bool | None,
    former_migrant_worker: bool | None,
    is_citizen: bool | None,
    declared_student: bool | None,
) -> Applicant:
    """Step 4: education, job status, disability, former migrant worker, citizenship, in formal education. Each
    yes/no question must be answered (None: unanswered, refused)."""
    problems = checks.choice_problems(
        education=education, job_status=job_status, educations=EDUCATION, job_statuses=JOB_STATUSES
    ) + checks.yes_no_problems(
        {
            "has_disability": has_disability,
            "former_migrant_worker": former_migrant_worker,
            "is_citizen": is_citizen,
            "declared_student": declared_student,
        }
    )
    if problems or None in (has_disability, former_migrant_worker, is_citizen, declared_student):
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    applicant.education, applicant.job_status = education, job_status
    applicant.has_disability, applicant.former_migrant_worker = has_disability, former_migrant_worker
    applicant.is_citizen, applicant.declared_student = is_citizen, declared_student
    session.flush()
    return applicant


def save_photo(session: Session, *, account_id: uuid.UUID, data: bytes, storage: Storage | None = None) -> Applicant:
    """Step 6: the KTP photo, content-checked (magic bytes and a real decode), stored encrypted."""
    try:
        checked = check_image(data)
    except ImageRefused as refused:
        details = {"field": "ktp_photo", "reason": refused.code}
        if refused.too_large:
            raise UploadTooLarge(details=details) from None
        if refused.code == "empty":
            raise PhotoMissing(details=details) from None
        if refused.code == "too_small":
            raise PhotoTooSmall(details=details) from None
        raise UploadRejected(details=details) from None
    applicant = get_or_start(session, account_id)
    digest = hashlib.sha256(data).digest()
    key = f"ktp/{applicant.id}/{digest.hex()[:32]}.{checked.kind}"
    # staged now, published only when this transaction commits: a rollback leaves no orphan file
    stage_until_commit(session, storage or default_storage(), key, data, replaces=applicant.ktp_photo_path)
    applicant.ktp_photo_path, applicant.ktp_photo_hash = key, digest
    session.flush()
    return applicant


def declare(
    session: Session, *, account_id: uuid.UUID, declaration: bool, consent: bool, version: str = DECLARATION_VERSION
) -> Applicant:
    """Step 7: the self-declaration and consent (versioned, timestamped). Every earlier step must be done."""
    problems = checks.declaration_problems(declaration=declaration, consent=consent)
    if problems:
        raise InvalidInput(problems)
    applicant = get_or_start(session, account_id)
    missing = [s for s in STEPS[:-1] if not step_done(applicant, s)]
    if missing:
        raise ProfileIncomplete(details={"missing_steps": missing})
    now = utcnow()
    applicant.declaration_version, applicant.declared_at = version, now
    applicant.consent_version, applicant.consented_at = CONSENT_VERSION, now
    session.flush()
    return applicant


# --- the verification job ---------------------------------------------------------------------------------------


def identity_query(session: Session, check_id: uuid.UUID) -> IdentityQuery | None:
    """What to ask the registry for this check; None when it is already answered (safe to run twice)."""
    check = repository.identity_check(session, check_id)
    if check is None or check.completed_at is not None:
        return None
    applicant = repository.applicant(session, check.applicant_id)
    if applicant is None or applicant.nik is None or applicant.kk is None or applicant.birth_date is None:
        return None
    return IdentityQuery(
        nik=applicant.nik,
        kk=applicant.kk,
        full_name=applicant.full_name or "",
        mother_maiden_name=applicant.mother_maiden_name or "",
        birth_date=applicant.birth_date,
    )


def record_outcome(session: Session, check_id: uuid.UUID, outcome: str) -> bool:
    check = repository.identity_check(session, check_id, lock=True)
    if check is None or check.completed_at is not None:
        return False
    now = utcnow()
    check.attempts += 1
    check.outcome, check.completed_at, check.last_error = outcome, now, None
    latest = repository.identity_checks(session, check.applicant_id)[-1]
    if latest.id == check.id:
        repository.mark_applicant(session, check.applicant_id, identity_status=outcome, identity_checked_at=now)
    return True


def record_failure(session: Session, check_id: uuid.UUID, code: str) -> None:
    check = repository.identity_check(session, check_id, lock=True)
    if check is not None and check.completed_at is None:
        check.attempts += 1
        check.last_error = code


RETRY_EVERY = datetime.timedelta(minutes=10)
"""How often ``registration.retry_identity_checks`` asks again for checks the registry could not answer."""


@dataclass(frozen=True)
class CheckProgress:
    """Where a pending identity check stands, for the applicant's page (codes only, no personal data)."""

    attempts: int
    last_error: str | None
    """``timeout``, ``unavailable``, ``circuit_open``, ``bad_answer``, or None when nothing failed yet."""
    next_try_at: datetime.datetime | None
    """When the next try happens at the latest (the retry sweep's next run), when the last one failed."""


def next_sweep(now: datetime.datetime) -> datetime.datetime:
    step = int(RETRY_EVERY.total_seconds())
    seconds = int(now.timestamp())
    return datetime.datetime.fromtimestamp(seconds - seconds % step + step, tz=datetime.UTC)


def check_progress(session: Session, applicant: Applicant) -> CheckProgress | None:
    """The latest unanswered check of a pending applicant, or None."""
    checks_ = repository.identity_checks(session, applicant.id)
    if applicant.identity_status != IdentityStatus.pending.value or not checks_ or checks_[-1].completed_at:
        return None
    latest = checks_[-1]
    return CheckProgress(
        attempts=latest.attempts,
        last_error=latest.last_error,
        next_try_at=next_sweep(utcnow()) if latest.last_error else None,
    )


def retry_stalled_checks(session: Session) -> int:
    """Queue another try for every check the registry has not answered after a failure (the job's own retries
    may have run out during a long outage). One queued try per check at a time; running a check twice is safe."""
    queued = 0
    for check_id in repository.stalled_identity_checks(session):
        try:
            with session.begin_nested():
                enqueue(
                    session,
                    VERIFY_TASK,
                    queue=VERIFY_QUEUE,
                    queueing_lock=f"identity-retry:{check_id}",
                    check_id=str(check_id),
                )
            queued += 1
        except IntegrityError:
            continue  # a try queued by an earlier sweep is still waiting
    return queued

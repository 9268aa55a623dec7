"""Issuing and revoking certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.certificates import repository
from prakerja.certificates.errors import (
    AlreadyRevoked,
    CertificateInvalid,
    CertificateNotFound,
    CompletionMismatch,
    RevocationReasonRequired,
)
from prakerja.certificates.models import Certificate
from prakerja.certificates.rules import contexts, credential, integrity, statuslist
from prakerja.certificates.service.keys import active_key
from prakerja.config import get_settings
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id, parse_id

PROGRAM_NAME = "Kartu Prakerja"
"""The issuer's name inside every credential of format 1 (part of what is signed)."""

MAX_TEXT = 300


def _invalid(field: str, message: str, message_en: str) -> CertificateInvalid:
    return CertificateInvalid(message, message_en, details={"field": field})


def _text(value: str, field: str) -> str:
    cleaned = " ".join(str(value).split())
    if not cleaned or len(cleaned) > MAX_TEXT:
        raise _invalid(field, f"Isian {field} wajib diisi (maksimal 300 karakter).", f"{field}: 1 to 300 characters.")
    return cleaned


def fields_of(row: Certificate) -> credential.CertificateFields:
    list_number, index = statuslist.locate(row.status_index)
    return credential.CertificateFields(
        certificate_id=str(row.id),
        holder_name=row.holder_name,
        course_title=row.course_title,
        institution_name=row.institution_name,
        course_id=row.course_id,
        completed_at=row.completed_at,
        score=row.score,
        issued_at=row.issued_at,
        status_list=list_number,
        status_index=index,
    )


def credential_of(row: Certificate) -> dict[str, Any]:
    """The signed credential, rebuilt from the row (same fields, same document) with its stored proof."""
    if row.format != credential.FORMAT:
        raise CertificateNotFound(details={"reason": "unknown_format"})
    document = credential.unsigned_credential(fields_of(row), base_url=row.base_url, program_name=PROGRAM_NAME)
    document["proof"] = {
        "type": integrity.PROOF_TYPE,
        "cryptosuite": integrity.CRYPTOSUITE,
        "created": credential.xsd_datetime(row.proof_created),
        "verificationMethod": credential.verification_method(credential.did_web(row.base_url), row.key_id),
        "proofPurpose": integrity.PROOF_PURPOSE,
        "proofValue": row.proof_value,
    }
    return document


def issue(
    session: Session,
    *,
    completion_id: uuid.UUID,
    recipient_id: uuid.UUID,
    account_id: uuid.UUID | None,
    holder_name: str,
    course_title: str,
    institution_name: str,
    completed_at: datetime,
    score: int,
    course_id: str | None = None,
    actor: audit.Actor | None = None,
) -> Certificate:
    """Issue the certificate of an accepted completion. Idempotent on ``completion_id``: a second call returns the
    certificate already issued. Webhooks read ``certificate.id`` and ``certificate.completion_id``."""
    repository.lock_completion(session, completion_id)
    existing = repository.by_completion(session, completion_id)
    if existing is not None:
        if existing.recipient_id != recipient_id:
            raise CompletionMismatch(details={"completion_id": str(completion_id)})
        return existing
    name = _text(holder_name, "holder_name")
    title = _text(course_title, "course_title")
    institution = _text(institution_name, "institution_name")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise _invalid("score", "Nilai harus bilangan bulat 0-100.", "The score must be a whole number from 0 to 100.")
    if completed_at.tzinfo is None or completed_at > utcnow():
        raise _invalid("completed_at", "Waktu selesai tidak valid.", "The completion time is not valid.")
    if course_id is not None and (not course_id or len(course_id) > 64):
        raise _invalid("course_id", "Kode kursus tidak valid.", "The course id is not valid.")
    key, private = active_key(session)
    base_url = get_settings().public_base_url.rstrip("/")
    issued_at = utcnow().replace(microsecond=0)
    row = Certificate(
        id=new_id(),
        completion_id=completion_id,
        recipient_id=recipient_id,
        account_id=account_id,
        holder_name=name,
        course_id=course_id,
        course_title=title,
        institution_name=institution,
        completed_at=completed_at,
        score=score,
        issued_at=issued_at,
        status_index=repository.next_status_index(session),
        format=credential.FORMAT,
        base_url=base_url,
        key_id=key.id,
        proof_created=issued_at,
    )
    document = credential.unsigned_credential(fields_of(row), base_url=base_url, program_name=PROGRAM_NAME)
    signed = integrity.add_proof(
        document,
        key=private,
        verification_method=credential.verification_method(credential.did_web(base_url), key.id),
        created=credential.xsd_datetime(issued_at),
        load=contexts.loader(),
    )
    row.proof_value = signed["proof"]["proofValue"]
    repository.add(session, row)
    audit.record(
        session,
        actor or audit.Actor.system(),
        "certificate.issued",
        "certificate",
        row.id,
        data={"completion_id": str(completion_id), "key_id": key.id},
    )
    return row


def get(session: Session, certificate_id: str) -> Certificate:
    """The certificate with this id; anything else (unknown, malformed) is ``certificate_not_found``."""
    parsed = parse_id(certificate_id)
    row = repository.get(session, parsed) if parsed is not None else None
    if row is None:
        raise CertificateNotFound()
    return row


def revoke(session: Session, certificate_id: str, *, reason: str, actor: audit.Actor) -> Certificate:
    """Revoke: the certificate's bit in its status list is set from now on (audited, with the reason)."""
    cleaned = " ".join(str(reason).split())
    if not cleaned or len(cleaned) > 500:
        raise RevocationReasonRequired()
    parsed = parse_id(certificate_id)
    row = repository.get(session, parsed, for_update=True) if parsed is not None else None
    if row is None:
        raise CertificateNotFound()
    if row.revoked_at is not None:
        raise AlreadyRevoked()
    row.revoked_at = utcnow()
    row.revoked_reason = cleaned
    row.revoked_by = actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "certificate.revoked",
        "certificate",
        row.id,
        reason=cleaned,
        data={"completion_id": str(row.completion_id)},
    )
    return row


def event_data(row: Certificate) -> dict[str, str]:
    """The ids a ``certificate.issued`` / ``certificate.revoked`` webhook carries."""
    return {"certificate_id": str(row.id), "completion_id": str(row.completion_id)}

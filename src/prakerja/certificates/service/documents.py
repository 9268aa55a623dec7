"""The public documents: the DID document, status list credentials, and verification against them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from prakerja.certificates import repository
from prakerja.certificates.errors import StatusListNotFound
from prakerja.certificates.rules import contexts, credential, integrity, statuslist, verification
from prakerja.certificates.rules.verification import VerificationResult
from prakerja.certificates.service.keys import active_key
from prakerja.config import get_settings
from prakerja.kit.clock import utcnow
from prakerja.kit.digits import is_ascii_number


def base_url() -> str:
    return get_settings().public_base_url.rstrip("/")


def did() -> str:
    return credential.did_web(base_url())


def did_document(session: Session) -> dict[str, Any]:
    """The program's DID document: every signing key ever registered, as Multikey assertion methods."""
    keys = [credential.PublicKey(row.id, row.public_key_multibase) for row in repository.keys(session)]
    if not keys:
        row, _ = active_key(session)
        keys = [credential.PublicKey(row.id, row.public_key_multibase)]
    return credential.did_document(did(), keys)


def status_list(session: Session, list_number: int) -> dict[str, Any]:
    """The signed status list credential number ``list_number`` (1, 2, ...), as of now."""
    highest = repository.max_status_index(session)
    last_list = statuslist.locate(highest)[0] if highest is not None else 1
    if not 1 <= list_number <= last_list:
        raise StatusListNotFound()
    start = (list_number - 1) * statuslist.LIST_BITS
    revoked = [index - start for index in repository.revoked_indexes(session, start, start + statuslist.LIST_BITS)]
    now = utcnow()
    key, private = active_key(session)
    document = credential.unsigned_status_list(
        base_url=base_url(), list_number=list_number, encoded_list=statuslist.encode(revoked), valid_from=now
    )
    return integrity.add_proof(
        document,
        key=private,
        verification_method=credential.verification_method(did(), key.id),
        created=credential.xsd_datetime(now),
        load=contexts.loader(),
    )


def _own_list_number(url: Any) -> int | None:
    prefix = credential.status_list_url(base_url(), 0)[:-1]
    if not isinstance(url, str) or not url.startswith(prefix) or not is_ascii_number(url[len(prefix) :]):
        return None
    return int(url[len(prefix) :])


def verify_credential(session: Session, document: Any) -> VerificationResult:
    """Verify a credential against this program's DID document and its current status list."""
    did_doc = did_document(session)
    listed: dict[str, Any] | None = None
    entry = document.get("credentialStatus") if isinstance(document, dict) else None
    number = _own_list_number(entry.get("statusListCredential")) if isinstance(entry, dict) else None
    if number is not None:
        try:
            listed = status_list(session, number)
        except StatusListNotFound:
            listed = None
    result = verification.verify(document, did_doc, contexts.loader(), status_list=listed)
    if result.valid and not result.status_checked:
        return VerificationResult(
            valid=False,
            reason="status_list_invalid",
            message="the certificate's status list is not this program's",
            certificate_id=result.certificate_id,
            key_id=result.key_id,
        )
    return result


def verify_offline(
    document: Any, did_document: dict[str, Any], status_list_credential: dict[str, Any] | None = None
) -> VerificationResult:
    """Verify with the given documents only (no database, no network)."""
    return verification.verify(document, did_document, contexts.loader(), status_list=status_list_credential)

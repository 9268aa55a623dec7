"""Checking a certificate with nothing but the documents: the credential, the issuer's DID document and (when
given) the status list credential. Every refusal has a stable reason code and a sentence in English and Indonesian."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prakerja.certificates.rules import integrity, multibase, statuslist
from prakerja.certificates.rules.contexts import OB_V3, VC_V2, Loader

MESSAGES_ID = {
    "valid": "Sertifikat sah.",
    "revoked": "Sertifikat sah tetapi telah dicabut.",
    "malformed": "Dokumen bukan sertifikat yang dapat dibaca.",
    "not_a_certificate": "Dokumen bukan sertifikat Prakerja (OpenBadgeCredential).",
    "unknown_context": "Dokumen memakai konteks JSON-LD yang tidak dikenal.",
    "undefined_term": "Dokumen memuat isian yang tidak didefinisikan.",
    "proof_missing": "Sertifikat tidak memiliki tanda tangan digital.",
    "proof_type": "Jenis tanda tangan digital tidak didukung.",
    "proof_purpose": "Tujuan tanda tangan digital tidak sesuai.",
    "proof_context": "Konteks tanda tangan digital tidak sesuai.",
    "issuer_mismatch": "Penerbit sertifikat tidak sesuai dengan dokumen DID.",
    "unknown_key": "Kunci penandatangan tidak tercantum dalam dokumen DID penerbit.",
    "signature_invalid": "Tanda tangan tidak cocok: isi sertifikat telah diubah.",
    "status_missing": "Sertifikat tidak memiliki status pencabutan.",
    "status_list_invalid": "Daftar status tidak dapat diperiksa.",
}


@dataclass(frozen=True)
class VerificationResult:
    """``valid`` means: the signature holds with a key of the issuer's DID document and the certificate is not revoked
    (or, when ``status_checked`` is false, its status was not looked at)."""

    valid: bool
    reason: str
    message: str
    revoked: bool = False
    status_checked: bool = False
    certificate_id: str | None = None
    key_id: str | None = None

    @property
    def message_id(self) -> str:
        return MESSAGES_ID.get(self.reason, self.message)


def _refuse(reason: str, message: str, **kw: Any) -> VerificationResult:
    return VerificationResult(valid=False, reason=reason, message=message, **kw)


def issuer_of(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def public_key_for(method: str, did_document: dict[str, Any]) -> bytes | None:
    """The raw Ed25519 key of ``method`` if the DID document lists it as an assertion method."""
    assertion = did_document.get("assertionMethod") or []
    listed = {item if isinstance(item, str) else item.get("id") for item in assertion if isinstance(item, str | dict)}
    if method not in listed:
        return None
    candidates = [item for item in did_document.get("verificationMethod") or [] if isinstance(item, dict)]
    candidates += [item for item in assertion if isinstance(item, dict)]
    for item in candidates:
        if item.get("id") == method and item.get("type") == "Multikey":
            try:
                return multibase.public_key_from_multibase(item.get("publicKeyMultibase", ""))
            except multibase.MultibaseError:
                return None
    return None


def check_signed(document: Any, did_document: dict[str, Any], load: Loader) -> tuple[str, str]:
    """Check the proof of any document of this issuer; returns ``(issuer DID, key id)``; raises ProofInvalid."""
    if not isinstance(document, dict):
        raise integrity.ProofInvalid("malformed", "the document is not a JSON object")
    issuer = issuer_of(document)
    if issuer is None or issuer != did_document.get("id"):
        raise integrity.ProofInvalid("issuer_mismatch", "the issuer is not the DID document's subject")
    proof = integrity.proof_of(document)
    method = proof["verificationMethod"]
    if not method.startswith(issuer + "#"):
        raise integrity.ProofInvalid("unknown_key", "the proof was not made with one of the issuer's keys")
    key = public_key_for(method, did_document)
    if key is None:
        raise integrity.ProofInvalid("unknown_key", f"the key {method!r} is not in the issuer's DID document")
    integrity.verify_proof(document, key, load)
    return issuer, method.partition("#")[2]


def verify(
    document: Any,
    did_document: dict[str, Any],
    load: Loader,
    *,
    status_list: dict[str, Any] | None = None,
) -> VerificationResult:
    """Verify a certificate. ``status_list`` is the status list credential its ``credentialStatus`` points to;
    without it the status is not checked (``status_checked`` false)."""
    if not isinstance(document, dict):
        return _refuse("malformed", "the document is not a JSON object")
    types = document.get("type")
    if (
        not isinstance(types, list)
        or "VerifiableCredential" not in types
        or "OpenBadgeCredential" not in types
        or document.get("@context") != [VC_V2, OB_V3]
    ):
        return _refuse("not_a_certificate", "the document is not an OpenBadgeCredential of this program")
    raw_id = document.get("id")
    certificate_id = raw_id.removeprefix("urn:uuid:") if isinstance(raw_id, str) else None
    try:
        _, key_id = check_signed(document, did_document, load)
    except integrity.ProofInvalid as error:
        return _refuse(error.reason, str(error), certificate_id=certificate_id)
    entry = document.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return _refuse(
            "status_missing", "the certificate has no BitstringStatusListEntry", certificate_id=certificate_id
        )
    ok: dict[str, Any] = {"certificate_id": certificate_id, "key_id": key_id}
    if status_list is None:
        return VerificationResult(
            valid=True, reason="valid", message="the certificate is valid (status not checked)", **ok
        )
    try:
        check_signed(status_list, did_document, load)
        if status_list.get("id") != entry.get("statusListCredential"):
            raise statuslist.StatusListError("the status list is not the one the certificate names")
        subject = status_list.get("credentialSubject")
        if not isinstance(subject, dict):
            raise statuslist.StatusListError("the status list has no subject")
        if subject.get("statusPurpose") != entry.get("statusPurpose"):
            raise statuslist.StatusListError("the status list has another purpose")
        bits = statuslist.decode(str(subject.get("encodedList")))
        revoked = statuslist.is_set(bits, int(str(entry.get("statusListIndex"))))
    except (integrity.ProofInvalid, statuslist.StatusListError, ValueError) as error:
        return _refuse("status_list_invalid", f"the status list cannot be checked: {error}", **ok)
    if revoked:
        return VerificationResult(
            valid=False,
            reason="revoked",
            message="the certificate is authentic but revoked",
            revoked=True,
            status_checked=True,
            **ok,
        )
    return VerificationResult(valid=True, reason="valid", message="the certificate is valid", status_checked=True, **ok)

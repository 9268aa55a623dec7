"""Data Integrity proofs of cryptosuite ``eddsa-rdfc-2022`` (W3C "Data Integrity EdDSA Cryptosuites v1.0", section
3.3): RDFC-1.0 canonicalisation of the document and of the proof configuration, SHA-256 of each, the two hashes
concatenated (proof configuration first) and signed with Ed25519; ``proofValue`` is multibase base58btc.

Canonicalisation is strict ("safe mode"): a property or type the contexts do not define would be dropped from the
RDF and so left unsigned; here it is refused instead, so nothing can be added to a credential unnoticed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from prakerja.certificates.rules import multibase
from prakerja.certificates.rules.contexts import Loader, UnknownContext

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"


class ProofInvalid(ValueError):
    """The proof does not verify; ``reason`` is a stable code, the message says why in words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _Dropped(Exception):
    def __init__(self, term: str | None) -> None:
        super().__init__(term)
        self.term = term


def _raise_dropped(term: str | None) -> None:
    raise _Dropped(term)


def _unknown_context(error: BaseException) -> UnknownContext | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UnknownContext):
            return seen
        details = getattr(seen, "details", None)
        cause = details.get("cause") if isinstance(details, dict) else None
        if isinstance(cause, UnknownContext):
            return cause
        seen = seen.__cause__ or seen.__context__ or (cause if isinstance(cause, BaseException) else None)
    return None


def _check_types(node: Any) -> None:
    """Every ``@type`` and ``@id`` in the expanded form must be an absolute IRI (an undefined type or a relative
    reference stays relative, and would be left out of the signed RDF)."""
    if isinstance(node, list):
        for item in node:
            _check_types(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type" and "@value" not in node:
                for name in value if isinstance(value, list) else [value]:
                    if not isinstance(name, str) or ":" not in name:
                        raise ProofInvalid("undefined_term", f"the type {name!r} is not defined by the contexts")
            elif key == "@id" and (not isinstance(value, str) or ":" not in value):
                raise ProofInvalid("undefined_term", f"the identifier {value!r} is not an absolute IRI")
            else:
                _check_types(value)


def canonicalize(document: dict[str, Any], load: Loader) -> str:
    """RDFC-1.0 N-Quads of ``document``; refuses contexts that are not shipped and terms the contexts do not define."""
    options = {"documentLoader": load, "base": None}
    try:
        expanded = jsonld.expand(json.loads(json.dumps(document)), options, on_property_dropped=_raise_dropped)
    except _Dropped as dropped:
        raise ProofInvalid("undefined_term", f"the property {dropped.term!r} is not defined by the contexts") from None
    except jsonld.JsonLdError as error:
        unknown = _unknown_context(error)
        if unknown is not None:
            raise ProofInvalid("unknown_context", str(unknown)) from None
        raise ProofInvalid("malformed", f"the document is not valid JSON-LD ({error.type})") from None
    _check_types(expanded)
    canonical: str = jsonld.normalize(
        expanded, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": load, "base": None}
    )
    return canonical


def hash_data(document: dict[str, Any], proof_config: dict[str, Any], load: Loader) -> bytes:
    """SHA-256(canonical proof configuration) || SHA-256(canonical document)."""
    proof_hash = hashlib.sha256(canonicalize(proof_config, load).encode()).digest()
    document_hash = hashlib.sha256(canonicalize(document, load).encode()).digest()
    return proof_hash + document_hash


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "proof"}


def add_proof(
    document: dict[str, Any],
    *,
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    load: Loader,
) -> dict[str, Any]:
    """The document with a ``DataIntegrityProof`` added (``created`` as an XML Schema dateTime, UTC)."""
    unsecured = _unsecured(document)
    config: dict[str, Any] = {
        "@context": unsecured["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = key.sign(hash_data(unsecured, config, load))
    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = multibase.encode(signature)
    return {**unsecured, "proof": proof}


def proof_of(document: dict[str, Any]) -> dict[str, Any]:
    """The one proof of the document, checked for shape; raises :class:`ProofInvalid`."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofInvalid("proof_missing", "the credential has no single Data Integrity proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofInvalid("proof_type", f"the proof is not a {PROOF_TYPE} of cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofInvalid("proof_purpose", f"the proof's purpose is not {PROOF_PURPOSE}")
    if not isinstance(proof.get("verificationMethod"), str) or not isinstance(proof.get("proofValue"), str):
        raise ProofInvalid("proof_missing", "the proof has no verification method or value")
    if "@context" in proof and proof["@context"] != document.get("@context"):
        raise ProofInvalid("proof_context", "the proof's context differs from the credential's")
    return proof


def verify_proof(document: dict[str, Any], public_key: bytes, load: Loader) -> None:
    """Check the proof's signature over the document with the raw Ed25519 ``public_key``; raises
    :class:`ProofInvalid` with the reason."""
    proof = proof_of(document)
    if not isinstance(document.get("@context"), list | str):
        raise ProofInvalid("malformed", "the credential has no @context")
    config = {key: value for key, value in proof.items() if key not in ("proofValue", "@context")}
    config["@context"] = document["@context"]
    try:
        signature = multibase.decode(proof["proofValue"])
    except multibase.MultibaseError:
        raise ProofInvalid("signature_invalid", "the proof value is not base58btc multibase") from None
    data = hash_data(_unsecured(document), config, load)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        raise ProofInvalid("signature_invalid", "the signature does not match the credential's content") from None

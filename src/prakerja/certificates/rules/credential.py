"""The documents a certificate is made of, built from plain data: the credential (a VC 2.0 that is an Open Badges
3.0 ``OpenBadgeCredential``), the status list credential and the program's DID document.

A certificate's credential is rebuilt from its stored fields whenever it is served (its holder's name lives only in
an encrypted column): the same fields give the same document, byte for byte, so the stored proof still verifies.
``FORMAT`` names this builder's output; a future change to the shape gets a new format, never an edit of this one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from prakerja.certificates.rules.contexts import DID_V1, MULTIKEY_V1, OB_V3, VC_V2
from prakerja.kit.clock import JAKARTA

FORMAT = 1
ACHIEVEMENT_NAMESPACE = uuid.UUID("6f1d8c52-6f5b-4f0e-9a3c-2c1f2b0a9e11")
"""uuid5 namespace for an achievement id when the caller gives no course id."""


def did_web(base_url: str) -> str:
    """``https://sertifikat.example.go.id`` -> ``did:web:sertifikat.example.go.id`` (a port is percent-encoded)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the public base URL must be an http(s) URL with a host")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return "did:web:" + quote(host, safe="")


def xsd_datetime(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: the form used in every document here."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_url(base_url: str, certificate_id: str) -> str:
    return f"{base_url.rstrip('/')}/sertifikat/{certificate_id}"


def status_list_url(base_url: str, list_number: int) -> str:
    return f"{base_url.rstrip('/')}/sertifikat/status/{list_number}"


@dataclass(frozen=True)
class CertificateFields:
    """Everything a credential is built from."""

    certificate_id: str
    holder_name: str
    course_title: str
    institution_name: str
    course_id: str | None
    completed_at: datetime
    score: int
    issued_at: datetime
    status_list: int
    status_index: int


def achievement_id(fields: CertificateFields) -> str:
    if fields.course_id:
        return f"urn:uuid:{fields.course_id}"
    return "urn:uuid:" + str(uuid.uuid5(ACHIEVEMENT_NAMESPACE, f"{fields.institution_name}\x00{fields.course_title}"))


def unsigned_credential(fields: CertificateFields, *, base_url: str, program_name: str) -> dict[str, Any]:
    issuer = did_web(base_url)
    achievement = achievement_id(fields)
    score_id = f"{achievement}#nilai"
    list_url = status_list_url(base_url, fields.status_list)
    return {
        "@context": [VC_V2, OB_V3],
        "id": f"urn:uuid:{fields.certificate_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Sertifikat Prakerja: {fields.course_title}",
        "issuer": {"id": issuer, "type": ["Profile"], "name": program_name, "url": base_url.rstrip("/")},
        "validFrom": xsd_datetime(fields.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": fields.holder_name,
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": fields.holder_name,
                }
            ],
            "activityEndDate": fields.completed_at.astimezone(JAKARTA).date().isoformat(),
            "achievement": {
                "id": achievement,
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": fields.course_title,
                "description": f"Pelatihan Kartu Prakerja oleh {fields.institution_name}.",
                "criteria": {"narrative": "Menyelesaikan seluruh sesi pelatihan dan evaluasi akhir."},
                "creator": {"id": f"{achievement}#lembaga", "type": ["Profile"], "name": fields.institution_name},
                "resultDescription": [
                    {
                        "id": score_id,
                        "type": ["ResultDescription"],
                        "name": "Nilai akhir",
                        "resultType": "Percent",
                        "valueMin": "0",
                        "valueMax": "100",
                    }
                ],
            },
            "result": [{"type": ["Result"], "resultDescription": score_id, "value": str(fields.score)}],
        },
        "credentialStatus": {
            "id": f"{list_url}#{fields.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(fields.status_index),
            "statusListCredential": list_url,
        },
    }


def unsigned_status_list(*, base_url: str, list_number: int, encoded_list: str, valid_from: datetime) -> dict[str, Any]:
    url = status_list_url(base_url, list_number)
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_web(base_url),
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public_key_multibase: str


def verification_method(did: str, key_id: str) -> str:
    return f"{did}#{key_id}"


def did_document(did: str, keys: list[PublicKey]) -> dict[str, Any]:
    """Every key ever used, oldest first, all kept as assertion methods: old certificates stay verifiable."""
    methods = [
        {
            "id": verification_method(did, key.key_id),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }

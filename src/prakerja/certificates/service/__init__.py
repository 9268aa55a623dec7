"""Certificates service: issue, revoke, read and verify. Other domains (the marketplace's completion step,
webhooks) call these names only."""

from prakerja.certificates.rules.verification import VerificationResult
from prakerja.certificates.service.documents import (
    base_url,
    did,
    did_document,
    status_list,
    verify_credential,
    verify_offline,
)
from prakerja.certificates.service.issuing import (
    PROGRAM_NAME,
    credential_of,
    event_data,
    get,
    issue,
    revoke,
)
from prakerja.certificates.service.keys import active_key, rotate

__all__ = [
    "PROGRAM_NAME",
    "VerificationResult",
    "active_key",
    "base_url",
    "credential_of",
    "did",
    "did_document",
    "event_data",
    "get",
    "issue",
    "revoke",
    "rotate",
    "status_list",
    "verify_credential",
    "verify_offline",
]

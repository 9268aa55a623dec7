"""The partner refusals keep their codes, statuses and messages, and sit under the kit's base errors."""

from __future__ import annotations

import pytest

from prakerja.kit.errors import Conflict, DomainError, NotFound, ValidationFailed
from prakerja.partners import errors

CASES = [
    (errors.PartnerInvalid, ValidationFailed, 422, "partner_invalid"),
    (errors.PartnerNameTaken, Conflict, 409, "partner_name_taken"),
    (errors.PartnerNotFound, NotFound, 404, "partner_not_found"),
    (errors.CredentialNotFound, NotFound, 404, "credential_not_found"),
    (errors.CredentialAlreadyRevoked, Conflict, 409, "credential_already_revoked"),
]
MESSAGES = {
    "partner_invalid": ("Data mitra tidak valid.", "The partner's data is not valid."),
    "partner_name_taken": ("Nama mitra ini sudah terdaftar.", "A partner with this name is already registered."),
    "partner_not_found": ("Mitra tidak ditemukan.", "Partner not found."),
    "credential_not_found": ("Kredensial atau kunci tidak ditemukan.", "Credential or key not found."),
    "credential_already_revoked": (
        "Kredensial atau kunci ini sudah dicabut.",
        "This credential or key is already revoked.",
    ),
}


@pytest.mark.parametrize(("error_class", "base", "status", "code"), CASES, ids=[case[3] for case in CASES])
def test_error_keeps_code_and_status_under_kit_base(
    error_class: type[DomainError], base: type[DomainError], status: int, code: str
) -> None:
    error = error_class()
    assert isinstance(error, base)
    assert (error.status_code, error.code) == (status, code)
    assert "status_code" not in vars(error_class)
    assert (error.message, error.message_en) == MESSAGES[code]

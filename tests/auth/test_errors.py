"""The auth refusals keep their codes, statuses and messages, and sit under the kit's base errors."""

from __future__ import annotations

import pytest

from prakerja.auth import errors, partner_errors
from prakerja.kit.errors import Conflict, DomainError, NotFound, Unauthenticated, ValidationFailed

CASES = [
    (errors.InvalidCredentials, Unauthenticated, 401, "invalid_credentials"),
    (errors.AccountDisabled, Unauthenticated, 401, "account_disabled"),
    (errors.EmailTaken, Conflict, 409, "email_taken"),
    (errors.WeakPassword, ValidationFailed, 422, "weak_password"),
    (partner_errors.PartnerInvalid, ValidationFailed, 422, "partner_invalid"),
    (partner_errors.PartnerNameTaken, Conflict, 409, "partner_name_taken"),
    (partner_errors.PartnerNotFound, NotFound, 404, "partner_not_found"),
    (partner_errors.CredentialNotFound, NotFound, 404, "credential_not_found"),
    (partner_errors.CredentialAlreadyRevoked, Conflict, 409, "credential_already_revoked"),
]
MESSAGES = {
    "invalid_credentials": ("E-mail atau kata sandi salah.", "Wrong e-mail or password."),
    "account_disabled": ("Akun ini dinonaktifkan.", "This account is disabled."),
    "email_taken": ("E-mail ini sudah terdaftar.", "This e-mail is already registered."),
    "weak_password": ("Kata sandi minimal 10 karakter.", "The password needs at least 10 characters."),
    "partner_invalid": ("Data mitra tidak valid.", "The partner's data is not valid."),
    "partner_name_taken": ("Nama mitra ini sudah terdaftar.", "A partner with this name is already registered."),
    "partner_not_found": ("Mitra tidak ditemukan.", "Partner not found."),
    "credential_not_found": ("Kredensial atau kunci tidak ditemukan.", "Credential or key not found."),
    "credential_already_revoked": (
        "Kredensial atau kunci ini sudah dicabut.",
        "This credential or key is already revoked.",
    ),
}
"""The messages as they were before the classes moved under the kit's bases (Bahasa Indonesia, English)."""


@pytest.mark.parametrize(("error_class", "base", "status", "code"), CASES, ids=[case[3] for case in CASES])
def test_error_keeps_code_and_status_under_kit_base(
    error_class: type[DomainError], base: type[DomainError], status: int, code: str
) -> None:
    error = error_class()
    assert isinstance(error, base)
    assert (error.status_code, error.code) == (status, code)
    assert "status_code" not in vars(error_class)
    assert (error.message, error.message_en) == MESSAGES[code]

"""The auth refusals keep their codes, statuses and messages, and sit under the kit's base errors."""

from __future__ import annotations

import pytest

from prakerja.auth import errors
from prakerja.kit.errors import Conflict, DomainError, Unauthenticated, ValidationFailed

CASES = [
    (errors.InvalidCredentials, Unauthenticated, 401, "invalid_credentials"),
    (errors.AccountDisabled, Unauthenticated, 401, "account_disabled"),
    (errors.EmailTaken, Conflict, 409, "email_taken"),
    (errors.WeakPassword, ValidationFailed, 422, "weak_password"),
]
MESSAGES = {
    "invalid_credentials": ("E-mail atau kata sandi salah.", "Wrong e-mail or password."),
    "account_disabled": ("Akun ini dinonaktifkan.", "This account is disabled."),
    "email_taken": ("E-mail ini sudah terdaftar.", "This e-mail is already registered."),
    "weak_password": ("Kata sandi minimal 10 karakter.", "The password needs at least 10 characters."),
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

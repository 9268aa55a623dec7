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


@pytest.mark.parametrize(("error_class", "base", "status", "code"), CASES, ids=[case[3] for case in CASES])
def test_error_keeps_code_and_status_under_kit_base(
    error_class: type[DomainError], base: type[DomainError], status: int, code: str
) -> None:
    error = error_class()
    assert isinstance(error, base)
    assert (error.status_code, error.code) == (status, code)
    assert "status_code" not in vars(error_class)
    # Messages are the class's own, in both languages, not the generic ones of the base.
    assert error.message != base.message and error.message_en != base.message_en

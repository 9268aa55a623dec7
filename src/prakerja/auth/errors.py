"""Refusals of the auth domain: sign-in, sign-up, e-mail and password-reset links, rate limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prakerja.kit.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
    field_details,
)


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "E-mail atau kata sandi salah."
    message_en = "Wrong e-mail or password."


class AccountDisabled(Unauthenticated):
    code = "account_disabled"
    message = "Akun ini dinonaktifkan."
    message_en = "This account is disabled."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "E-mail ini sudah terdaftar."
    message_en = "This e-mail is already registered."


class WeakPassword(ValidationFailed):
    """The password rule's first problem (too short, common, the e-mail, repeated characters) as the message; the
    field's problem, with its own code, in ``details["fields"]``."""

    code = "weak_password"
    message = "Kata sandi minimal 10 karakter."
    message_en = "The password needs at least 10 characters."

    def __init__(self, problems: Sequence[FieldProblem] = ()) -> None:
        first = problems[0] if problems else None
        super().__init__(
            first.message_id if first else None,
            first.message_en if first else None,
            details=field_details(problems) if problems else {"field": "password"},
        )


class TokenInvalid(DomainError):
    status_code = 400
    code = "token_invalid"
    message = "Tautan ini tidak berlaku atau sudah kedaluwarsa."
    message_en = "This link is invalid or has expired."


class TooManyAttempts(RateLimited):
    """Locked out until ``retry_at``; the message says when."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        seconds = max(1, int((retry_at - now).total_seconds() + 0.999))
        minutes = max(1, (seconds + 59) // 60)
        super().__init__(
            f"Terlalu banyak percobaan. Coba lagi dalam {minutes} menit.",
            f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            details={"retry_after": seconds},
        )


class AccountLocked(TooManyAttempts):
    """Too many wrong passwords for one account, from any address: sign-in waits, the owner may reset the password
    (which lifts the lock)."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        super().__init__(retry_at, now)
        minutes = max(1, (int(self.details["retry_after"]) + 59) // 60)
        self.code = "account_locked"
        self.message = (
            f"Terlalu banyak kata sandi salah untuk akun ini, jadi akun ini dikunci sementara. Coba lagi dalam "
            f'{minutes} menit, atau atur ulang kata sandi lewat "Lupa kata sandi" untuk langsung masuk lagi.'
        )
        self.message_en = (
            f"Too many wrong passwords for this account, so it is locked for now. Try again in {minutes} "
            f'minute{"s" if minutes != 1 else ""}, or reset the password with "Forgot password" to sign in at once.'
        )

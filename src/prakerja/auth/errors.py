"""Refusals of the auth domain: sign-in, sign-up, e-mail and password-reset links, rate limits."""

from __future__ import annotations

from datetime import datetime

from prakerja.kit.errors import Conflict, DomainError, RateLimited, Unauthenticated, ValidationFailed


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
    code = "weak_password"
    message = "Kata sandi minimal 10 karakter."
    message_en = "The password needs at least 10 characters."


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

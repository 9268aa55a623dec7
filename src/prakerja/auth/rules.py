"""Password hashing, session and link tokens, the sign-up form's checks (no I/O)."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from prakerja.kit.errors import FieldProblem, Problem

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100
_MARKUP = re.compile(r"[<>{}\\]|javascript:|&#", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


DUMMY_HASH = hash_password("timing-equaliser-not-a-password")
"""Checked against when the e-mail is unknown, so response time does not reveal which e-mails exist."""


def password_problems(password: str) -> list[FieldProblem]:
    if MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return []
    return [
        Problem(
            "password", "weak_password", "Kata sandi minimal 10 karakter.", "The password needs at least 10 characters."
        )
    ]


def email_problems(email: str) -> list[FieldProblem]:
    cleaned = email.strip()
    if 3 <= len(cleaned) <= 254 and "@" in cleaned and "." in cleaned.rsplit("@", 1)[-1] and " " not in cleaned:
        return []
    return [Problem("email", "email_invalid", "Alamat e-mail tidak valid.", "The e-mail is not valid.")]


def name_problems(name: str) -> list[FieldProblem]:
    """The name an applicant signs up with: required, at most 100 characters, no markup or control characters."""
    cleaned = name.strip()
    if not cleaned:
        return [Problem("name", "name_required", "Nama wajib diisi.", "Name is required.")]
    if len(cleaned) > MAX_NAME_LENGTH:
        return [
            Problem(
                "name",
                "name_too_long",
                f"Nama paling banyak {MAX_NAME_LENGTH} karakter.",
                f"Name must be at most {MAX_NAME_LENGTH} characters.",
            )
        ]
    if _MARKUP.search(cleaned) or _CONTROL.search(cleaned):
        return [
            Problem(
                "name",
                "name_invalid_characters",
                "Nama berisi karakter yang tidak diizinkan.",
                "Name contains characters that are not allowed.",
            )
        ]
    return []


def sign_up_problems(*, email: str, name: str, password: str) -> list[FieldProblem]:
    return [*email_problems(email), *name_problems(name), *password_problems(password)]

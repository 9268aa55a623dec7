"""Password hashing, session and link tokens, the sign-up form's checks (no I/O)."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from prakerja.kit.errors import FieldProblem, Problem
from prakerja.kit.text import invisible_characters

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100
_MARKUP = re.compile(r"[<>{}\\]|javascript:|&#", re.IGNORECASE)


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


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (``auth/data/common_passwords.txt``, source in the README beside it)."""
    text = resources.files("prakerja.auth").joinpath("data", "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


_TRAILING_NOISE = re.compile(r"[\W\d_]+$")
MIN_EMAIL_PART = 4
"""An e-mail's local part this long or longer may not appear inside the password (shorter ones only not equal it)."""


def password_problems(password: str, *, email: str = "") -> list[FieldProblem]:
    """At least 10 characters; not a common password (the shipped list, also with digits or punctuation added at the
    end: ``password2024!``); not the e-mail's local part nor containing it; not one or two characters repeated."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            Problem(
                "password",
                "weak_password",
                "Kata sandi minimal 10 karakter.",
                "The password needs at least 10 characters.",
            )
        ]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [
            Problem(
                "password",
                "password_too_long",
                f"Kata sandi paling banyak {MAX_PASSWORD_LENGTH} karakter.",
                f"The password can have at most {MAX_PASSWORD_LENGTH} characters.",
            )
        ]
    lowered = unicodedata.normalize("NFKC", password).casefold()
    if len(set(lowered)) <= 2:
        return [
            Problem(
                "password",
                "password_repeated",
                "Kata sandi tidak boleh berupa satu atau dua karakter yang diulang-ulang.",
                "The password cannot be one or two characters repeated.",
            )
        ]
    local = email.strip().casefold().rpartition("@")[0] if "@" in email else ""
    if local and (lowered == local or (len(local) >= MIN_EMAIL_PART and local in lowered)):
        return [
            Problem(
                "password",
                "password_contains_email",
                "Kata sandi tidak boleh memuat alamat e-mail Anda.",
                "The password cannot contain your e-mail address.",
            )
        ]
    stem = _TRAILING_NOISE.sub("", lowered)
    common = common_passwords()
    if lowered in common or (len(stem) >= MIN_EMAIL_PART and stem in common):
        return [
            Problem(
                "password",
                "password_common",
                "Kata sandi ini terlalu umum dan mudah ditebak. Pilih kata sandi lain.",
                "This password is too common and easy to guess. Choose another one.",
            )
        ]
    return []


def email_problems(email: str) -> list[FieldProblem]:
    cleaned = email.strip()
    if 3 <= len(cleaned) <= 254 and "@" in cleaned and "." in cleaned.rsplit("@", 1)[-1] and " " not in cleaned:
        return []
    return [Problem("email", "email_invalid", "Alamat e-mail tidak valid.", "The e-mail is not valid.")]


def name_problems(name: str) -> list[FieldProblem]:
    """The name an applicant signs up with: required, at most 100 characters, no markup, no control or invisible
    characters (bidi overrides, zero-width characters: ``kit.text``)."""
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
    if _MARKUP.search(cleaned) or invisible_characters(cleaned):
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
    return [*email_problems(email), *name_problems(name), *password_problems(password, email=email)]

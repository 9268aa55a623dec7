"""Registration refusals: each has an HTTP status, a stable code and messages in Indonesian and English.

Field problems travel in ``details["fields"]`` as ``[{field, code, message, message_en}]``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from prakerja.kit.errors import DomainError, RateLimited


class FieldProblem(Protocol):
    field: str
    code: str
    message_id: str
    message_en: str


def field_details(problems: Sequence[FieldProblem]) -> dict[str, Any]:
    return {
        "fields": [
            {"field": p.field, "code": p.code, "message": p.message_id, "message_en": p.message_en} for p in problems
        ]
    }


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    message = "Periksa kembali isian yang ditandai."
    message_en = "Check the marked fields."

    def __init__(self, problems: Sequence[FieldProblem], *, code: str | None = None) -> None:
        super().__init__(code=code, details=field_details(problems))


class _Field:
    def __init__(self, field: str, code: str, message_id: str, message_en: str) -> None:
        self.field, self.code, self.message_id, self.message_en = field, code, message_id, message_en


def one_field(field: str, code: str, message_id: str, message_en: str, *, status: int = 422) -> InvalidInput:
    error = InvalidInput([_Field(field, code, message_id, message_en)], code=code)
    error.status_code = status
    error.message, error.message_en = message_id, message_en
    return error


def nik_taken() -> InvalidInput:
    return one_field("nik", "nik_taken", "NIK ini sudah terdaftar.", "This NIK is already registered.", status=409)


def phone_taken() -> InvalidInput:
    return one_field(
        "phone",
        "phone_taken",
        "Nomor ponsel ini sudah terdaftar.",
        "This phone number is already registered.",
        status=409,
    )


def email_taken() -> InvalidInput:
    return one_field(
        "email", "email_taken", "E-mail ini sudah terdaftar.", "This e-mail is already registered.", status=409
    )


class UploadRejected(DomainError):
    status_code = 422
    code = "upload_rejected"
    message = "Foto KTP harus berupa gambar JPEG atau PNG yang jelas, paling besar 2 MB."
    message_en = "The KTP photo must be a clear JPEG or PNG image of at most 2 MB."


class UploadTooLarge(UploadRejected):
    status_code = 413
    code = "upload_too_large"


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


class TokenInvalid(DomainError):
    status_code = 400
    code = "token_invalid"
    message = "Tautan ini tidak berlaku atau sudah kedaluwarsa."
    message_en = "This link is invalid or has expired."


class OtpInvalid(DomainError):
    status_code = 422
    code = "otp_invalid"
    message = "Kode OTP salah atau sudah kedaluwarsa."
    message_en = "The OTP code is wrong or has expired."


class ProfileIncomplete(DomainError):
    status_code = 409
    code = "profile_incomplete"
    message = "Lengkapi semua langkah profil terlebih dahulu."
    message_en = "Complete every profile step first."


class IdentityLocked(DomainError):
    status_code = 409
    code = "identity_locked"
    message = "Identitas Anda sudah cocok dengan Dukcapil dan tidak dapat diubah."
    message_en = "Your identity already matched the civil registry and cannot be changed."


class ApplicantNotFound(DomainError):
    status_code = 404
    code = "applicant_not_found"
    message = "Pendaftar tidak ditemukan."
    message_en = "Applicant not found."


class AttemptExists(DomainError):
    status_code = 409
    code = "attempt_exists"
    message = "Anda sudah mengikuti tes untuk gelombang ini."
    message_en = "You have already taken the test for this wave."


class AttemptClosed(DomainError):
    status_code = 409
    code = "attempt_closed"
    message = "Tes ini sudah selesai."
    message_en = "This test is already finished."


class ListFileInvalid(DomainError):
    status_code = 422
    code = "list_file_invalid"
    message = "Berkas daftar tidak dapat dibaca."
    message_en = "The list file cannot be read."


class ListFileTooLarge(DomainError):
    status_code = 413
    code = "list_file_too_large"
    message = "Berkas daftar terlalu besar."
    message_en = "The list file is too large."

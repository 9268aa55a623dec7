"""Certificate refusals, each with a stable code."""

from __future__ import annotations

from prakerja.kit.errors import Conflict, DomainError, NotFound, ValidationFailed


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    message = "Sertifikat tidak ditemukan."
    message_en = "Certificate not found."


class StatusListNotFound(NotFound):
    code = "status_list_not_found"
    message = "Daftar status tidak ditemukan."
    message_en = "Status list not found."


class CertificateInvalid(ValidationFailed):
    code = "certificate_invalid"
    message = "Data sertifikat tidak valid."
    message_en = "The certificate data is not valid."


class CompletionMismatch(Conflict):
    code = "certificate_completion_mismatch"
    message = "Penyelesaian ini sudah memiliki sertifikat untuk peserta lain."
    message_en = "This completion already has a certificate for another participant."


class AlreadyRevoked(Conflict):
    code = "certificate_revoked"
    message = "Sertifikat sudah dicabut."
    message_en = "The certificate is already revoked."


class RevocationReasonRequired(ValidationFailed):
    code = "revocation_reason_required"
    message = "Alasan pencabutan wajib diisi."
    message_en = "A reason for the revocation is required."


class SigningKeyUnavailable(DomainError):
    status_code = 503
    code = "certificate_key_unavailable"
    message = "Kunci penandatangan sertifikat belum tersedia."
    message_en = "The certificate signing key is not available."


class KeyRotationRefused(ValidationFailed):
    code = "certificate_key_rotation_refused"
    message = "Rotasi kunci tidak dapat dilakukan."
    message_en = "The key cannot be rotated."

"""Registration refusals: each has an HTTP status, a stable code and messages in Indonesian and English.

Field problems travel in ``details["fields"]`` as ``[{field, code, message, message_en}]``."""

from __future__ import annotations

from prakerja.kit.errors import DomainError, InvalidInput, one_field
from prakerja.kit.errors import FieldProblem as FieldProblem  # re-exported: the wizard's checks name it


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


class UploadRejected(DomainError):
    """The file is not a readable JPEG or PNG image (whatever its name says)."""

    status_code = 422
    code = "upload_rejected"
    message = "Berkas ini bukan gambar JPEG atau PNG yang dapat dibaca. Kirim foto KTP dalam format JPEG atau PNG."
    message_en = "This file is not a readable JPEG or PNG image. Send the KTP photo as a JPEG or PNG."


class UploadTooLarge(UploadRejected):
    status_code = 413
    code = "upload_too_large"
    message = "Foto terlalu besar: paling besar 2 MB (dan 8000 piksel per sisi). Kecilkan foto lalu kirim lagi."
    message_en = "The photo is too large: at most 2 MB (and 8000 pixels a side). Make it smaller and send it again."


class PhotoMissing(UploadRejected):
    code = "photo_missing"
    message = "Belum ada foto yang dipilih. Pilih foto KTP Anda, lalu kirim."
    message_en = "No photo was chosen. Choose the photo of your KTP, then send it."


class PhotoTooSmall(UploadRejected):
    code = "photo_too_small"
    message = (
        "Foto terlalu kecil: sisi terpendek minimal 200 piksel. Foto KTP lebih dekat atau dengan resolusi lebih tinggi."
    )
    message_en = (
        "The photo is too small: at least 200 pixels on its shorter side. Take it closer or at a higher resolution."
    )


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


class AbilityWaveNotFound(DomainError):
    status_code = 404
    code = "ability_wave_not_found"
    message = "Gelombang ini tidak ada."
    message_en = "This wave does not exist."


class AbilityWaveNotOpen(DomainError):
    status_code = 409
    code = "ability_wave_not_open"
    message = "Gelombang ini tidak sedang dibuka, jadi tesnya tidak dapat dimulai."
    message_en = "This wave is not open, so its test cannot be started."


class AbilityWaveNotForApplicant(DomainError):
    status_code = 409
    code = "ability_wave_not_for_applicant"
    message = "Anda tidak dapat mengikuti tes untuk gelombang ini (gelombang ini bukan untuk wilayah domisili Anda)."
    message_en = "You cannot take the test for this wave (it is not for the region you live in)."


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


class AsOfInvalid(DomainError):
    status_code = 422
    code = "as_of_invalid"
    message = "Tanggal data tidak valid."
    message_en = "The as-of date is not valid."

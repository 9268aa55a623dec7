"""Refusals when the program office manages partner organisations and credentials."""

from prakerja.kit.errors import Conflict, NotFound, ValidationFailed


class PartnerInvalid(ValidationFailed):
    code = "partner_invalid"
    message = "Data mitra tidak valid."
    message_en = "The partner's data is not valid."


class PartnerNameTaken(Conflict):
    code = "partner_name_taken"
    message = "Nama mitra ini sudah terdaftar."
    message_en = "A partner with this name is already registered."


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    message = "Mitra tidak ditemukan."
    message_en = "Partner not found."


class CredentialNotFound(NotFound):
    code = "credential_not_found"
    message = "Kredensial atau kunci tidak ditemukan."
    message_en = "Credential or key not found."


class CredentialAlreadyRevoked(Conflict):
    code = "credential_already_revoked"
    message = "Kredensial atau kunci ini sudah dicabut."
    message_en = "This credential or key is already revoked."

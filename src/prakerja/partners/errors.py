"""Refusals of the partner domain: the signed API's (contract section 3: 401 for authentication, 403 for the
partner's role), and the program office's when it manages organisations and credentials."""

from prakerja.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)


class MissingSignature(Unauthenticated):
    code = "missing_signature"
    message = "Header client_code, timestamp dan signature wajib dikirim."
    message_en = "The client_code, timestamp and signature headers are required."


class BadSignature(Unauthenticated):
    code = "bad_signature"
    message = "Tanda tangan permintaan tidak cocok."
    message_en = "The request signature does not match."


class UnknownClient(Unauthenticated):
    code = "unknown_client"
    message = "client_code tidak dikenal."
    message_en = "Unknown client_code."


class StaleTimestamp(Unauthenticated):
    code = "stale_timestamp"
    message = "Timestamp permintaan lebih dari 300 detik dari waktu server."
    message_en = "The request timestamp is more than 300 seconds away from the server's clock."


class ReplayedRequest(Unauthenticated):
    code = "replayed_request"
    message = "Permintaan dengan tanda tangan ini sudah pernah diterima."
    message_en = "A request with this signature was already received."


class CredentialRevoked(Unauthenticated):
    code = "credential_revoked"
    message = "Kunci ini sudah dicabut atau mitra sedang ditangguhkan."
    message_en = "This key is revoked or the partner is suspended."


class RoleForbidden(Forbidden):
    code = "partner_role_forbidden"
    message = "Peran mitra Anda tidak diizinkan memanggil endpoint ini."
    message_en = "Your partner role may not call this endpoint."


class ListTypeNotAllowed(Forbidden):
    code = "list_type_not_allowed"
    message = "Kredensial ini tidak diizinkan mengimpor jenis daftar ini."
    message_en = "This credential may not import this list type."


class ListSourceNotAllowed(Forbidden):
    code = "list_source_not_allowed"
    message = "Sumber daftar harus sumber yang tercatat untuk kredensial ini."
    message_en = "The list's source must be the one registered for this credential."


class PartnerRateLimited(RateLimited):
    """Too many requests from one credential in a minute; ``details.retry_after`` and ``Retry-After`` say when."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(
            f"Terlalu banyak permintaan (batas {limit} per menit). Coba lagi dalam {retry_after} detik.",
            f"Too many requests (limit {limit} per minute). Try again in {retry_after} seconds.",
            details={"retry_after": retry_after, "limit_per_minute": limit},
        )


class BodyTooLarge(DomainError):
    status_code = 413
    code = "body_too_large"
    message = "Isi permintaan terlalu besar."
    message_en = "The request body is too large."


class MalformedBody(DomainError):
    """Contract section 3: 400 for a body that cannot be read at all (not JSON, or sent with another content
    type); a JSON body that breaks the schema is 422 ``invalid_request``. ``details.reason`` says which."""

    status_code = 400
    code = "malformed_body"
    message = "Isi permintaan tidak dapat dibaca: kirim JSON yang sah dengan Content-Type application/json."
    message_en = "The request body cannot be read: send valid JSON with Content-Type application/json."


AUTHENTICATION_ERRORS = (
    MissingSignature,
    BadSignature,
    UnknownClient,
    StaleTimestamp,
    ReplayedRequest,
    CredentialRevoked,
)


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


class WebhookEndpointInvalid(ValidationFailed):
    code = "webhook_endpoint_invalid"
    message = "Alamat webhook tidak valid."
    message_en = "The webhook endpoint is not valid."


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    message = "Endpoint webhook tidak ditemukan."
    message_en = "Webhook endpoint not found."


class WebhookQueryInvalid(ValidationFailed):
    code = "webhook_query_invalid"
    message = "Filter log pengiriman webhook tidak valid."
    message_en = "The webhook delivery log filters are not valid."


class PartnerDelisted(Conflict):
    code = "partner_delisted"
    message = "Mitra ini sudah dikeluarkan dari program; statusnya tidak dapat diubah lagi."
    message_en = "This partner was delisted from the program; its status cannot change any more."


class PartnerNotDesignated(Forbidden):
    code = "partner_not_designated"
    message = "Organisasi Anda sedang ditangguhkan atau dikeluarkan: perubahan tidak dapat dilakukan."
    message_en = "Your organisation is suspended or delisted: changes cannot be made."


class StatusReasonRequired(ValidationFailed):
    code = "status_reason_required"
    message = "Tuliskan alasan perubahan status."
    message_en = "Give the reason for the status change."


class ProfileInvalid(ValidationFailed):
    code = "partner_profile_invalid"
    message = "Data profil organisasi tidak valid."
    message_en = "The organisation's profile is not valid."


class MemberInvalid(ValidationFailed):
    code = "partner_member_invalid"
    message = "Akun ini tidak dapat ditautkan ke organisasi ini."
    message_en = "This account cannot be linked to this organisation."


class MemberExists(Conflict):
    code = "partner_member_exists"
    message = "Akun ini sudah tertaut ke sebuah organisasi."
    message_en = "This account is already linked to an organisation."


class NotAMember(Forbidden):
    code = "partner_not_a_member"
    message = "Akun Anda belum ditautkan ke organisasi mitra. Hubungi kantor program (PMO)."
    message_en = "Your account is not linked to a partner organisation yet. Contact the program office (PMO)."


class ProfileItemNotFound(NotFound):
    code = "partner_profile_item_not_found"
    message = "Data tidak ditemukan."
    message_en = "Not found."

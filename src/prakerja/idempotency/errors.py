from prakerja.kit.errors import DomainError


class IdempotencyKeyRequired(DomainError):
    status_code = 400
    code = "idempotency_key_required"
    message = "Header Idempotency-Key wajib diisi (1-255 karakter ASCII tanpa spasi)."
    message_en = "The Idempotency-Key header is required (1-255 printable ASCII characters, no spaces)."


class IdempotencyKeyMismatch(DomainError):
    status_code = 422
    code = "idempotency_key_mismatch"
    message = "Idempotency-Key ini sudah dipakai untuk permintaan lain."
    message_en = "This Idempotency-Key was already used for a different request."


class IdempotencyKeyInUse(DomainError):
    status_code = 409
    code = "idempotency_key_in_use"
    message = "Permintaan dengan Idempotency-Key ini masih diproses."
    message_en = "A request with this Idempotency-Key is still being processed."

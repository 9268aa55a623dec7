"""The payouts domain's refusals: each a stable code with its HTTP status and words in Indonesian and English."""

from __future__ import annotations

from prakerja.kit.errors import Conflict, DomainError, NotFound, ValidationFailed

# reconciliation ---------------------------------------------------------------------------------------------


class ProviderUnknown(NotFound):
    code = "unknown_provider"
    message = "Mitra pembayaran tidak dikenal."
    message_en = "Unknown payment partner."


class StatementMalformed(ValidationFailed):
    """Not a camt.053.001.08 document or a statement CSV as the partner interface describes (section 5)."""

    code = "statement_malformed"
    message = "Berkas rekening koran tidak dapat dibaca."
    message_en = "The statement file cannot be read."


class StatementControlMismatch(ValidationFailed):
    """The statement's control totals (entries, sum) do not match its entries: refused whole."""

    code = "statement_control_mismatch"
    message = "Jumlah kontrol rekening koran tidak cocok dengan isinya."
    message_en = "The statement's control totals do not match its entries."


class StatementDuplicate(Conflict):
    """The same file (SHA-256), or a statement with the same id from the same partner, was ingested before."""

    code = "statement_duplicate"
    message = "Rekening koran ini sudah pernah dimasukkan."
    message_en = "This statement was already ingested."


class StatementUnavailable(DomainError):
    """The partner did not hand the statement over (refused, not found, unreachable)."""

    status_code = 502
    code = "statement_unavailable"
    message = "Rekening koran tidak dapat diambil dari mitra pembayaran."
    message_en = "The statement could not be fetched from the payment partner."


class DifferenceNotFound(NotFound):
    code = "difference_not_found"
    message = "Selisih tidak ditemukan."
    message_en = "Difference not found."


class DifferenceAlreadyResolved(Conflict):
    code = "difference_already_resolved"
    message = "Selisih ini sudah diselesaikan."
    message_en = "This difference is already resolved."


class ResolutionReasonMissing(ValidationFailed):
    code = "resolution_reason_missing"
    message = "Tuliskan alasan penyelesaian (paling sedikit 10 karakter)."
    message_en = "Write the reason for the resolution (at least 10 characters)."


# the payment partner's portal -------------------------------------------------------------------------------


class BatchNotFound(NotFound):
    code = "batch_not_found"
    message = "Batch pembayaran tidak ditemukan."
    message_en = "Payout batch not found."


class StatementTooLarge(DomainError):
    status_code = 413
    code = "statement_too_large"
    message = "Berkas terlalu besar untuk diunggah di halaman ini; gunakan perintah `prakerja payouts reconcile`."
    message_en = "The file is too large to upload here; use the `prakerja payouts reconcile` command."

"""The payouts domain's refusals: each a stable code with its HTTP status and words in Indonesian and English."""

from __future__ import annotations

from prakerja.kit.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited, ValidationFailed


class ProviderNotFound(NotFound):
    code = "provider_not_found"
    message = "Bank atau dompet digital ini tidak tersedia."
    message_en = "This bank or e-wallet is not available."


class ProviderInvalid(ValidationFailed):
    code = "provider_invalid"
    message = "Data penyedia pembayaran tidak valid."
    message_en = "The payment provider's data is not valid."


class NotARecipient(Forbidden):
    code = "not_a_recipient"
    message = "Hanya penerima Kartu Prakerja yang dapat menautkan rekening."
    message_en = "Only Kartu Prakerja recipients can link an account."


class RecipientNotActive(Conflict):
    code = "recipient_not_active"
    message = "Kepesertaan Kartu Prakerja ini tidak aktif."
    message_en = "This Kartu Prakerja membership is not active."


class ProfileIncomplete(Conflict):
    code = "profile_incomplete"
    message = "Lengkapi NIK dan nomor HP yang terverifikasi di profil Anda terlebih dahulu."
    message_en = "Complete your NIK and a verified phone number in your profile first."


class AccountNumberInvalid(ValidationFailed):
    code = "account_number_invalid"
    message = "Nomor rekening atau nomor HP dompet digital tidak valid."
    message_en = "The account number or e-wallet phone number is not valid."

    def __init__(self) -> None:
        super().__init__(details={"field": "number"})


class PartnerUnavailable(DomainError):
    status_code = 503
    code = "partner_unavailable"
    message = "Bank atau dompet digital sedang tidak dapat dihubungi. Tidak ada yang berubah; coba lagi nanti."
    message_en = "The bank or e-wallet cannot be reached right now. Nothing was changed; please try again later."


class LinkNotFound(NotFound):
    code = "link_not_found"
    message = "Penautan rekening tidak ditemukan."
    message_en = "Account link not found."


class LinkNotAwaitingOtp(Conflict):
    code = "link_not_awaiting_otp"
    message = "Penautan ini tidak sedang menunggu kode OTP."
    message_en = "This link is not waiting for an OTP code."


class OtpFormatInvalid(ValidationFailed):
    code = "otp_format_invalid"
    message = "Kode OTP terdiri dari 6 angka."
    message_en = "The OTP code has 6 digits."

    def __init__(self) -> None:
        super().__init__(details={"field": "otp"})


class SurveyIncentivesExhausted(Conflict):
    code = "survey_incentives_exhausted"
    message = "Semua insentif survei untuk skema ini sudah diberikan."
    message_en = "Every survey incentive of this scheme has been granted."


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    message = "Tuliskan alasannya."
    message_en = "Write the reason."

    def __init__(self) -> None:
        super().__init__(details={"field": "reason"})


class AmountInvalid(ValidationFailed):
    code = "amount_invalid"
    message = "Jumlah harus bilangan bulat rupiah lebih dari nol."
    message_en = "The amount must be whole rupiah above zero."

    def __init__(self, field: str = "amount") -> None:
        super().__init__(details={"field": field})


class NothingToClaw(ValidationFailed):
    code = "nothing_to_claw_back"
    message = "Tidak ada dana yang telah dibayarkan kepada penerima ini; sebutkan jumlahnya."
    message_en = "Nothing was paid to this recipient; state the amount."

    def __init__(self) -> None:
        super().__init__(details={"field": "amount"})


class ClawbackExists(Conflict):
    code = "clawback_exists"
    message = "Penerima ini sudah memiliki tuntutan pengembalian yang berjalan."
    message_en = "This recipient already has an open repayment demand."


class ClawbackNotFound(NotFound):
    code = "clawback_not_found"
    message = "Tuntutan pengembalian tidak ditemukan."
    message_en = "Repayment demand not found."


class ClawbackClosed(Conflict):
    code = "clawback_closed"
    message = "Tuntutan pengembalian ini sudah lunas atau ditarik."
    message_en = "This repayment demand is repaid or withdrawn."


class RepaymentTooLarge(ValidationFailed):
    code = "repayment_too_large"
    message = "Pembayaran melebihi sisa yang harus dikembalikan."
    message_en = "The repayment is more than what is still owed."

    def __init__(self) -> None:
        super().__init__(details={"field": "amount"})


class RecipientNotFound(NotFound):
    code = "recipient_not_found"
    message = "Nomor Kartu Prakerja tidak ditemukan."
    message_en = "Card number not found."

    def __init__(self) -> None:
        super().__init__(details={"field": "card_number"})


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


class BatchNotFound(NotFound):
    code = "batch_not_found"
    message = "Batch pembayaran tidak ditemukan."
    message_en = "Payout batch not found."


class StatementTooLarge(DomainError):
    status_code = 413
    code = "statement_too_large"
    message = "Berkas terlalu besar untuk diunggah di halaman ini; gunakan perintah `prakerja payouts reconcile`."
    message_en = "The file is too large to upload here; use the `prakerja payouts reconcile` command."


class SettlementBankInvalid(ValidationFailed):
    code = "settlement_bank_invalid"
    message = "Pilih bank tempat rekening penyelesaian lembaga berada."
    message_en = "Choose the bank that holds the organisation's settlement account."

    def __init__(self) -> None:
        super().__init__(details={"field": "provider"})


class NotASettledOrganisation(Forbidden):
    code = "not_a_settled_organisation"
    message = "Hanya lembaga pelatihan dan platform digital yang menerima pembayaran penyelesaian."
    message_en = "Only training institutions and digital platforms receive settlement payments."


class PeriodInvalid(ValidationFailed):
    code = "settlement_period_invalid"
    message = "Periode penyelesaian ditulis TTTT-BB, misalnya 2026-03."
    message_en = "A settlement period is written YYYY-MM, for example 2026-03."

    def __init__(self) -> None:
        super().__init__(details={"field": "period"})


class PeriodNotOver(Conflict):
    code = "settlement_period_not_over"
    message = "Periode ini belum berakhir; penyelesaiannya dibayar setelah bulan ini selesai."
    message_en = "This period is not over yet; it is settled once the month has ended."


class PurchaseNotSettled(NotFound):
    code = "purchase_not_settled"
    message = "Pembelian ini tidak ditemukan atau penyelesaian pelatihannya belum diterima."
    message_en = "This purchase was not found or its completion was not accepted."

    def __init__(self) -> None:
        super().__init__(details={"field": "purchase_id"})


class RefundAmountInvalid(ValidationFailed):
    code = "refund_amount_invalid"
    message = "Jumlah pengembalian harus lebih dari nol dan tidak melebihi harga pembelian."
    message_en = "The refund must be above zero and no more than the purchase's price."

    def __init__(self) -> None:
        super().__init__(details={"field": "amount"})


class SettlementNotPaid(Conflict):
    code = "settlement_not_paid"
    message = (
        "Penyelesaian lembaga untuk bulan pembelian ini belum dibayar; pengembalian diambil dari utang kepada lembaga, "
        "bukan ditagihkan kembali."
    )
    message_en = (
        "The institution's settlement for this purchase's month is not paid; the refund comes from what the "
        "program owes it, not from a claim."
    )


class AlreadyClaimed(Conflict):
    code = "purchase_already_claimed"
    message = "Pengembalian dana pembelian ini sudah ditagihkan kepada lembaga."
    message_en = "This purchase's refund was already claimed from the institution."


class SettlementInquiriesLimited(RateLimited):
    """Too many settlement-account inquiries for one organisation (settings ``settlement_inquiries_per_hour``)."""

    code = "settlement_inquiries_limited"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            f"Terlalu banyak pemeriksaan rekening penyelesaian untuk lembaga ini. Coba lagi dalam {minutes} menit.",
            f"Too many settlement account checks for this organisation. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            details={"retry_after": retry_after},
        )


class SettlementAccountNotAwaitingOtp(Conflict):
    code = "settlement_account_not_awaiting_otp"
    message = "Tidak ada rekening penyelesaian yang menunggu kode OTP dari bank."
    message_en = "No settlement account is waiting for the bank's OTP code."

"""The payouts domain's refusals: each a stable code with its HTTP status and words in Indonesian and English."""

from prakerja.kit.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed


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

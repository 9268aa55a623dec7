"""The marketplace's refusals (contract ``marketplace-api.md`` sections 1 and 2): each a stable code with its HTTP
status and words in Indonesian and English."""

from prakerja.kit.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed


class CardNotFound(NotFound):
    code = "card_not_found"
    message = "Nomor Kartu Prakerja tidak ditemukan."
    message_en = "Card number not found."


class CardRevoked(ValidationFailed):
    code = "card_revoked"
    message = "Kepesertaan Kartu Prakerja ini telah dicabut."
    message_en = "This card's membership has been revoked."


class CardNotActive(ValidationFailed):
    code = "card_not_active"
    message = "Kartu Prakerja ini belum aktif."
    message_en = "This card is not active."


class InsufficientBalance(ValidationFailed):
    code = "insufficient_balance"
    message = "Saldo pelatihan tidak cukup."
    message_en = "The training balance is not enough."


class FirstTrainingUnfinished(ValidationFailed):
    code = "first_training_unfinished"
    message = "Pelatihan pertama harus diselesaikan sebelum membeli pelatihan berikutnya."
    message_en = "The first training must be finished before buying another."


class CourseNotListed(ValidationFailed):
    code = "course_not_listed"
    message = "Pelatihan ini tidak dijual di platform ini."
    message_en = "This course is not listed on this platform."


class PlatformAccountBound(ValidationFailed):
    code = "platform_account_bound"
    message = "Akun platform ini sudah membayar dengan nomor kartu lain."
    message_en = "This platform account already paid with another card."


class OtpInvalid(ValidationFailed):
    code = "otp_invalid"
    message = "Kode OTP salah."
    message_en = "The one-time code is wrong."


class OtpExpired(ValidationFailed):
    code = "otp_expired"
    message = "Kode OTP sudah kedaluwarsa."
    message_en = "The one-time code has expired."


class OtpAttemptsExceeded(DomainError):
    status_code = 429
    code = "otp_attempts_exceeded"
    message = "Terlalu banyak kode OTP salah; pembelian dibatalkan."
    message_en = "Too many wrong one-time codes; the purchase is cancelled."


class PurchaseState(Conflict):
    code = "purchase_state"
    message = "Pembelian tidak sedang menunggu langkah ini."
    message_en = "The purchase is not awaiting this step."


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"
    message = "Pembelian tidak ditemukan."
    message_en = "Purchase not found."


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    message = "Kode voucher tidak ditemukan."
    message_en = "Voucher not found."


class VoucherUsed(Conflict):
    code = "voucher_used"
    message = "Kode voucher sudah digunakan."
    message_en = "The voucher has already been used."


class VoucherOtherInstitution(Forbidden):
    code = "voucher_other_institution"
    message = "Kode voucher milik lembaga pelatihan lain."
    message_en = "The voucher belongs to another institution."


class RedeemCodeNotFound(NotFound):
    code = "redeem_code_not_found"
    message = "Kode redeem tidak ditemukan."
    message_en = "Redeem code not found."


class RedeemCodeTypeMismatch(ValidationFailed):
    code = "redeem_code_type_mismatch"
    message = "Kode redeem untuk jenis pelatihan lain."
    message_en = "The redeem code belongs to another training type."


class RedeemCodeOtherInstitution(Forbidden):
    code = "redeem_code_other_institution"
    message = "Kode redeem milik lembaga pelatihan lain."
    message_en = "The redeem code belongs to another institution."


class RedeemCodeCancelled(Conflict):
    code = "redeem_code_cancelled"
    message = "Sesi pelatihan ini dibatalkan."
    message_en = "The session was cancelled."


class TransactionCancelled(Conflict):
    code = "transaction_cancelled"
    message = "Transaksi pembelian dibatalkan."
    message_en = "The purchase was cancelled."


class RedeemCodeUsed(Conflict):
    code = "redeem_code_used"
    message = "Kode redeem sudah digunakan."
    message_en = "The redeem code has already been used."


class RedeemCodeOutsideWindow(ValidationFailed):
    code = "redeem_code_outside_window"
    message = "Kode redeem hanya berlaku 1 jam sebelum sampai 1 jam sesudah sesi dimulai."
    message_en = "A redeem code is valid from 1 hour before to 1 hour after the session start."


class CompletionExists(Conflict):
    code = "completion_exists"
    message = "Penyelesaian pelatihan ini sudah dilaporkan."
    message_en = "A completion was already reported for this purchase."


class AttendanceMissing(ValidationFailed):
    code = "attendance_missing"
    message = "Ada sesi tanpa kehadiran (kode redeem belum digunakan)."
    message_en = "A session has no committed redeem code."


class CompletionTooEarly(ValidationFailed):
    code = "completion_too_early"
    message = "Pelatihan belum mungkin selesai pada waktu itu."
    message_en = "The course cannot have ended at that time."


class CompletionNotFound(NotFound):
    code = "completion_not_found"
    message = "Laporan penyelesaian tidak ditemukan."
    message_en = "Completion not found."


class CompletionNotInReview(Conflict):
    code = "completion_not_in_review"
    message = "Laporan penyelesaian ini tidak sedang ditinjau."
    message_en = "This completion is not in review."


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    message = "Alasan wajib diisi."
    message_en = "A reason is required."


class RatingInvalid(ValidationFailed):
    code = "rating_invalid"
    message = "Beri 1 sampai 5 bintang dan ulasan 10 sampai 2000 karakter."
    message_en = "Give 1 to 5 stars and a review of 10 to 2000 characters."


class RatingNotAllowed(Conflict):
    code = "rating_not_allowed"
    message = "Penilaian hanya sekali untuk pelatihan yang sudah selesai."
    message_en = "A rating is given once, for a completed training."


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "Sesi pelatihan tidak ditemukan."
    message_en = "Session not found."


class PeriodInvalid(ValidationFailed):
    code = "period_invalid"
    message = "Periode tidak valid (tanggal awal tidak boleh setelah tanggal akhir, paling lama 366 hari)."
    message_en = "The period is not valid (start not after end, at most 366 days)."


class CommissionInvalid(ValidationFailed):
    code = "commission_invalid"
    message = "Komisi harus 0 sampai 5000 basis poin."
    message_en = "The commission must be 0 to 5000 basis points."

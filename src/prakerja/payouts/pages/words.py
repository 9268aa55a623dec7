"""What participants and officers read instead of codes: statuses and reasons in Indonesian and English."""

from __future__ import annotations

from prakerja.web.forms import pick

PROVIDER_KIND = {"bank": ("rekening bank", "bank account"), "ewallet": ("dompet digital", "e-wallet")}

ACCOUNT_STATUS = {
    "inquiring": ("Sedang diperiksa", "Being checked"),
    "otp_sent": ("Menunggu kode OTP", "Waiting for the OTP code"),
    "active": ("Aktif: insentif dibayarkan ke sini", "Active: incentives are paid here"),
    "rejected": ("Ditolak", "Refused"),
    "replaced": ("Diganti dengan rekening baru", "Replaced by a newer account"),
}

ACCOUNT_FAILURE = {
    "account_not_found": (
        "Nomor ini tidak terdaftar di bank atau dompet digital yang dipilih.",
        "This number is not registered at the chosen bank or e-wallet.",
    ),
    "account_inactive": ("Rekening atau dompet digital ini tidak aktif.", "This account or e-wallet is not active."),
    "nik_mismatch": (
        "NIK pemilik rekening tidak sama dengan NIK Anda. Gunakan rekening atas nama Anda sendiri.",
        "The account holder's NIK is not yours. Use an account in your own name.",
    ),
    "ewallet_not_kyc": (
        "Dompet digital ini belum di-upgrade (belum verifikasi KYC). "
        "Upgrade akun Anda di aplikasinya, lalu tautkan lagi.",
        "This e-wallet is not upgraded (KYC not done). Upgrade it in its app, then link it again.",
    ),
    "phone_mismatch": (
        "Nomor dompet digital harus sama dengan nomor HP yang terdaftar di Kartu Prakerja.",
        "The e-wallet's number must be the phone number registered with Kartu Prakerja.",
    ),
    "otp_failed": (
        "Kode OTP salah terlalu sering atau kedaluwarsa. Tautkan lagi untuk menerima kode baru.",
        "The OTP code was wrong too often or expired. Link again to get a new code.",
    ),
    "otp_expired": (
        "Kode OTP tidak dimasukkan dalam 5 menit dan sudah kedaluwarsa. Tautkan lagi untuk menerima kode baru.",
        "The OTP code was not entered within 5 minutes and has expired. Link again to get a new code.",
    ),
    "partner_unavailable": ("Bank atau dompet digital tidak dapat dihubungi.", "The bank or e-wallet was unreachable."),
    "closed_after_link": (
        "Pembayaran ke rekening ini ditolak (rekening ditutup atau diblokir). Tautkan rekening lain.",
        "A payment to this account was refused (closed or blocked). Link another account.",
    ),
}

ENTITLEMENT_KIND = {
    "incentive": ("Insentif pasca pelatihan", "Post-training incentive"),
    "survey_incentive": ("Insentif survei", "Survey incentive"),
}

ENTITLEMENT_STATUS = {
    "blocked": ("Tertahan", "On hold"),
    "scheduled": ("Dijadwalkan", "Scheduled"),
    "in_flight": ("Sedang dibayarkan", "Being paid"),
    "needs_action": ("Perlu tindakan Anda", "Needs your action"),
    "paid": ("Dibayar", "Paid"),
    "expired": ("Kedaluwarsa: kembali ke kas negara", "Expired: returned to the treasury"),
    "cancelled": ("Dibatalkan", "Cancelled"),
}

BLOCKED_REASON = {
    "no_certificate": (
        "Sertifikat pelatihan pertama Anda belum terbit atau telah dicabut.",
        "The certificate of your first training is not issued yet, or was revoked.",
    ),
    "no_rating": (
        "Beri rating bintang untuk pelatihan pertama Anda.",
        "Give your first training a star rating.",
    ),
    "no_review": (
        "Tulis ulasan untuk pelatihan pertama Anda.",
        "Write a review of your first training.",
    ),
    "no_account": (
        "Tautkan rekening bank atau dompet digital atas nama Anda.",
        "Link a bank account or e-wallet in your name.",
    ),
    "account_rejected": (
        "Rekening yang Anda tautkan ditolak. Tautkan rekening lain.",
        "The account you linked was refused. Link another account.",
    ),
    "nik_mismatch": (
        "NIK pemilik rekening tidak sama dengan NIK Anda. Tautkan rekening atas nama Anda sendiri.",
        "The account holder's NIK is not yours. Link an account in your own name.",
    ),
    "ewallet_not_kyc": (
        "Dompet digital Anda belum di-upgrade (KYC). Upgrade lalu tautkan lagi.",
        "Your e-wallet is not upgraded (KYC). Upgrade it, then link it again.",
    ),
    "no_budget": (
        "Menunggu anggaran program; akan dijadwalkan otomatis.",
        "Waiting for the program's budget; it will be scheduled by itself.",
    ),
    "fix_or_relink": (
        "Pembayaran ditolak oleh bank atau dompet digital. Perbaiki rekening Anda atau tautkan rekening lain.",
        "The bank or e-wallet refused the payment. Fix your account or link another one.",
    ),
}

CLAWBACK_STATUS = {
    "open": ("Harus dikembalikan", "To be repaid"),
    "repaid": ("Lunas", "Repaid"),
    "overdue": ("Lewat 60 hari: dapat digugat secara perdata", "Past 60 days: open to a civil claim"),
    "withdrawn": ("Ditarik", "Withdrawn"),
}


RUN_KIND = {
    "incentives": ("Insentif peserta", "Participants' incentives"),
    "settlement": ("Pembayaran lembaga", "Provider settlement"),
}
RUN_STATUS = {
    "preparing": ("Disiapkan", "Being prepared"),
    "sending": ("Sedang dikirim", "Being sent"),
    "awaiting_results": ("Menunggu hasil", "Awaiting results"),
    "completed": ("Selesai", "Completed"),
}
CHANNEL = {
    "api": ("API pembayaran massal", "Bulk payout API"),
    "file": ("Berkas ISO 20022 (pain.001)", "ISO 20022 file (pain.001)"),
}
BATCH_STATUS = {
    "ready": ("Siap dikirim", "Ready to send"),
    "sent": ("Terkirim", "Sent"),
    "completed": ("Selesai", "Completed"),
}
INSTRUCTION_STATUS = {
    "ready": ("Siap", "Ready"),
    "sent": ("Di mitra", "With the partner"),
    "succeeded": ("Berhasil", "Paid"),
    "failed": ("Gagal", "Failed"),
    "reversed": ("Dibatalkan mitra", "Reversed"),
}


def word(table: dict[str, tuple[str, str]], key: str | None) -> str:
    if key is None:
        return ""
    found = table.get(key)
    return pick(*found) if found else key

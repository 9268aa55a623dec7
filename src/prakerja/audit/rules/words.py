"""The audit log in words: what each recorded action, actor role and object type means, in Bahasa Indonesia and in
English, for the audit page (auditors and program-office administrators read words, never codes). The codes stay
what the chain hashes and what ``prakerja audit`` prints; these are only how a page says them.

An action, role or type with no words here (an entry written by an older release) is shown as its code's words
split apart, with the code itself, so a page never fails on one: ``tests/audit/test_words.py`` checks that every
action the code records, and every one the demo writes, has words of its own."""

from __future__ import annotations

ACTIONS: dict[str, tuple[str, str]] = {
    # accounts and partners' credentials
    "auth.account_created": ("Akun dibuat", "Account created"),
    "auth.partner_created": ("Mitra didaftarkan", "Partner registered"),
    "auth.partner_credential_issued": ("Kredensial API mitra diterbitkan", "Partner API credential issued"),
    "auth.partner_credential_revoked": ("Kredensial API mitra dicabut", "Partner API credential revoked"),
    "auth.partner_key_rotated": ("Kunci API mitra diganti", "Partner API key rotated"),
    "auth.partner_key_revoked": ("Kunci API mitra dicabut", "Partner API key revoked"),
    "auth.partner_list_scope_set": ("Cakupan daftar mitra diatur", "Partner's list scope set"),
    "auth.partner_suspended": ("Mitra ditangguhkan", "Partner suspended"),
    "auth.partner_delisted": ("Mitra dikeluarkan", "Partner delisted"),
    "auth.partner_reactivated": ("Mitra diaktifkan kembali", "Partner reactivated"),
    # partners' profiles, people and webhooks
    "partners.profile_updated": ("Profil mitra diperbarui", "Partner profile updated"),
    "partners.contact_added": ("Kontak mitra ditambahkan", "Partner contact added"),
    "partners.contact_removed": ("Kontak mitra dihapus", "Partner contact removed"),
    "partners.document_added": ("Dokumen mitra ditambahkan", "Partner document added"),
    "partners.document_removed": ("Dokumen mitra dihapus", "Partner document removed"),
    "partners.trainer_added": ("Pelatih ditambahkan", "Trainer added"),
    "partners.trainer_removed": ("Pelatih dihapus", "Trainer removed"),
    "partners.member_added": ("Pengguna mitra ditambahkan", "Partner user added"),
    "partners.member_removed": ("Pengguna mitra dihapus", "Partner user removed"),
    "partners.webhook_endpoint_added": ("Alamat webhook ditambahkan", "Webhook endpoint added"),
    "partners.webhook_endpoint_disabled": ("Alamat webhook dinonaktifkan", "Webhook endpoint disabled"),
    "partners.webhook_endpoint_enabled": ("Alamat webhook diaktifkan", "Webhook endpoint enabled"),
    "partners.webhook_secret_rotated": ("Rahasia webhook diganti", "Webhook secret rotated"),
    "partners.refusals_reviewed": ("Penolakan panggilan mitra ditinjau", "Refused partner calls reviewed"),
    "partners.refusals_purged": ("Catatan penolakan lama dihapus", "Old refusal records purged"),
    # registration
    "registration.applicant_searched": ("Pendaftar dicari", "Applicants searched"),
    "registration.applicant_viewed": ("Data pendaftar dilihat", "Applicant record viewed"),
    "registration.flag_reviewed": ("Tanda kecurigaan ditinjau", "Integrity flag reviewed"),
    "registration.identity_recheck_requested": ("Pemeriksaan ulang identitas diminta", "Identity re-check requested"),
    "registration.list_imported": ("Daftar pengecualian diimpor", "Exclusion list imported"),
    # waves and selection
    "waves.created": ("Gelombang dibuat", "Wave created"),
    "waves.opened": ("Gelombang dibuka", "Wave opened"),
    "waves.closed": ("Gelombang ditutup", "Wave closed"),
    "waves.committed": ("Data undian dikunci dan diterbitkan", "Draw data committed and published"),
    "waves.drawn": ("Undian dijalankan", "Draw run"),
    "waves.announced": ("Hasil seleksi diumumkan", "Selection results announced"),
    "waves.quotas_set": ("Kuota gelombang diatur", "Wave quotas set"),
    "waves.tiers_set": ("Prioritas wilayah diatur", "Regional priority tiers set"),
    "waves.region_list_imported": ("Daftar wilayah prioritas diimpor", "Priority region list imported"),
    "selection.disqualified": ("Penerima dibatalkan kepesertaannya", "Recipient disqualified"),
    "selection.fairness_overridden": ("Peringatan keadilan undian dikesampingkan", "Draw fairness warning overridden"),
    "selection.kk_cap_applied": ("Batas dua orang per Kartu Keluarga diterapkan", "Two-per-family-card cap applied"),
    # ledger
    "ledger.transfer_created": ("Transfer buku besar dicatat", "Ledger transfer recorded"),
    "ledger.budget_allocated": ("Anggaran dialokasikan", "Budget allocated"),
    "ledger.wallet_funded": ("Saldo pelatihan diberikan", "Training balance funded"),
    "ledger.purchase_authorised": ("Saldo dicadangkan untuk pembelian", "Balance reserved for a purchase"),
    "ledger.purchase_captured": ("Pembayaran pelatihan diteruskan", "Purchase payment captured"),
    "ledger.purchase_voided": ("Cadangan pembelian dibatalkan", "Purchase reserve voided"),
    "ledger.purchase_refunded": ("Pembelian dikembalikan ke saldo", "Purchase refunded to the balance"),
    "ledger.institution_clawback": (
        "Pembelian dikembalikan ke saldo, ditagihkan ke lembaga",
        "Purchase refunded to the balance, owed by the institution",
    ),
    "ledger.platform_clawback": (
        "Komisi dikembalikan ke saldo, ditagihkan ke platform",
        "Commission refunded to the balance, owed by the platform",
    ),
    "ledger.wallet_forfeit_revocation": ("Saldo hangus karena kartu dicabut", "Balance forfeited: card revoked"),
    "ledger.wallet_forfeit_expiry": ("Saldo hangus di akhir tahun", "Balance forfeited at year end"),
    "ledger.year_end_expiry": ("Saldo akhir tahun dihanguskan", "Year-end balances expired"),
    "ledger.incentive_scheduled": ("Insentif dijadwalkan", "Incentive scheduled"),
    "ledger.incentive_released": ("Insentif yang ditahan dilepas", "Held incentive released"),
    "ledger.clawback_demanded": ("Pengembalian dana ditagih", "Clawback demanded"),
    "ledger.clawback_repaid": ("Pengembalian dana dibayar", "Clawback repaid"),
    "ledger.clawback_netted": ("Pengembalian dana diperhitungkan", "Clawback netted"),
    "ledger.clawback_withdrawn": ("Tagihan pengembalian dana ditarik", "Clawback withdrawn"),
    "ledger.account_closed": ("Akun buku besar ditutup", "Ledger account closed"),
    # catalogue and curation
    "catalog.course_submitted": ("Pelatihan diajukan ke kurasi", "Course submitted for curation"),
    "catalog.course_changed": ("Pelatihan diubah", "Course changed"),
    "catalog.course_curated": ("Keputusan kurasi dicatat", "Curation decision recorded"),
    "catalog.session_cancelled": ("Sesi pelatihan dibatalkan", "Training session cancelled"),
    "catalog.listing_put": ("Pelatihan dijual di platform", "Course listed on a platform"),
    "catalog.partner_link_recorded": ("Keterkaitan antarmitra dicatat", "Partner link recorded"),
    "catalog.partner_link_removed": ("Keterkaitan antarmitra dihapus", "Partner link removed"),
    # training
    "training.purchase_started": ("Pembelian dimulai, kode OTP dikirim", "Purchase started, one-time code sent"),
    "training.purchase_confirmed": ("Pembelian dikonfirmasi", "Purchase confirmed"),
    "training.purchase_cancelled": ("Pembelian dibatalkan", "Purchase cancelled"),
    "training.voucher_redeemed": ("Voucher ditukarkan", "Voucher redeemed"),
    "training.attendance_committed": ("Kehadiran sesi dicatat", "Session attendance recorded"),
    "training.completion_reported": ("Penyelesaian pelatihan dilaporkan", "Course completion reported"),
    "training.completion_accepted": ("Penyelesaian pelatihan diterima", "Course completion accepted"),
    "training.completion_decided": ("Penyelesaian yang ditinjau diputuskan", "Reviewed completion decided"),
    "training.rated": ("Ulasan pelatihan diberikan", "Course rated"),
    "training.card_revoked": ("Kartu Prakerja dicabut", "Kartu Prakerja revoked"),
    "training.commission_set": ("Komisi platform diatur", "Platform commission set"),
    # certificates
    "certificate.issued": ("Sertifikat diterbitkan", "Certificate issued"),
    "certificate.revoked": ("Sertifikat dicabut", "Certificate revoked"),
    "certificate.key_rotated": ("Kunci tanda tangan sertifikat diganti", "Certificate signing key rotated"),
    # payouts
    "payouts.provider_registered": ("Mitra pembayaran didaftarkan", "Payment provider registered"),
    "payouts.account_inquired": ("Rekening tujuan diperiksa", "Payout account checked"),
    "payouts.account_linked": ("Rekening tujuan ditautkan", "Payout account linked"),
    "payouts.account_otp_refused": ("Kode OTP penautan rekening ditolak", "Account-linking code refused"),
    "payouts.run_started": ("Pembayaran insentif dijalankan", "Payout run started"),
    "payouts.statement_ingested": ("Laporan status pembayaran diterima", "Payment status report received"),
    "payouts.unclaimed_expired": ("Insentif yang tidak diambil kedaluwarsa", "Unclaimed incentive expired"),
    "payouts.difference_resolved": ("Selisih rekonsiliasi diselesaikan", "Reconciliation difference resolved"),
    "payouts.differences_explained": ("Selisih rekonsiliasi dijelaskan", "Reconciliation differences explained"),
    "payouts.clawback_opened": ("Tagihan pengembalian dibuka", "Clawback opened"),
    "payouts.clawback_repayment_recorded": ("Pembayaran kembali dicatat", "Clawback repayment recorded"),
    "payouts.clawback_withdrawn": ("Tagihan pengembalian ditarik", "Clawback withdrawn"),
    "payouts.institution_clawback": ("Tagihan pengembalian ke lembaga", "Clawback from an institution"),
    "payouts.platform_clawback": ("Tagihan pengembalian ke platform", "Clawback from a platform"),
    "payouts.settlement_account_recorded": (
        "Rekening penyelesaian mitra dicatat",
        "Partner settlement account recorded",
    ),
    "payouts.settlement_account_confirmed": (
        "Rekening penyelesaian mitra dikonfirmasi",
        "Partner settlement account confirmed",
    ),
    "payouts.settlement_account_otp_refused": (
        "Kode OTP rekening penyelesaian ditolak",
        "Settlement account code refused",
    ),
    "payouts.settlements_prepared": ("Penyelesaian pembayaran mitra disiapkan", "Partner settlements prepared"),
    "payouts.settlement_run_again": ("Penyelesaian pembayaran dijalankan ulang", "Settlement run again"),
}
"""Every action the code records (``tests/audit/test_words.py``): code -> (Bahasa Indonesia, English)."""

ROLES: dict[str, tuple[str, str]] = {
    "applicant": ("peserta", "participant"),
    "pmo_admin": ("administrator PMO", "PMO administrator"),
    "pmo_officer": ("petugas PMO", "PMO officer"),
    "institution": ("lembaga pelatihan", "training institution"),
    "platform": ("platform digital", "digital platform"),
    "payment_partner": ("mitra pembayaran", "payment partner"),
    "auditor": ("auditor", "auditor"),
    "researcher": ("peneliti", "researcher"),
    "system": ("sistem", "system"),
    "operator": ("operator (baris perintah)", "operator (command line)"),
    "operator_cli": ("operator (baris perintah)", "operator (command line)"),
    "demo": ("data demo", "demo data"),
    "partner:ministry": ("API mitra: kementerian", "partner API: ministry"),
    "partner:platform": ("API mitra: platform digital", "partner API: digital platform"),
    "partner:institution": ("API mitra: lembaga pelatihan", "partner API: training institution"),
    "partner:payment_partner": ("API mitra: mitra pembayaran", "partner API: payment partner"),
}
"""Who acted: the account roles, the system and command-line operators, and partners calling the signed API."""

OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("akun", "account"),
    "applicant": ("pendaftar", "applicant"),
    "recipient": ("penerima", "recipient"),
    "certificate": ("sertifikat", "certificate"),
    "certificate_key": ("kunci sertifikat", "certificate key"),
    "clawback": ("tagihan pengembalian", "clawback"),
    "completion": ("penyelesaian", "completion"),
    "course": ("pelatihan", "course"),
    "course_session": ("sesi pelatihan", "training session"),
    "ledger_account": ("akun buku besar", "ledger account"),
    "ledger_transfer": ("transfer buku besar", "ledger transfer"),
    "list": ("daftar", "list"),
    "listing": ("penjualan di platform", "platform listing"),
    "partner": ("mitra", "partner"),
    "partner_credential": ("kredensial API", "API credential"),
    "partner_link": ("keterkaitan antarmitra", "partner link"),
    "partner_refusal": ("penolakan panggilan mitra", "refused partner call"),
    "payout_account": ("rekening tujuan", "payout account"),
    "payout_provider": ("mitra pembayaran", "payment provider"),
    "payouts_provider": ("mitra pembayaran", "payment provider"),
    "payout_run": ("pembayaran insentif", "payout run"),
    "payouts": ("pembayaran", "payouts"),
    "payouts_difference": ("selisih rekonsiliasi", "reconciliation difference"),
    "payouts_statement": ("laporan status pembayaran", "payment status report"),
    "purchase": ("pembelian", "purchase"),
    "redeem_code": ("kode redeem", "redeem code"),
    "region_list": ("daftar wilayah", "region list"),
    "scheme_year": ("anggaran skema per tahun", "scheme year budget"),
    "settlement_period": ("periode penyelesaian", "settlement period"),
    "wave": ("gelombang", "wave"),
    "webhook_endpoint": ("alamat webhook", "webhook endpoint"),
}
"""What was acted on."""


def _say(table: dict[str, tuple[str, str]], code: str, language: str) -> str:
    found = table.get(code)
    if found is not None:
        return found[0] if language == "id" else found[1]
    words = code.rsplit(".", 1)[-1].replace("_", " ").replace(":", ": ")
    return f"{words} ({code})"


def action_words(code: str, language: str) -> str:
    """``training.purchase_confirmed`` -> ``Pembelian dikonfirmasi`` (``id``) or ``Purchase confirmed``."""
    return _say(ACTIONS, code, language)


def role_words(code: str, language: str) -> str:
    """``partner:platform`` -> ``API mitra: platform digital``."""
    return _say(ROLES, code, language)


def object_words(code: str, language: str) -> str:
    """``ledger_transfer`` -> ``transfer buku besar``."""
    return _say(OBJECTS, code, language)

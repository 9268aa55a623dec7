"""Selection refusals: each carries its HTTP status and a stable code."""

from __future__ import annotations

from prakerja.kit.errors import Conflict, NotFound, ValidationFailed


class DrawNotFound(NotFound):
    code = "draw_not_found"
    message = "Undian gelombang ini belum ada."
    message_en = "This wave has no lottery yet."


class WaveNotCommitted(Conflict):
    code = "wave_not_committed"
    message = "Undian hanya dapat dijalankan setelah komitmen diterbitkan."
    message_en = "The draw can run only after the commitment is published."


class AlreadyDrawn(Conflict):
    code = "wave_already_drawn"
    message = "Undian gelombang ini sudah dijalankan."
    message_en = "This wave's draw has already run."


class SeedReferenceMismatch(Conflict):
    code = "seed_reference_mismatch"
    message = "Referensi nilai acak tidak sesuai dengan yang disebut dalam komitmen."
    message_en = "The random value's reference does not match the one named in the commitment."


class InvalidSeed(ValidationFailed):
    code = "invalid_seed"
    message = "Nilai acak harus berupa heksadesimal."
    message_en = "The random value must be hexadecimal."


class InvalidRandomness(ValidationFailed):
    code = "invalid_randomness"
    message = "Sumber dan referensi nilai acak wajib diisi."
    message_en = "The randomness source and reference are required."


class NoQuotas(Conflict):
    code = "quotas_missing"
    message = "Kuota per strata belum ditetapkan."
    message_en = "The stratum quotas are not set."


class FairnessFailed(Conflict):
    code = "fairness_failed"
    message = "Pemeriksaan keadilan gagal; hasil tidak diterbitkan tanpa alasan pengecualian yang dicatat."
    message_en = "A fairness check failed; results are not published without a recorded override reason."


class NotDisqualifiable(Conflict):
    code = "not_disqualifiable"
    message = "Hanya peserta terpilih yang dapat dibatalkan sebelum pengumuman."
    message_en = "Only a selected entry can be disqualified before the announcement."


class ProofNotAvailable(NotFound):
    code = "proof_not_available"
    message = "Bukti undian belum tersedia."
    message_en = "No lottery proof is available yet."


class PublicationMissing(NotFound):
    code = "publication_missing"
    message = "Berkas publikasi tidak ditemukan."
    message_en = "The published file was not found."


class LotteryRefused(Conflict):
    """The lottery library refused (e.g. a different seed already published); its stable code is kept."""

    message = "Undian menolak permintaan ini."
    message_en = "The lottery refused this request."

    def __init__(self, error: Exception) -> None:
        code = str(getattr(error, "code", "lottery_refused"))
        super().__init__(code=f"lottery_{code}", details={"problem": str(getattr(error, "message", error))})


class BudgetInsufficient(Conflict):
    code = "budget_insufficient"
    message = "Anggaran skema tahun ini tidak cukup untuk saldo pelatihan semua penerima."
    message_en = "This scheme-year's budget does not cover every recipient's training balance."

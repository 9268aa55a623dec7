"""Wave refusals: each carries its HTTP status and a stable code."""

from __future__ import annotations

from prakerja.kit.errors import Conflict, DomainError, NotFound, ValidationFailed


class WaveNotFound(NotFound):
    code = "wave_not_found"
    message = "Gelombang tidak ditemukan."
    message_en = "Wave not found."


class WaveStateConflict(Conflict):
    """The wave is not in the state the action needs; ``code`` names the needed state."""

    code = "wave_state_conflict"
    message = "Tindakan ini tidak dapat dilakukan pada tahap gelombang saat ini."
    message_en = "This action is not possible at the wave's current stage."


class QuotasFrozen(Conflict):
    code = "quotas_frozen"
    message = "Kuota tidak dapat diubah setelah komitmen undian diterbitkan."
    message_en = "Quotas cannot change after the lottery commitment is published."


class InvalidQuotas(ValidationFailed):
    code = "invalid_quotas"
    message = "Tabel kuota tidak valid."
    message_en = "The quota table is not valid."


class InvalidWave(ValidationFailed):
    code = "invalid_wave"
    message = "Data gelombang tidak valid."
    message_en = "The wave data is not valid."


class SchemeChanged(Conflict):
    code = "scheme_changed"
    message = "Berkas skema telah berubah sejak gelombang dibuat."
    message_en = "The scheme file changed since the wave was created."


class JoinRefused(DomainError):
    """Base of the refusals an applicant sees when joining."""

    status_code = 409
    code = "join_refused"


class IdentityNotVerified(JoinRefused):
    status_code = 403
    code = "identity_not_verified"
    message = "Identitas Anda belum terverifikasi. Selesaikan verifikasi data diri terlebih dahulu."
    message_en = "Your identity is not verified yet. Complete the identity check first."


class NoApplicantProfile(JoinRefused):
    status_code = 403
    code = "no_applicant_profile"
    message = "Lengkapi pendaftaran data diri terlebih dahulu."
    message_en = "Complete your registration first."


class ConsentRequired(ValidationFailed):
    code = "consent_required"
    message = "Anda perlu menyetujui syarat dan ketentuan untuk bergabung."
    message_en = "You need to accept the terms to join."


class WaveNotOpen(JoinRefused):
    code = "wave_not_open"
    message = "Gelombang ini sedang tidak dibuka."
    message_en = "This wave is not open."


class WaveNotForDomicile(JoinRefused):
    code = "wave_not_for_domicile"
    message = "Gelombang ini tidak dibuka untuk daerah domisili Anda."
    message_en = "This wave is not open for your region."


class AlreadyInWave(JoinRefused):
    code = "already_in_wave"
    message = "Anda sudah tergabung dalam gelombang yang sedang berjalan."
    message_en = "You are already in a running wave."


class OncePerLifetime(JoinRefused):
    code = "once_per_lifetime"
    message = "Kartu Prakerja hanya dapat diterima satu kali seumur hidup."
    message_en = "Kartu Prakerja can be received only once in a lifetime."


class EmailNotVerified(JoinRefused):
    status_code = 403
    code = "email_not_verified"
    message = "Verifikasi e-mail Anda dulu: buka tautan yang kami kirim ke e-mail Anda, lalu bergabung."
    message_en = "Verify your e-mail first: open the link we sent to your e-mail, then join."


class AbilityTestRequired(JoinRefused):
    code = "ability_test_required"
    message = "Selesaikan tes kemampuan dasar dan motivasi gelombang ini sebelum bergabung."
    message_en = "Finish this wave's basic ability and motivation test before joining."


class NotEligible(JoinRefused):
    """``details["reasons"]``: the stored decision's reason codes; ``details["decision_id"]``: its id."""

    code = "not_eligible"
    message = "Anda belum memenuhi syarat untuk bergabung pada gelombang ini."
    message_en = "You do not meet the conditions to join this wave."


class InvalidTiers(ValidationFailed):
    code = "invalid_tiers"
    message = "Daftar prioritas tidak valid; tidak ada yang diubah."
    message_en = "The priority tiers are not valid; nothing was changed."


class TiersFrozen(Conflict):
    code = "tiers_frozen"
    message = "Prioritas hanya dapat diubah sebelum gelombang ditutup (dan tidak setelah komitmen undian)."
    message_en = "Priority tiers can change only before the wave closes (never after the lottery commitment)."


class InvalidRegionList(ValidationFailed):
    code = "invalid_region_list"
    message = "Daftar wilayah tidak valid; tidak ada yang disimpan."
    message_en = "The region list is not valid; nothing was saved."


class RegionListExists(Conflict):
    code = "region_list_exists"
    message = "Sudah ada daftar wilayah dengan nama ini. Daftar tidak diubah; impor perbaikan dengan nama baru."
    message_en = "A region list with this name exists. Lists are never edited: import a correction under a new name."

"""The catalogue's refusals: each a stable code with its HTTP status and words in Indonesian and English."""

from prakerja.kit.errors import Conflict, DomainError, NotFound, ValidationFailed


class CourseNotFound(NotFound):
    code = "course_not_found"
    message = "Pelatihan tidak ditemukan."
    message_en = "Course not found."


class CourseInvalid(ValidationFailed):
    code = "course_invalid"
    message = "Data pelatihan tidak valid."
    message_en = "The course data is not valid."


class CourseNotApproved(ValidationFailed):
    code = "course_not_approved"
    message = "Pelatihan belum disetujui kurasi."
    message_en = "The course is not approved."


class ListingPriceAboveCurated(ValidationFailed):
    code = "listing_price_above_curated"
    message = "Harga melebihi harga hasil kurasi."
    message_en = "The price is above the curated price."


class PartnerNotInRole(ValidationFailed):
    code = "partner_role_mismatch"
    message = "Mitra ini tidak memiliki peran yang diperlukan."
    message_en = "This partner does not have the required role."


class PartnerUnknown(NotFound):
    code = "partner_not_found"
    message = "Mitra tidak ditemukan."
    message_en = "Partner not found."


class CurationStateConflict(Conflict):
    code = "curation_state"
    message = "Pelatihan ini tidak sedang menunggu kurasi, atau sudah berubah sejak halaman dibuka."
    message_en = "This course is not awaiting curation, or it changed since the page was opened."


class ChecksFailed(ValidationFailed):
    code = "curation_checks_failed"
    message = "Pelatihan yang tidak lolos pemeriksaan otomatis tidak dapat disetujui."
    message_en = "A course that fails the automatic checks cannot be approved."


class ReasonRequired(ValidationFailed):
    code = "curation_reason_required"
    message = "Pilih minimal satu alasan atau tulis catatan."
    message_en = "Choose at least one reason or write a note."


class DecisionInvalid(ValidationFailed):
    code = "curation_decision_invalid"
    message = "Keputusan atau alasan tidak dikenal."
    message_en = "Unknown decision or reason."


class LinkInvalid(ValidationFailed):
    code = "partner_link_invalid"
    message = "Tautan mitra tidak valid: pilih satu platform, satu lembaga, jenis tautan dan buktinya."
    message_en = "Invalid partner link: choose one platform, one institution, the kind of link and its evidence."


class LinkExists(Conflict):
    code = "partner_link_exists"
    message = "Tautan ini sudah tercatat."
    message_en = "This link is already recorded."


class LinkNotFound(NotFound):
    code = "partner_link_not_found"
    message = "Tautan mitra tidak ditemukan."
    message_en = "Partner link not found."


class NoSchemeInForce(DomainError):
    status_code = 409
    code = "no_scheme_in_force"
    message = "Tidak ada skema yang berlaku hari ini."
    message_en = "No scheme is in force today."

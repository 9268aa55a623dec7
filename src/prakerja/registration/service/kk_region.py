"""The KK's region against the KTP address's: a disagreement is an integrity flag for review, not a refusal.

Why not a refusal: the KTP address is printed from the KK, so the two agree for almost everybody, but a regency
split off after the card was issued keeps the parent's code on it, and a family that moved may not have a
re-issued card yet. The civil registry's ``nik_kk_mismatch`` answer remains the authoritative check of the pair.

Which region is the KTP address's: the wizard's address step asks the KTP address's district (and whether the
domicile is the same), stored as ``ktp_district``/``ktp_regency``; the comparison uses that regency, never the
domicile's, so a KK and domicile from one regency with a KTP address in another is flagged. Profiles saved
before the KTP district was asked have it empty: for them the domicile's regency stands in when the domicile
address is the KTP address, and otherwise no comparison is made."""

from __future__ import annotations

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.registration import repository
from prakerja.registration.models import Applicant
from prakerja.registration.service import checks

FLAG = "kk_region_mismatch"


def ktp_regency(applicant: Applicant) -> str | None:
    if applicant.ktp_regency:
        return applicant.ktp_regency
    if not applicant.domicile_regency or not applicant.ktp_address:
        return None
    if (applicant.domicile_address or applicant.ktp_address) != applicant.ktp_address:
        return None
    return applicant.domicile_regency


def review(session: Session, applicant: Applicant) -> bool:
    """Raise (or refresh) the flag when the KK's region and the KTP regency disagree; withdraw an unreviewed
    flag when they agree or the KTP regency is no longer known. Returns whether the applicant is flagged."""
    regency = ktp_regency(applicant)
    problems = checks.kk_region_problems(kk=applicant.kk or "", ktp_regency=regency) if applicant.kk else []
    if not problems:
        repository.withdraw_open_flag(session, applicant.id, FLAG)
        return False
    problem = problems[0]
    kk = checks.digits(applicant.kk or "")
    detail: dict[str, object] = {
        "field": problem.field,
        "kk_regency": kk[:4],
        "ktp_regency": regency,
        "same_province": kk[:2] == (regency or "")[:2],
        "message_id": problem.message_id,
        "message_en": problem.message_en,
    }
    repository.raise_flag(session, applicant.id, FLAG, detail=detail, now=utcnow())
    return True

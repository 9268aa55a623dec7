"""Applicant profile, NIK/KK checks, civil-registry verification, exclusion lists, ability test, integrity flags."""

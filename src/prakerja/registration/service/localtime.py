"""Times shown to an applicant in their own zone (WIB, WITA or WIT, from the province they live in)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from prakerja.registration import repository
from prakerja.registration.rules import regions


def zone_for_account(session: Session, account_id: uuid.UUID) -> str:
    """``WIB``, ``WITA`` or ``WIT``: the domicile's zone, else the KTP address's, else WIB."""
    applicant = repository.applicant_by_account(session, account_id)
    if applicant is None:
        return "WIB"
    return regions.time_zone_of(applicant.domicile_province or applicant.ktp_province)


def local(moment: datetime, zone: str) -> str:
    """``"14:35 WITA, 02-03-2026"``: the moment in the named zone, with the zone's name."""
    shown = moment.astimezone(ZoneInfo(regions.TIME_ZONES.get(zone, "Asia/Jakarta")))
    return f"{shown:%H:%M} {zone if zone in regions.TIME_ZONES else 'WIB'}, {shown:%d-%m-%Y}"

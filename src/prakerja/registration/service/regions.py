"""Region codes for other domains (wave quotas): the current Kemendagri list, no retired codes."""

from __future__ import annotations

from prakerja.registration.rules import regions


def region_exists(code: str) -> bool:
    """A 2-digit province or 4-digit regency/city code in the current list (quotas are set on current codes)."""
    if len(code) == 2:
        return regions.province(code) is not None
    if len(code) == 4:
        return regions.regency(code) is not None
    return False

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


def province_name(code: str) -> str | None:
    """The current province's name (``"51"`` -> ``"Bali"``), None for an unknown code."""
    found = regions.province(code) if len(code) == 2 else None
    return found.name if found is not None else None


def province_names() -> dict[str, str]:
    """Every current province: code -> name, in code order."""
    return {r.code: r.name for r in regions.all_provinces()}


def region_name(code: str) -> str | None:
    """The official name of a province, regency/city or district code (a retired code's old name too), for pages
    that show codes to people."""
    lookup = {2: regions.province, 4: regions.regency, 6: regions.district}.get(len(code))
    found = lookup(code, include_retired=True) if lookup is not None else None
    return found.name if found is not None else None

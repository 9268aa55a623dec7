"""Pure wave rules: state moves, stratum codes, priority tiers, quota files and formulas. No I/O."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from prakerja.waves.models import StratumLevel, WaveState

ORDER = [
    WaveState.draft,
    WaveState.open,
    WaveState.closed,
    WaveState.committed,
    WaveState.drawn,
    WaveState.announced,
]

QUOTAS_EDITABLE = frozenset({WaveState.draft, WaveState.open, WaveState.closed})
"""After the commitment the quotas are part of a signed, published document."""

_PROVINCE = re.compile(r"^[1-9][0-9]$")
_REGENCY = re.compile(r"^[1-9][0-9][0-9]{2}$")


def can_move(current: WaveState, target: WaveState) -> bool:
    """Only one step forward at a time."""
    return ORDER.index(target) == ORDER.index(current) + 1


def stratum_of(level: StratumLevel, regency: str) -> str:
    """A regency code ``3201`` is stratum ``3201`` at regency level, ``32`` at province level."""
    return regency[:2] if level is StratumLevel.province else regency


def code_shape_ok(level: StratumLevel, code: str) -> bool:
    return bool((_PROVINCE if level is StratumLevel.province else _REGENCY).match(code))


# ---------------------------------------------------------------------------------------------- priority tiers


@dataclass(frozen=True)
class Tier:
    """A priority group. An entry is in the first tier it matches; entries matching none are last."""

    name: str
    whitelist_types: frozenset[str] = frozenset()
    """E.g. ``laid_off`` (the labour ministry's list of laid-off workers)."""
    regencies: frozenset[str] = frozenset()
    """E.g. the extreme-poverty regencies; configured per wave (no official list ships with the program)."""

    def matches(self, whitelist: set[str] | frozenset[str], regency: str) -> bool:
        return bool(self.whitelist_types & whitelist) or regency in self.regencies

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "whitelist_types": sorted(self.whitelist_types),
            "regencies": sorted(self.regencies),
        }


def tiers_from_json(data: Iterable[Mapping[str, Any]]) -> list[Tier]:
    return [
        Tier(
            name=str(item.get("name", "")),
            whitelist_types=frozenset(str(t) for t in item.get("whitelist_types", [])),
            regencies=frozenset(str(r) for r in item.get("regencies", [])),
        )
        for item in data
    ]


def tier_of(tiers: list[Tier], whitelist: set[str] | frozenset[str], regency: str) -> int:
    """0 is the highest priority; with no tiers defined everybody is tier 0."""
    for index, tier in enumerate(tiers):
        if tier.matches(whitelist, regency):
            return index
    return len(tiers)


# ---------------------------------------------------------------------------------------------- quotas


@dataclass
class QuotaProblem:
    """One thing wrong with a quota table, with the line (1-based, header is line 1) when from a file."""

    code: str
    stratum: str
    message_en: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "stratum": self.stratum, "line": self.line, "problem": self.message_en}


@dataclass
class QuotaTable:
    quotas: dict[str, int] = field(default_factory=dict)
    problems: list[QuotaProblem] = field(default_factory=list)


def parse_quota_csv(content: str) -> QuotaTable:
    """``stratum,quota`` per line (header required). Every bad line is reported, not only the first."""
    table = QuotaTable()
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    rows = list(reader)
    if not rows or [c.strip().lower() for c in rows[0]] != ["stratum", "quota"]:
        table.problems.append(QuotaProblem("quota_bad_header", "", "the first line must be 'stratum,quota'", 1))
        return table
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            table.problems.append(QuotaProblem("quota_bad_line", "", "expected two columns", number))
            continue
        code, raw = row[0].strip(), row[1].strip()
        if code in table.quotas:
            table.problems.append(QuotaProblem("quota_duplicate", code, "stratum listed twice", number))
            continue
        if not re.fullmatch(r"-?[0-9]+", raw):
            table.problems.append(QuotaProblem("quota_not_integer", code, "quota must be a whole number", number))
            continue
        value = int(raw)
        if value < 0:
            table.problems.append(QuotaProblem("quota_negative", code, "quota must not be negative", number))
            continue
        table.quotas[code] = value
    return table


def validate_quotas(
    quotas: Mapping[str, int],
    *,
    level: StratumLevel,
    total: int,
    known: Callable[[str], bool] | None,
    provinces: Iterable[str] = (),
) -> list[QuotaProblem]:
    """Codes of the right shape that exist (``known``) and lie in the wave's provinces; no negative quota;
    the stratum quotas add up to the wave's total quota."""
    scope = set(provinces)
    problems: list[QuotaProblem] = []
    for code, value in sorted(quotas.items()):
        if value < 0:
            problems.append(QuotaProblem("quota_negative", code, "quota must not be negative"))
        if not code_shape_ok(level, code) or (known is not None and not known(code)):
            problems.append(QuotaProblem("quota_unknown_region", code, f"{code!r} is not a known {level.value} code"))
        elif scope and code[:2] not in scope:
            problems.append(QuotaProblem("quota_outside_wave", code, f"{code!r} is outside the wave's provinces"))
    if not problems and sum(quotas.values()) != total:
        problems.append(
            QuotaProblem(
                "quota_sum_mismatch",
                "",
                f"stratum quotas add up to {sum(quotas.values())}, the wave's total quota is {total}",
            )
        )
    return problems


def apportion(total: int, weights: Mapping[str, Fraction | int]) -> dict[str, int]:
    """Largest-remainder (Hamilton) apportionment of ``total`` places by weight; exact, sums to ``total``.
    Ties in the remainder go to the smaller stratum code, so the result is reproducible."""
    if total < 0:
        raise ValueError("total must not be negative")
    clean = {code: Fraction(w) for code, w in weights.items()}
    if any(w < 0 for w in clean.values()):
        raise ValueError("weights must not be negative")
    whole = sum(clean.values(), Fraction(0))
    if whole == 0:
        return dict.fromkeys(clean, 0)
    shares = {code: total * w / whole for code, w in clean.items()}
    result = {code: int(share) for code, share in shares.items()}
    left = total - sum(result.values())
    by_remainder = sorted(clean, key=lambda c: (-(shares[c] - result[c]), c))
    for code in by_remainder[:left]:
        result[code] += 1
    return result


def quotas_by_applicants(total: int, applicants: Mapping[str, int]) -> dict[str, int]:
    """Each stratum's share of places equals its share of applicants."""
    return apportion(total, dict(applicants.items()))


def parse_labour_force_csv(content: str) -> tuple[dict[str, Fraction], list[QuotaProblem]]:
    """``stratum,labour_force[,weight]``: share = labour force x weight (weight default 1, may be a decimal)."""
    problems: list[QuotaProblem] = []
    weights: dict[str, Fraction] = {}
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if header not in (["stratum", "labour_force"], ["stratum", "labour_force", "weight"]):
        problems.append(
            QuotaProblem("quota_bad_header", "", "the first line must be 'stratum,labour_force[,weight]'", 1)
        )
        return weights, problems
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            problems.append(QuotaProblem("quota_bad_line", "", f"expected {len(header)} columns", number))
            continue
        code = row[0].strip()
        try:
            force = int(row[1].strip())
            weight = Fraction(row[2].strip()) if len(row) == 3 else Fraction(1)
        except (ValueError, ZeroDivisionError):
            problems.append(QuotaProblem("quota_not_integer", code, "labour force and weight must be numbers", number))
            continue
        if force < 0 or weight < 0:
            problems.append(
                QuotaProblem("quota_negative", code, "labour force and weight must not be negative", number)
            )
            continue
        if code in weights:
            problems.append(QuotaProblem("quota_duplicate", code, "stratum listed twice", number))
            continue
        weights[code] = force * weight
    return weights, problems

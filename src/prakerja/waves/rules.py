"""Pure wave rules: state moves, stratum codes, priority tiers, quota files and formulas. No I/O."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
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
class FrozenRegionList:
    """A named region list as a wave froze it when its tiers were set: the codes and where they came from."""

    name: str
    source: str
    as_of: str
    """ISO date."""
    codes_sha256: str
    codes: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "as_of": self.as_of,
            "codes_sha256": self.codes_sha256,
            "codes": sorted(self.codes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FrozenRegionList:
        return cls(
            name=str(data.get("name", "")),
            source=str(data.get("source", "")),
            as_of=str(data.get("as_of", "")),
            codes_sha256=str(data.get("codes_sha256", "")),
            codes=frozenset(str(c) for c in data.get("codes", [])),
        )


def codes_sha256(codes: Iterable[str]) -> str:
    """SHA-256 of the sorted codes joined by newlines (how a region list's content is named)."""
    return hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()


@dataclass(frozen=True)
class Tier:
    """A priority group. An entry is in the first tier it matches; entries matching none are last."""

    name: str
    whitelist_types: frozenset[str] = frozenset()
    """E.g. ``laid_off`` (the labour ministry's list of laid-off workers)."""
    regencies: frozenset[str] = frozenset()
    """Regency codes given directly for this wave."""
    region_list: FrozenRegionList | None = None
    """A named region list (e.g. the extreme-poverty regencies of a decree), its codes frozen into the wave."""

    def matches(self, whitelist: set[str] | frozenset[str], regency: str) -> bool:
        return (
            bool(self.whitelist_types & whitelist)
            or regency in self.regencies
            or (self.region_list is not None and regency in self.region_list.codes)
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "whitelist_types": sorted(self.whitelist_types),
            "regencies": sorted(self.regencies),
        }
        if self.region_list is not None:
            data["region_list"] = self.region_list.to_json()
        return data


def tiers_from_json(data: Iterable[Mapping[str, Any]]) -> list[Tier]:
    """Tiers as stored in a wave (region lists already frozen)."""
    return [
        Tier(
            name=str(item.get("name", "")),
            whitelist_types=frozenset(str(t) for t in item.get("whitelist_types", [])),
            regencies=frozenset(str(r) for r in item.get("regencies", [])),
            region_list=FrozenRegionList.from_json(item["region_list"])
            if isinstance(item.get("region_list"), Mapping)
            else None,
        )
        for item in data
    ]


MAX_TIERS = 20
_HEADERS = frozenset({"code", "kode", "kode_wilayah", "kode wilayah", "regency", "kabupaten", "kab_kota", "id"})
_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass
class FieldProblem:
    """One thing wrong with a form or file, named by field (and line when from a file) with a stable code."""

    field: str
    code: str
    problem: str
    value: str = ""
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"field": self.field, "code": self.code, "problem": self.problem}
        if self.value:
            found["value"] = self.value
        if self.line is not None:
            found["line"] = self.line
        return found


def check_regency_codes(
    codes: Iterable[tuple[str, int | None]], *, field: str, known: Callable[[str], bool] | None
) -> tuple[list[str], list[FieldProblem]]:
    """Regency codes (with their line, if any) of the right shape, known to the official list, each once."""
    seen: set[str] = set()
    good: list[str] = []
    problems: list[FieldProblem] = []
    for code, line in codes:
        if not code_shape_ok(StratumLevel.regency, code):
            problems.append(FieldProblem(field, "region_malformed", "not a 4-digit regency/city code", code, line))
        elif known is not None and not known(code):
            problems.append(
                FieldProblem(field, "region_unknown", "not in the official region list (Kemendagri)", code, line)
            )
        elif code in seen:
            problems.append(FieldProblem(field, "region_duplicate", "listed twice", code, line))
        else:
            seen.add(code)
            good.append(code)
    return sorted(good), problems


def parse_region_codes(content: str) -> list[tuple[str, int]]:
    """Codes with their line from pasted text or a CSV file: one code per line (``3201`` or Kemendagri's dotted
    ``32.01``), optionally followed by other columns (``3201,Kabupaten Bogor``), or several codes on a line
    separated by commas, semicolons or spaces. A header before the first code (``code``, ``kode``...) and ``#``
    comments are skipped."""
    found: list[tuple[str, int]] = []
    for number, raw in enumerate(content.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.search(r"[A-Za-z]", line):
            first = re.split(r"[,;\t]", line, maxsplit=1)[0].strip().strip('"')
            if not found and first.lower() in _HEADERS:
                continue
            tokens = [first]
        else:
            tokens = [t for t in re.split(r"[,;\s]+", line) if t]
        found.extend((token.strip('"').replace(".", ""), number) for token in tokens)
    return found


def parse_tiers(
    data: Any,
    *,
    known_region: Callable[[str], bool] | None,
    whitelist_types: Collection[str],
    region_lists: Mapping[str, FrozenRegionList],
) -> tuple[list[Tier], list[FieldProblem]]:
    """Validate ordered tiers ``[{"name", "whitelist_types": [...], "regencies": [...], "region_list": NAME}]``:
    a name, at least one criterion, known whitelist types, regency codes in the official list, region lists
    that exist (frozen from ``region_lists``). Every problem is named by field (``tiers[1].regencies``)."""
    problems: list[FieldProblem] = []
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        return [], [FieldProblem("tiers", "tiers_malformed", "a list of objects is expected")]
    if len(data) > MAX_TIERS:
        problems.append(FieldProblem("tiers", "tiers_too_many", f"at most {MAX_TIERS} tiers"))
    tiers: list[Tier] = []
    names: set[str] = set()
    for index, item in enumerate(data):
        at = f"tiers[{index}]"
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 100:
            problems.append(FieldProblem(f"{at}.name", "tier_name_missing", "a name of 1 to 100 characters"))
        elif name in names:
            problems.append(FieldProblem(f"{at}.name", "tier_name_duplicate", "two tiers with the same name", name))
        names.add(name)
        types_raw = item.get("whitelist_types") or []
        types = [str(t).strip() for t in types_raw] if isinstance(types_raw, list) else []
        for t in types:
            if t not in whitelist_types:
                problems.append(FieldProblem(f"{at}.whitelist_types", "whitelist_unknown", "unknown list type", t))
        codes_raw = item.get("regencies") or []
        codes_in = [(str(c).strip(), None) for c in codes_raw] if isinstance(codes_raw, list) else []
        codes, bad = check_regency_codes(codes_in, field=f"{at}.regencies", known=known_region)
        problems.extend(bad)
        wanted = item.get("region_list")
        list_name = str(wanted.get("name", "") if isinstance(wanted, Mapping) else (wanted or "")).strip()
        frozen = region_lists.get(list_name) if list_name else None
        if list_name and frozen is None:
            problems.append(
                FieldProblem(f"{at}.region_list", "region_list_unknown", "no region list by that name", list_name)
            )
        if name and not (types or codes_in or list_name):
            problems.append(
                FieldProblem(at, "tier_empty", "a tier needs a whitelist type, regency codes or a region list", name)
            )
        tiers.append(Tier(name, frozenset(types), frozenset(codes), frozen))
    return (tiers, problems) if not problems else ([], problems)


def check_region_list(name: str, source: str, as_of: date | None, today: date) -> list[FieldProblem]:
    """A region list's name (a slug used in tiers), source and as-of date (not in the future)."""
    problems = []
    if not _LIST_NAME.match(name):
        problems.append(FieldProblem("name", "region_list_name", "2-64 lowercase letters, digits and hyphens", name))
    if not source.strip() or len(source) > 500:
        problems.append(FieldProblem("source", "region_list_source", "the regulation or document, 1-500 characters"))
    if as_of is None:
        problems.append(FieldProblem("as_of", "region_list_as_of", "a date (YYYY-MM-DD)"))
    elif as_of > today:
        problems.append(FieldProblem("as_of", "region_list_as_of", "must not be in the future", as_of.isoformat()))
    return problems


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

"""The eligibility engine: plain facts about one applicant + a scheme's parameters -> a decision. Pure: no I/O.

Every rule is evaluated every time (no short-circuit), so a decision lists all the reasons at once, and
:func:`evaluate` records, for the audit, the scheme and rule versions and a hash of exactly what it saw.

Rules, what makes each fail, and its reason code(s):

- ``age``: the age on the wave's date, in whole years, is below ``age_min`` (``age_below_min``) or above
  ``age_max`` (``age_above_max``). 18+ in waves 1-17, 18-64 from wave 18.
- ``citizenship``: not an Indonesian citizen, WNI (``not_citizen``).
- ``not_student``: declared in formal education, or on a ministry's student list (``student``).
- ``not_banned``: on a list of state officials, DPR/DPRD members, civil servants (ASN), TNI, Polri, village
  heads and officials, or BUMN/BUMD directors, commissioners and supervisors (``banned``).
- ``other_aid``: the scheme excludes other aid (2021-2022) and the NIK is on the DTKS, BSU or BPUM list
  (``other_aid``).
- ``kk_cap``: the family card (KK) already has ``kk_cap`` recipients (``kk_cap_reached``); 2 from 2021.
- ``once_per_lifetime``: membership was revoked (``revoked``) or a past recipient (``past_recipient``);
  every scheme.

A rule that passes has reason code ``ok``; one that the scheme switches off (no KK cap, other aid
allowed) has ``not_applicable``. (No upper age limit is an age rule that passes: ``ok``.)

**Age.** ``age = wave year - birth year``, minus one if the wave's date falls before the birthday in that
year. Someone born on 29 February has their birthday on 1 March in years without 29 February, so they turn
18 on 1 March, never on 28 February. ``age_max=64`` means eligible up to and including the day before the
65th birthday.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import rfc8785

RULES_VERSION: Final = "eligibility-rules/1"
"""The version of this module's logic; bump it when a rule's meaning changes. Part of every decision's hash."""

BANNED_LISTS: Final = frozenset({"asn", "tni", "polri", "state_official", "dprd", "village_official", "bumn_board"})
"""Exclusion lists of people who may never join: civil servants, army, police, state officials, DPR/DPRD
members, village heads and officials, directors/commissioners/supervisors of BUMN/BUMD."""
OTHER_AID_LISTS: Final = frozenset({"other_aid_dtks", "other_aid_bsu", "other_aid_bpum"})
"""Recipients of other aid: the DTKS social registry, the BSU wage subsidy, BPUM micro-business aid."""
STUDENT_LISTS: Final = frozenset({"student"})
LIFETIME_LISTS: Final = frozenset({"past_recipient", "revoked"})
LIST_TYPES: Final = BANNED_LISTS | OTHER_AID_LISTS | STUDENT_LISTS | LIFETIME_LISTS
"""Every exclusion list type the engine knows. An unknown type is refused, never silently ignored."""

RULES: Final = ("age", "citizenship", "not_student", "not_banned", "other_aid", "kk_cap", "once_per_lifetime")
"""The rules, in the order of :attr:`Decision.checks`."""

_BANNED_NAMES: Final[dict[str, tuple[str, str]]] = {
    "state_official": ("pejabat negara", "state official"),
    "dprd": ("anggota DPR/DPRD", "member of the DPR/DPRD"),
    "asn": ("Aparatur Sipil Negara (ASN)", "civil servant (ASN)"),
    "tni": ("anggota TNI", "member of the armed forces (TNI)"),
    "polri": ("anggota Polri", "member of the police (Polri)"),
    "village_official": ("kepala desa atau perangkat desa", "village head or village official"),
    "bumn_board": (
        "direksi, komisaris atau dewan pengawas BUMN/BUMD",
        "director, commissioner or supervisor of a state or regional enterprise (BUMN/BUMD)",
    ),
}


@dataclass(frozen=True, slots=True)
class EligibilityParams:
    """The eligibility parameters of one scheme (and wave). The scheme files are mapped onto this."""

    scheme_name: str
    """E.g. ``2023-normal``."""
    scheme_version: str
    """E.g. ``2023.1``."""
    age_min: int
    age_max: int | None
    """Inclusive upper age limit; None means no upper limit (waves 1-17)."""
    kk_cap: int | None
    """At most this many recipients per family card; None means no cap (2020)."""
    exclude_other_aid: bool
    """True in 2021-2022: recipients of DTKS, BSU or BPUM aid may not join."""

    def __post_init__(self) -> None:
        if self.age_min < 0 or (self.age_max is not None and self.age_max < self.age_min):
            raise ValueError("age_min must be >= 0 and age_max, when set, >= age_min")
        if self.kk_cap is not None and self.kk_cap < 1:
            raise ValueError("kk_cap, when set, must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme_name": self.scheme_name,
            "scheme_version": self.scheme_version,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "kk_cap": self.kk_cap,
            "exclude_other_aid": self.exclude_other_aid,
        }


@dataclass(frozen=True, slots=True)
class ApplicantFacts:
    """What is known about one applicant when the rules run (gathered by the service from the profile, the
    civil registry and the exclusion lists). Holds no identifier: the decision is about these facts only."""

    birth_date: date
    wave_date: date
    """The date the age is computed on: the wave's reference date."""
    citizen: bool
    is_student: bool
    """Declared by the applicant; a student list match is in ``exclusion_lists``."""
    exclusion_lists: AbstractSet[str]
    """The list types the NIK appears on, from :data:`LIST_TYPES` (stored as a frozenset)."""
    kk_existing_recipients: int
    """Recipients on the same family card, not counting this applicant."""
    is_past_recipient: bool
    is_revoked: bool

    def __post_init__(self) -> None:
        if not isinstance(self.exclusion_lists, frozenset):
            # Callers naturally pass a set or a list; keep the frozen promise without making them convert.
            object.__setattr__(self, "exclusion_lists", frozenset(self.exclusion_lists))
        unknown = sorted(self.exclusion_lists - LIST_TYPES)
        if unknown:
            raise ValueError(f"unknown exclusion list types: {', '.join(unknown)}")
        if self.kk_existing_recipients < 0:
            raise ValueError("kk_existing_recipients must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "birth_date": self.birth_date.isoformat(),
            "wave_date": self.wave_date.isoformat(),
            "citizen": self.citizen,
            "is_student": self.is_student,
            "exclusion_lists": sorted(self.exclusion_lists),
            "kk_existing_recipients": self.kk_existing_recipients,
            "is_past_recipient": self.is_past_recipient,
            "is_revoked": self.is_revoked,
        }


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """The outcome of one rule."""

    rule: str
    """One of :data:`RULES`."""
    passed: bool
    reason_code: str
    """``ok``, ``not_applicable``, or the stable code of the failure (see the module docstring)."""
    message_id: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "reason_code": self.reason_code,
            "message_id": self.message_id,
            "message_en": self.message_en,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of :func:`evaluate`, stored as is for the audit."""

    eligible: bool
    """True when every check passed."""
    checks: list[RuleCheck]
    """One check per rule, in the order of :data:`RULES`."""
    scheme_version: str
    """``scheme_name@scheme_version``, e.g. ``2023-normal@2023.1``."""
    inputs_hash: str
    """Hex SHA-256 of :func:`canonical_inputs`."""
    rules_version: str = RULES_VERSION

    @property
    def reason_codes(self) -> list[str]:
        """The codes of the failed checks, in rule order (empty when eligible)."""
        return [check.reason_code for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "checks": [check.to_dict() for check in self.checks],
            "scheme_version": self.scheme_version,
            "inputs_hash": self.inputs_hash,
            "rules_version": self.rules_version,
        }


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years on a day (birthday logic; 29 February birthdays fall on 1 March in other years)."""
    return on.year - birth_date.year - int((on.month, on.day) < (birth_date.month, birth_date.day))


def canonical_inputs(facts: ApplicantFacts, params: EligibilityParams) -> bytes:
    """RFC 8785 canonical JSON of the facts, the parameters and :data:`RULES_VERSION`: the same bytes in any
    process, on any machine, so an auditor can recompute :attr:`Decision.inputs_hash`."""
    return rfc8785.dumps({"facts": facts.to_dict(), "params": params.to_dict(), "rules_version": RULES_VERSION})


def _pass(rule: str) -> RuleCheck:
    return RuleCheck(rule, True, "ok", "Memenuhi syarat.", "Requirement met.")


def _not_applicable(rule: str, message_id: str, message_en: str) -> RuleCheck:
    return RuleCheck(rule, True, "not_applicable", message_id, message_en)


def _age(facts: ApplicantFacts, params: EligibilityParams) -> RuleCheck:
    age = age_on(facts.birth_date, facts.wave_date)
    if age < params.age_min:
        return RuleCheck(
            "age",
            False,
            "age_below_min",
            f"Usia pada tanggal gelombang kurang dari {params.age_min} tahun.",
            f"Younger than {params.age_min} on the wave's date.",
        )
    if params.age_max is not None and age > params.age_max:
        return RuleCheck(
            "age",
            False,
            "age_above_max",
            f"Usia pada tanggal gelombang lebih dari {params.age_max} tahun.",
            f"Older than {params.age_max} on the wave's date.",
        )
    return _pass("age")


def _citizenship(facts: ApplicantFacts) -> RuleCheck:
    if not facts.citizen:
        return RuleCheck(
            "citizenship", False, "not_citizen", "Bukan Warga Negara Indonesia.", "Not an Indonesian citizen."
        )
    return _pass("citizenship")


def _not_student(facts: ApplicantFacts) -> RuleCheck:
    if facts.is_student or facts.exclusion_lists & STUDENT_LISTS:
        return RuleCheck(
            "not_student",
            False,
            "student",
            "Sedang menempuh pendidikan formal (sekolah atau kuliah).",
            "Currently in formal education (school or university).",
        )
    return _pass("not_student")


def _join(names: Iterable[str]) -> str:
    return ", ".join(names)


def _not_banned(facts: ApplicantFacts) -> RuleCheck:
    hits = [list_type for list_type in _BANNED_NAMES if list_type in facts.exclusion_lists]
    if hits:
        return RuleCheck(
            "not_banned",
            False,
            "banned",
            f"Terdaftar sebagai {_join(_BANNED_NAMES[h][0] for h in hits)}.",
            f"Listed as {_join(_BANNED_NAMES[h][1] for h in hits)}.",
        )
    return _pass("not_banned")


def _other_aid(facts: ApplicantFacts, params: EligibilityParams) -> RuleCheck:
    if not params.exclude_other_aid:
        return _not_applicable(
            "other_aid",
            "Penerima bantuan sosial lain boleh ikut pada skema ini.",
            "Recipients of other aid may join under this scheme.",
        )
    if facts.exclusion_lists & OTHER_AID_LISTS:
        return RuleCheck(
            "other_aid",
            False,
            "other_aid",
            "Penerima bantuan sosial lain (DTKS, BSU atau BPUM).",
            "Receives other government aid (DTKS, BSU or BPUM).",
        )
    return _pass("other_aid")


def _kk_cap(facts: ApplicantFacts, params: EligibilityParams) -> RuleCheck:
    if params.kk_cap is None:
        return _not_applicable("kk_cap", "Tidak ada batas penerima per KK.", "No limit of recipients per family card.")
    if facts.kk_existing_recipients >= params.kk_cap:
        return RuleCheck(
            "kk_cap",
            False,
            "kk_cap_reached",
            f"Sudah ada {params.kk_cap} penerima dalam satu Kartu Keluarga.",
            f"The family card (KK) already has {params.kk_cap} recipients.",
        )
    return _pass("kk_cap")


def _once_per_lifetime(facts: ApplicantFacts) -> RuleCheck:
    if facts.is_revoked or "revoked" in facts.exclusion_lists:
        return RuleCheck(
            "once_per_lifetime",
            False,
            "revoked",
            "Kepesertaan pernah dicabut; tidak dapat mendaftar lagi.",
            "Membership was revoked; cannot join again.",
        )
    if facts.is_past_recipient or "past_recipient" in facts.exclusion_lists:
        return RuleCheck(
            "once_per_lifetime",
            False,
            "past_recipient",
            "Sudah pernah menerima Kartu Prakerja; hanya sekali seumur hidup.",
            "Has received Kartu Prakerja before; once per lifetime.",
        )
    return _pass("once_per_lifetime")


def evaluate(facts: ApplicantFacts, params: EligibilityParams) -> Decision:
    """Runs every rule and returns the decision with its audit data."""
    checks = [
        _age(facts, params),
        _citizenship(facts),
        _not_student(facts),
        _not_banned(facts),
        _other_aid(facts, params),
        _kk_cap(facts, params),
        _once_per_lifetime(facts),
    ]
    return Decision(
        eligible=all(check.passed for check in checks),
        checks=checks,
        scheme_version=f"{params.scheme_name}@{params.scheme_version}",
        inputs_hash=hashlib.sha256(canonical_inputs(facts, params)).hexdigest(),
    )

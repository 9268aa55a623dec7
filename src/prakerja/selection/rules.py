"""Pure selection rules: the chi-square test (with its own regularised gamma, no SciPy needed), the fairness
report, card numbers and the ledger transfer id. No I/O."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

FAIRNESS_ALPHA = 0.001
"""Publishing is refused when the independence test's p-value is below this (one false alarm per 1,000 draws,
which an officer can override with a recorded reason)."""

MIN_EXPECTED = 5.0
"""Cochran's rule: a (stratum, tier) group enters the chi-square only if every expected count is at least 5."""

TIME_BUCKETS = 4
"""Registration time is cut into quartiles within each (stratum, tier) group."""


# ---------------------------------------------------------------------------------------------- gamma and chi-square


def regularised_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a), the upper regularised incomplete gamma function (a > 0, x >= 0).
    Series for x < a + 1, Lentz's continued fraction otherwise (Numerical Recipes 6.2)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x < 0:
        raise ValueError("x must not be negative")
    if x == 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-square variable with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be positive")
    return regularised_gamma_q(df / 2.0, max(statistic, 0.0) / 2.0)


@dataclass
class IndependenceTest:
    statistic: float = 0.0
    df: int = 0
    groups_tested: int = 0
    groups_skipped: int = 0

    @property
    def p_value(self) -> float | None:
        return chi_square_sf(self.statistic, self.df) if self.df > 0 else None


def independence(groups: Mapping[Any, Iterable[tuple[int, int]]]) -> IndependenceTest:
    """Selection vs registration-time bucket, within groups (stratum, tier): each group's 2 x k contingency
    table is ``[(entries, selected) per bucket]``; the groups' statistics and degrees of freedom are summed.
    Groups where nobody or everybody was selected carry no information; groups with an expected count below
    :data:`MIN_EXPECTED` are skipped (counted)."""
    test = IndependenceTest()
    for buckets in groups.values():
        cells = [(n, s) for n, s in buckets if n > 0]
        total = sum(n for n, _ in cells)
        chosen = sum(s for _, s in cells)
        if len(cells) < 2 or chosen == 0 or chosen == total:
            continue
        rate = chosen / total
        expected = [(n * rate, n * (1 - rate)) for n, _ in cells]
        if min(min(e) for e in expected) < MIN_EXPECTED:
            test.groups_skipped += 1
            continue
        for (n, s), (e_sel, e_not) in zip(cells, expected, strict=True):
            test.statistic += (s - e_sel) ** 2 / e_sel + ((n - s) - e_not) ** 2 / e_not
        test.df += len(cells) - 1
        test.groups_tested += 1
    return test


# ---------------------------------------------------------------------------------------------- fairness report


@dataclass
class FairnessReport:
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c["passed"] for c in self.checks)

    def failed(self) -> list[str]:
        return [c["check"] for c in self.checks if not c["passed"]]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks}


def fairness_report(
    *,
    quotas: Mapping[str, int],
    eligible_per_stratum: Mapping[str, int],
    selected_per_stratum: Mapping[str, int],
    time_groups: Mapping[Any, Iterable[tuple[int, int]]],
    duplicate_people: int,
    already_recipients: int,
    alpha: float = FAIRNESS_ALPHA,
) -> FairnessReport:
    report = FairnessReport()
    wrong = []
    for code in sorted(set(eligible_per_stratum) | set(selected_per_stratum)):
        expected = min(quotas.get(code, 0), eligible_per_stratum.get(code, 0))
        got = selected_per_stratum.get(code, 0)
        if got != expected:
            wrong.append({"stratum": code, "expected": expected, "selected": got})
    report.checks.append(
        {
            "check": "quota_filled",
            "passed": not wrong,
            "detail": "selected per stratum = min(quota, eligible)",
            "strata": len(set(eligible_per_stratum) | set(quotas)),
            "wrong": wrong[:50],
        }
    )
    test = independence(time_groups)
    p = test.p_value
    report.checks.append(
        {
            "check": "independent_of_registration_time",
            "passed": p is None or p >= alpha,
            "detail": "chi-square, selection vs registration-time quartile within (stratum, tier)",
            "statistic": round(test.statistic, 6),
            "df": test.df,
            "p_value": None if p is None else float(f"{p:.6g}"),
            "alpha": alpha,
            "groups_tested": test.groups_tested,
            "groups_skipped": test.groups_skipped,
        }
    )
    report.checks.append(
        {
            "check": "no_person_twice",
            "passed": duplicate_people == 0 and already_recipients == 0,
            "detail": "no applicant has two entries in the draw or was a recipient before",
            "duplicates": duplicate_people,
            "already_recipients": already_recipients,
        }
    )
    return report


# ---------------------------------------------------------------------------------------------- outcome helpers


FUNDING_NAMESPACE = uuid.UUID("6b1e2c0e-5d0f-5a52-9a39-7e1f0c6a4f10")


def funding_transfer_id(wave_id: str, entry_hash_hex: str) -> uuid.UUID:
    """Idempotency key of the training-balance transfer: the same wave and entry always give the same id."""
    return uuid.uuid5(FUNDING_NAMESPACE, f"prakerja/selection/funding/v1:{wave_id}:{entry_hash_hex}")


def probability_parts(text: str) -> tuple[int, int]:
    """Contract form ``1``, ``0`` or ``A/B`` -> (numerator, denominator), unreduced."""
    if "/" in text:
        a, b = text.split("/", 1)
        return int(a), int(b)
    return int(text), 1


GENERAL_CAUSES_ID = [
    "kuota di daerah Anda sudah terpenuhi melalui undian;",
    "data Anda tidak cocok dengan data kependudukan (Dukcapil): NIK, nomor KK, nama atau tanggal lahir;",
    "Anda tercatat sebagai pejabat negara, anggota DPR/DPRD, ASN, TNI, Polri, kepala atau perangkat desa, "
    "atau direksi/komisaris/dewan pengawas BUMN/BUMD;",
    "Anda sedang menempuh pendidikan formal;",
    "usia Anda di luar batas yang berlaku;",
    "sudah ada dua penerima Kartu Prakerja dalam Kartu Keluarga Anda;",
    "Anda penerima bantuan sosial lain yang dikecualikan pada skema ini.",
]
"""PROGRAM.md step 5: applicants are told only "not selected" and this general list of possible causes."""

GENERAL_CAUSES_EN = [
    "the quota for your region was filled by the lottery;",
    "your data did not match the civil registry (Dukcapil): NIK, family card number, name or birth date;",
    "you are listed as a state official, DPR/DPRD member, civil servant, TNI, Polri, village head or official, "
    "or a director/commissioner/supervisor of a state- or region-owned company;",
    "you are in formal education;",
    "your age is outside the limits in force;",
    "your family card already has two Kartu Prakerja recipients;",
    "you receive other social aid excluded under this scheme.",
]

GENERAL_CAUSES_SMS_ID = (
    "kuota daerah terpenuhi lewat undian; data tidak cocok dengan Dukcapil; tercatat pejabat/DPR/DPRD/ASN/TNI/"
    "Polri/perangkat desa/direksi BUMN-BUMD; sedang sekolah/kuliah; usia di luar batas; sudah 2 penerima dalam 1 "
    "KK; penerima bansos lain yang dikecualikan"
)
"""The same general causes, short enough for a (multi-part) SMS."""

GENERAL_CAUSES_SMS_EN = (
    "regional quota filled by the lottery; data not matching the civil registry; listed as official/civil servant/"
    "TNI/Polri/village official/state-company director; in education; age limits; 2 recipients already in the "
    "family card; excluded other aid"
)


# -------------------------------------------------------------------------------------- family-card cap in one draw


@dataclass(frozen=True)
class Seat:
    """A result holding (or waiting for) a place, with the blind index of the applicant's family card."""

    entry_hash: bytes
    stratum: str
    tier: int
    ticket: bytes
    kk: bytes | None
    """None when the applicant's profile could not be read (such an entry never counts against a cap)."""
    promoted: bool = False
    """Already moved up from the waitlist (by an officer's disqualification) before the cap is applied."""


def kk_cap_order(seat: Seat) -> tuple[bool, int, bytes, bytes]:
    """Who keeps a place when one family card has more selected members than its cap allows: the entries the
    draw selected before those promoted from a waitlist, then the contract's own ranking key (tier, ticket,
    entry hash; section 5) across strata. Anyone holding ``results.csv`` can recompute it."""
    return (seat.promoted, seat.tier, seat.ticket, seat.entry_hash)


@dataclass(frozen=True)
class KkCapChange:
    """One change the cap makes: a place-holder disqualified, a waitlisted entry passed over (its family card
    is full) or promoted in place of ``replaces``."""

    entry_hash: bytes
    stratum: str
    action: str
    """``disqualified``, ``passed_over`` or ``promoted``."""
    kk_count: int
    """Recipients the entry's family card had (earlier waves + places kept in this draw) when it was decided."""
    replaces: bytes | None = None


def plan_kk_cap(
    seats: Iterable[Seat],
    *,
    cap: int,
    existing: Mapping[bytes, int],
    waitlist: Callable[[str], Iterator[Seat]],
) -> list[KkCapChange]:
    """The changes that bring every family card within ``cap`` recipients, counting ``existing`` recipients of
    earlier waves. Place-holders are taken in :func:`kk_cap_order`; each one over the cap is disqualified and
    replaced by the first on its stratum's waitlist (``waitlist(stratum)`` yields it in rank order) whose family
    card still has room; waitlisted entries whose card is full are passed over. A stratum never gains a place:
    every promotion replaces one disqualification."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    counts = dict(existing)
    over: list[Seat] = []
    for seat in sorted(seats, key=kk_cap_order):
        if seat.kk is None:
            continue
        if counts.get(seat.kk, 0) >= cap:
            over.append(seat)
        else:
            counts[seat.kk] = counts.get(seat.kk, 0) + 1
    changes: list[KkCapChange] = []
    queues: dict[str, Iterator[Seat]] = {}
    for seat in over:
        assert seat.kk is not None
        changes.append(KkCapChange(seat.entry_hash, seat.stratum, "disqualified", counts[seat.kk]))
        queue = queues.setdefault(seat.stratum, waitlist(seat.stratum))
        for candidate in queue:
            have = counts.get(candidate.kk, 0) if candidate.kk is not None else 0
            if candidate.kk is not None and have >= cap:
                changes.append(KkCapChange(candidate.entry_hash, candidate.stratum, "passed_over", have))
                continue
            if candidate.kk is not None:
                counts[candidate.kk] = have + 1
            changes.append(
                KkCapChange(candidate.entry_hash, candidate.stratum, "promoted", have, replaces=seat.entry_hash)
            )
            break
    return changes

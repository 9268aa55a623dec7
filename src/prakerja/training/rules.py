"""Pure decisions of the marketplace: masking, the first-purchase deadline, the redeem window, the order of
completion refusals, what sends a completion to review, refund shares and commissions. No I/O, no session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

OTP_TTL = timedelta(minutes=5)
"""How long a one-time code is valid."""
OTP_MAX_WRONG = 5
"""The fifth wrong code cancels the purchase (429 ``otp_attempts_exceeded``)."""
RESERVE_TIMEOUT = timedelta(days=365)
"""The ledger's timeout of a purchase's reserve (its longest, a year): longer than any course."""
REDEEM_WINDOW = timedelta(hours=1)
"""A redeem code is valid from 1 hour before to 1 hour after its session starts (edges included)."""

BURST_COUNT = 20
"""This many completions from one institution within :data:`BURST_WINDOW` (this one included) go to review."""
BURST_WINDOW = timedelta(minutes=5)
COMMIT_SPREAD = timedelta(seconds=60)
"""Every session of a multi-session course committed within this span: impossible timing, review."""
SCORE_PATTERN = 10
"""The institution's last reports and this one all with the same score (at least this many): review."""

REVIEW_REASONS = {
    "burst": ("Banyak laporan dari lembaga dalam beberapa menit", "Many reports from the institution within minutes"),
    "commits_together": ("Semua sesi dihadiri dalam hitungan detik", "Every session committed within seconds"),
    "attended_after_completion": ("Kehadiran tercatat setelah waktu selesai", "Attendance after the completion time"),
    "attendance_proof_failed": ("Bukti kehadiran tidak lolos", "An attendance proof failed"),
    "score_pattern": ("Nilai yang sama berulang kali", "The same score again and again"),
}


def mask_name(name: str) -> str:
    """At most the first and last character of each part: ``Ni Made Dewi`` -> ``Ni M**e D**i``."""
    parts = []
    for part in name.split():
        parts.append(part if len(part) <= 2 else part[0] + "*" * (len(part) - 2) + part[-1])
    return " ".join(parts)


def mask_card(card_number: str) -> str:
    """``**** **** **** 1234``."""
    return "**** **** **** " + card_number[-4:]


def deadline_missed(deadline: datetime, now: datetime, *, has_purchase: bool) -> bool:
    """The first purchase (a confirmed one) had to happen by the deadline."""
    return not has_purchase and now > deadline


def within_window(starts_at: datetime, now: datetime) -> bool:
    return starts_at - REDEEM_WINDOW <= now <= starts_at + REDEEM_WINDOW


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    starts_at: datetime
    duration_minutes: int
    cancelled: bool
    attended_at: datetime | None
    """When its redeem code was committed (None: not attended)."""


def completion_refusal(
    *,
    exists: bool,
    sessions: Sequence[SessionFacts],
    completed_at: datetime,
    now: datetime,
    self_paced: bool,
    redeemed_at: datetime | None,
    hours: int,
) -> str | None:
    """The first refusal in the contract's order: ``completion_exists``, ``attendance_missing``,
    ``completion_too_early``; None when the report may be taken."""
    if exists:
        return "completion_exists"
    live = [s for s in sessions if not s.cancelled]
    if any(s.attended_at is None for s in live):
        return "attendance_missing"
    if completed_at > now:
        return "completion_too_early"
    if live and completed_at < max(s.starts_at + timedelta(minutes=s.duration_minutes) for s in live):
        return "completion_too_early"
    if self_paced and (redeemed_at is None or completed_at < redeemed_at + timedelta(hours=hours)):
        return "completion_too_early"
    return None


def review_reasons(
    *,
    sessions: Sequence[SessionFacts],
    completed_at: datetime,
    recent_from_institution: int,
    recent_scores: Sequence[int],
    score: int,
    proofs_failed: int,
) -> list[str]:
    """Why an otherwise acceptable completion goes to an officer instead (empty: accept).
    ``recent_from_institution`` counts the institution's reports within :data:`BURST_WINDOW` before this one;
    ``recent_scores`` are its latest reported scores, newest first."""
    reasons = []
    if recent_from_institution + 1 >= BURST_COUNT:
        reasons.append("burst")
    attended = sorted(s.attended_at for s in sessions if not s.cancelled and s.attended_at is not None)
    if len(attended) >= 2 and attended[-1] - attended[0] < COMMIT_SPREAD:
        reasons.append("commits_together")
    if attended and attended[-1] > completed_at:
        reasons.append("attended_after_completion")
    if proofs_failed:
        reasons.append("attendance_proof_failed")
    window = [score, *recent_scores[: SCORE_PATTERN - 1]]
    if len(window) >= SCORE_PATTERN and len(set(window)) == 1:
        reasons.append("score_pattern")
    return reasons


def session_share(amount: int, minutes: int, total_minutes: int, already_refunded: int) -> int:
    """The part of the price a cancelled session is worth (by its minutes), never more than what is left
    reserved minus one rupiah (a purchase keeps a positive reserve)."""
    if total_minutes <= 0 or minutes <= 0:
        return 0
    share = amount * minutes // total_minutes
    return max(0, min(share, amount - already_refunded - 1))


def commission(amount: int, bps: int) -> int:
    """The platform's part in whole rupiah, rounded down."""
    return amount * bps // 10_000


def valid_stars(stars: int) -> bool:
    return 1 <= stars <= 5


def valid_review(text: str) -> bool:
    return 10 <= len(text.strip()) <= 2000


WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})
WIT_PROVINCES = frozenset({"81", "82", "91", "92", "93", "94", "95", "96"})


def zone_of(province_code: str | None) -> tuple[str, str]:
    """The IANA zone and Indonesian label of a province's time (WIB when unknown or online)."""
    if province_code in WIT_PROVINCES:
        return "Asia/Jayapura", "WIT"
    if province_code in WITA_PROVINCES:
        return "Asia/Makassar", "WITA"
    return "Asia/Jakarta", "WIB"

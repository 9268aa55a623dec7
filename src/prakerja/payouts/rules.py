"""Pure rules of payouts: identifiers the partners see, and how an account number is shown."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

END_TO_END_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U to misread on a statement."""


_TEN_BITS = tuple(END_TO_END_ALPHABET[high] + END_TO_END_ALPHABET[low] for high in range(32) for low in range(32))
"""Two characters of the alphabet for each 10-bit value (130 bits are 13 of them)."""
_SHIFTS = tuple(range(120, -1, -10))


def end_to_end_id(entitlement_or_ref: uuid.UUID | str, attempt: int) -> str:
    """The stable ISO 20022 EndToEndId of the ``attempt``-th instruction for one entitlement (or one provider
    settlement reference): ``PKJ`` + 26 base32 characters of a SHA-256 over both, at most 35 characters. The same
    inputs give the same id, so an instruction re-created after a crash carries the id the partner already knows."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    digest = hashlib.sha256(f"{entitlement_or_ref}:{attempt}".encode()).digest()
    number = int.from_bytes(digest[:17], "big") >> 6  # 130 bits -> 26 characters of 5 bits, most significant first
    return "PKJ" + "".join([_TEN_BITS[(number >> shift) & 1023] for shift in _SHIFTS])


def mask_number(number: str) -> str:
    """``1234567890`` -> ``******7890``: enough for the holder to recognise the account, nothing more."""
    digits = number.strip()
    visible = digits[-4:]
    return "*" * max(len(digits) - 4, 2) + visible


# account linking ---------------------------------------------------------------------------------------------

OTP_ATTEMPTS = 5
"""Wrong codes a participant may type for one link before it is rejected (the partner locks after five too)."""
OTP_LIFETIME = timedelta(minutes=5)
"""How long a partner's OTP lives (docs/payouts-partner-interface.md section 3; the simulator's too): a link still
waiting for its code after that is expired (``otp_expired``) and the participant links again."""
LINKS_PER_DAY = 10
"""Account inquiries a participant may start in 24 hours (each asks a partner who holds a number: no enumeration)."""
NAMESPACE = uuid.UUID("5b0e2f4c-8a61-4d0e-9a3f-7c1d2e6b9f40")
"""For deterministic ids of the payouts domain (ledger transfers of entitlements and clawbacks)."""


def payouts_id(*parts: object) -> uuid.UUID:
    """A deterministic id: the same action (say, scheduling one instalment) always gets the same ledger transfer id."""
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def otp_stale(sent_at: datetime, now: datetime) -> bool:
    """Whether an OTP sent at ``sent_at`` can no longer be confirmed at ``now``."""
    return now - sent_at > OTP_LIFETIME


def normal_number(kind: str, number: str) -> str | None:
    """The account number as sent to the partner, or None when it cannot be one: a bank account is 6-20 ASCII digits;
    an e-wallet is a phone number ``08...`` or ``+628...`` (kept as ``08...``), 10-15 digits."""
    text = number.strip().replace(" ", "").replace("-", "")
    if kind == "ewallet":
        if text.startswith("+62"):
            text = "0" + text[3:]
        elif text.startswith("62"):
            text = "0" + text[2:]
        if not (text.isascii() and text.isdigit() and text.startswith("08") and 10 <= len(text) <= 15):
            return None
        return text
    if not (text.isascii() and text.isdigit() and 6 <= len(text) <= 20):
        return None
    return text


def inquiry_failure(kind: str, *, status: str, nik_match: bool, kyc: bool, phone_match: bool) -> str | None:
    """Why an account answered by the partner's inquiry cannot be linked (an ``AccountFailure`` value), or None when
    it can: active, the holder's NIK is the participant's, and for an e-wallet KYC'd with the registered phone."""
    if status == "not_found":
        return "account_not_found"
    if status != "active":
        return "account_inactive"
    if not nik_match:
        return "nik_mismatch"
    if kind == "ewallet" and not kyc:
        return "ewallet_not_kyc"
    if kind == "ewallet" and not phone_match:
        return "phone_mismatch"
    return None


# entitlements -------------------------------------------------------------------------------------------------

BLOCKED_REASONS = (
    "no_certificate",
    "no_rating",
    "no_review",
    "no_account",
    "account_rejected",
    "nik_mismatch",
    "ewallet_not_kyc",
)
"""Why an entitlement cannot be scheduled yet, in the order they are checked (the first that holds is shown)."""


@dataclass(frozen=True)
class IncentiveFacts:
    """What decides a participant's post-training incentive, read from the marketplace and the payout accounts."""

    first_completion_on: date | None
    """The day the first training's completion was accepted (None: no accepted completion yet)."""
    certificate: bool
    rating: bool
    review: bool
    account: str
    """``active``, ``none`` (never linked, or a link not finished) or the failure of the latest rejected link."""


@dataclass(frozen=True)
class Planned:
    instalment: int
    amount: int
    blocked_reason: str | None
    due_on: date | None


def account_block(account: str) -> str | None:
    """The blocked reason an account state gives (None when an account is active)."""
    if account == "active":
        return None
    if account == "none":
        return "no_account"
    if account in ("nik_mismatch", "ewallet_not_kyc"):
        return account
    return "account_rejected"


def incentive_block(facts: IncentiveFacts) -> str | None:
    """The first reason the incentive cannot be scheduled, or None when every condition holds."""
    if not facts.certificate:
        return "no_certificate"
    if not facts.rating:
        return "no_rating"
    if not facts.review:
        return "no_review"
    return account_block(facts.account)


def incentive_plan(*, amount: int, count: int, interval_days: int, facts: IncentiveFacts, today: date) -> list[Planned]:
    """The scheme's instalments of the post-training incentive for the first training: none before an accepted
    completion; otherwise ``count`` instalments of ``amount``, blocked with the reason while a condition is missing,
    else due from ``today`` and every ``interval_days`` after."""
    if facts.first_completion_on is None:
        return []
    reason = incentive_block(facts)
    return [
        Planned(
            instalment=n,
            amount=amount,
            blocked_reason=reason,
            due_on=None if reason else today + timedelta(days=interval_days * (n - 1)),
        )
        for n in range(1, count + 1)
    ]


CLAWBACK_DAYS = 60
"""An ineligible recipient must return the money within 60 days (PROGRAM.md step 13)."""


def clawback_due_on(opened_on: date) -> date:
    return opened_on + timedelta(days=CLAWBACK_DAYS)


# provider settlement (ADR 0016) -------------------------------------------------------------------------------


def period_start(period: str) -> date | None:
    """``2026-03`` -> 1 March 2026 (a settlement period is a calendar month in Jakarta time); None for anything
    else (ASCII digits only)."""
    if len(period) != 7 or period[4] != "-" or not (period[:4] + period[5:]).isascii():
        return None
    year, month = period[:4], period[5:]
    if not (year.isdigit() and month.isdigit()) or not 1 <= int(month) <= 12 or int(year) < 2000:
        return None
    return date(int(year), int(month), 1)


def period_end(start: date) -> date:
    """The month's last day."""
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def previous_period(today: date) -> str:
    """The month before ``today``'s: what the monthly settlement run pays."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


def statement_ref(role: str, organisation_id: uuid.UUID, period: str) -> str:
    """The settlement statement a payment pays (its remittance advice): role, organisation and month."""
    return f"{role}:{organisation_id}:{period}"


def settlement_account_failure(*, status: str, name_match: bool) -> str | None:
    """Why an organisation's bank account answered by the partner's inquiry cannot receive its settlements (a
    ``SettlementAccountFailure`` value), or None: active and held under the name the organisation gave."""
    if status == "not_found":
        return "account_not_found"
    if status != "active":
        return "account_inactive"
    if not name_match:
        return "name_mismatch"
    return None


def settlement_block(*, account: str, payable_available: int, owed: int) -> str | None:
    """Why a settlement cannot be paid now, or None. ``account``: ``verified``, ``none`` or ``rejected``;
    ``payable_available``: what the ledger's payable still holds beyond earlier open settlements."""
    if payable_available < owed:
        return "payable_short"
    if account == "none":
        return "no_settlement_account"
    if account == "pending":
        return "settlement_account_pending"
    if account != "verified":
        return "settlement_account_rejected"
    return None


SETTLEMENT_REASONS: dict[str, tuple[str, str]] = {
    "no_settlement_account": (
        "Belum ada rekening penyelesaian yang terverifikasi. Catat rekening bank lembaga Anda; pembayaran dikirim "
        "setelah bank memverifikasinya. Tidak ada yang dikirim.",
        "No verified settlement account yet. Record your organisation's bank account; the payment is sent once the "
        "bank has verified it. Nothing was sent.",
    ),
    "settlement_account_pending": (
        "Rekening penyelesaian menunggu kode OTP dari bank. Masukkan kode yang dikirim bank kepada pemilik rekening; "
        "tidak ada yang dikirim sebelum itu.",
        "The settlement account is waiting for the bank's OTP. Enter the code the bank sent to the account holder; "
        "nothing is sent before.",
    ),
    "settlement_account_rejected": (
        "Rekening penyelesaian terakhir ditolak bank. Catat rekening lain atas nama resmi lembaga. "
        "Tidak ada yang dikirim.",
        "The latest settlement account was refused by the bank. Record another account in the organisation's "
        "legal name. Nothing was sent.",
    ),
    "payable_short": (
        "Saldo terutang di buku besar lebih kecil dari laporan penyelesaian (misalnya karena pengembalian dana). "
        "Petugas PMO memeriksanya. Tidak ada yang dikirim.",
        "The ledger owes less than the settlement statement (a refund, for example). The programme office is "
        "checking it. Nothing was sent.",
    ),
    "account_not_found": (
        "Bank menolak pembayaran: nomor rekening tidak ditemukan. Catat rekening lain.",
        "The bank refused the payment: account number not found. Record another account.",
    ),
    "account_closed": (
        "Bank menolak pembayaran: rekening ditutup. Catat rekening lain.",
        "The bank refused the payment: the account is closed. Record another account.",
    ),
    "account_blocked": (
        "Bank menolak pembayaran: rekening diblokir. Catat rekening lain.",
        "The bank refused the payment: the account is blocked. Record another account.",
    ),
    "name_mismatch": (
        "Nama pemilik rekening tidak sama dengan nama resmi lembaga.",
        "The account holder's name is not the organisation's legal name.",
    ),
    "account_inactive": ("Rekening ini tidak aktif.", "This account is not active."),
    "closed_after_link": (
        "Pembayaran ke rekening ini ditolak bank setelah diverifikasi. Catat rekening lain.",
        "A payment to this account was refused by the bank after it was verified. Record another account.",
    ),
    "otp_expired": (
        "Kode OTP dari bank kedaluwarsa sebelum dimasukkan. Catat rekening lagi untuk menerima kode baru.",
        "The bank's OTP expired before it was entered. Record the account again to receive a new code.",
    ),
    "otp_failed": (
        "Terlalu banyak kode OTP yang salah; bank mengunci konfirmasi ini. Catat rekening lagi.",
        "Too many wrong OTP codes; the bank locked this confirmation. Record the account again.",
    ),
    "payout_reversed": (
        "Bank membatalkan pembayaran setelah berhasil; uang kembali ke saldo terutang. Catat rekening lain.",
        "The bank reversed the payment after it succeeded; the money is owed again. Record another account.",
    ),
}
"""What an organisation and officers read for a settlement's or a settlement account's reason (Indonesian,
English)."""


def deduction_plan(owed: Sequence[tuple[uuid.UUID, int]], available: int) -> list[tuple[uuid.UUID, int]]:
    """What a settlement of ``available`` deducts from each receivable still owed (``(id, outstanding)``, oldest
    first): the oldest first, never more than a receivable's outstanding amount nor more than ``available`` in all
    (ADR 0026)."""
    plan = []
    left = max(available, 0)
    for receivable_id, outstanding in owed:
        if left <= 0:
            break
        take = min(outstanding, left)
        if take > 0:
            plan.append((receivable_id, take))
            left -= take
    return plan


def refund_shares(amount: int, *, gross: int, commission: int) -> tuple[int, int]:
    """Who owes back ``amount`` refunded of a purchase settled for ``gross`` of which the platform's commission was
    ``commission``: ``(institution, platform)`` in the proportions they were paid, the platform's part rounded down
    as commissions are (so a full refund takes back exactly what each was paid). They add up to ``amount``."""
    if gross <= 0 or commission <= 0:
        return amount, 0
    platform = amount * min(commission, gross) // gross
    return amount - platform, platform

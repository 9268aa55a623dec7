"""What a partner's portal shows of the marketplace (read only; one set-based query per part): an institution's
participants (masked names, never a NIK or a code), each session's attendance (redeem codes committed of those
expected), its completions with their state and reasons, and its settlement periods; a platform's sales by state,
its latest purchases and its commissions. Money figures come from the completions the ledger captured, with the
ledger's own balance beside them. Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from prakerja.ledger import service as ledger
from prakerja.ledger.models import AccountKind, LedgerCode
from prakerja.training import repository, rules
from prakerja.training.models import CompletionStatus, PurchaseStatus
from prakerja.training.service import people

ROWS = 200
"""Rows per list on a portal page (newest first)."""


@dataclass(frozen=True)
class ParticipantRow:
    purchase_id: uuid.UUID
    name_masked: str
    course_title: str
    status: PurchaseStatus
    confirmed_at: datetime | None
    redeemed_at: datetime | None


@dataclass(frozen=True)
class SessionAttendance:
    session_id: uuid.UUID
    course_title: str
    position: int
    starts_at: datetime
    duration_minutes: int
    training_type: str
    province_code: str | None
    cancelled: bool
    committed: int
    """Redeem codes committed (the participant attended)."""
    expected: int
    """Redeem codes issued and not cancelled."""

    @property
    def starts_local(self) -> str:
        """``16-03-2026 09:00 WITA``: in the venue's zone (WIB for online sessions)."""
        zone, label = rules.zone_of(self.province_code)
        return self.starts_at.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M") + f" {label}"


@dataclass(frozen=True)
class CompletionRow:
    completion_id: uuid.UUID
    purchase_id: uuid.UUID
    name_masked: str
    course_title: str
    status: CompletionStatus
    reported_at: datetime
    decided_at: datetime | None
    score: int
    passed: bool
    review_reasons: list[str]
    """Why it went to review (rule codes)."""
    note: str
    """The officer's reason (a refusal's, or an acceptance's note)."""
    gross: int
    commission: int

    @property
    def reason_words(self) -> list[tuple[str, str]]:
        """The review reasons in Indonesian and English."""
        return [rules.REVIEW_REASONS.get(code, (code, code)) for code in self.review_reasons]


@dataclass(frozen=True)
class Period:
    """One settlement period: a calendar month in Jakarta time."""

    start: date
    end: date
    completions: int
    gross: int
    commission: int
    payable: int
    """What the partner is owed for it: the net for an institution, the commission for a platform."""

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m")


@dataclass(frozen=True)
class StateTotal:
    status: PurchaseStatus
    purchases: int
    amount: int
    refunded: int


@dataclass(frozen=True)
class SaleRow:
    purchase_id: uuid.UUID
    order_id: str
    course_title: str
    status: PurchaseStatus
    amount: int
    commission: int
    created_at: datetime
    cancel_reason: str


@dataclass(frozen=True)
class InstitutionOverview:
    participants: list[ParticipantRow]
    attendance: list[SessionAttendance]
    completions: list[CompletionRow]
    periods: list[Period]
    ledger_balance: int
    """The institution payable's posted balance in the ledger (what was captured for it, less commissions)."""

    @property
    def settled_total(self) -> int:
        return sum(p.payable for p in self.periods)


@dataclass(frozen=True)
class PlatformOverview:
    by_state: list[StateTotal]
    sales: list[SaleRow]
    periods: list[Period]
    ledger_balance: int
    """The platform commission account's posted balance in the ledger."""

    @property
    def commission_total(self) -> int:
        return sum(p.commission for p in self.periods)

    @property
    def sold_amount(self) -> int:
        """Purchases with a voucher (confirmed, redeemed, completed), less refunds for cancelled sessions."""
        return sum(t.amount - t.refunded for t in self.by_state if t.status in repository.BOUGHT)


def _month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def periods(session: Session, partner_id: uuid.UUID, *, platform: bool) -> list[Period]:
    """The months with accepted completions, newest first (each equal to ``settlement.statement`` for it)."""
    found = []
    for month, count, gross, commission in repository.accepted_by_month(session, partner_id, platform=platform):
        gross, commission = int(gross), int(commission)
        found.append(
            Period(
                start=month,
                end=_month_end(month),
                completions=int(count),
                gross=gross,
                commission=commission,
                payable=commission if platform else gross - commission,
            )
        )
    return found


def _balance(session: Session, kind: AccountKind, owner_type: str, owner_id: uuid.UUID) -> int:
    account = ledger.find_account(
        session, ledger=int(LedgerCode.training), kind=kind, owner_type=owner_type, owner_id=str(owner_id)
    )
    return 0 if account is None else account.balance


def institution(session: Session, institution_id: uuid.UUID) -> InstitutionOverview:
    participants = repository.institution_participants(session, institution_id, ROWS)
    completions = repository.institution_completions(session, institution_id, ROWS)
    names = people.masked_names(
        session, list({row.participant_id for row in participants} | {row[1] for row in completions})
    )
    return InstitutionOverview(
        participants=[
            ParticipantRow(
                purchase_id=row.id,
                name_masked=names.get(row.participant_id, "-"),
                course_title=row.title,
                status=row.status,
                confirmed_at=row.confirmed_at,
                redeemed_at=row.redeemed_at,
            )
            for row in participants
        ],
        attendance=[
            SessionAttendance(
                session_id=row.id,
                course_title=row.title,
                position=row.position,
                starts_at=row.starts_at,
                duration_minutes=row.duration_minutes,
                training_type=row.training_type.value,
                province_code=row.province_code,
                cancelled=row.cancelled_at is not None,
                committed=int(row.committed),
                expected=int(row.expected),
            )
            for row in repository.session_attendance(session, institution_id, ROWS)
        ],
        completions=[
            CompletionRow(
                completion_id=c.id,
                purchase_id=c.purchase_id,
                name_masked=names.get(participant_id, "-"),
                course_title=title,
                status=c.status,
                reported_at=c.created_at,
                decided_at=c.decided_at,
                score=c.score,
                passed=c.passed,
                review_reasons=list(c.review_reasons or []),
                note=c.decision_note,
                gross=c.gross_amount,
                commission=c.commission,
            )
            for c, participant_id, title in completions
        ],
        periods=periods(session, institution_id, platform=False),
        ledger_balance=_balance(session, AccountKind.institution_payable, "institution", institution_id),
    )


def platform(session: Session, platform_id: uuid.UUID) -> PlatformOverview:
    return PlatformOverview(
        by_state=sorted(
            (
                StateTotal(status=status, purchases=int(count), amount=int(amount), refunded=int(refunded))
                for status, count, amount, refunded in repository.sales_by_state(session, platform_id)
            ),
            key=lambda t: list(PurchaseStatus).index(t.status),
        ),
        sales=[
            SaleRow(
                purchase_id=row.id,
                order_id=row.platform_order_id,
                course_title=row.title,
                status=row.status,
                amount=row.amount,
                commission=int(row.commission),
                created_at=row.created_at,
                cancel_reason=row.cancel_reason,
            )
            for row in repository.platform_sales(session, platform_id, ROWS)
        ],
        periods=periods(session, platform_id, platform=True),
        ledger_balance=_balance(session, AccountKind.platform_commission, "platform", platform_id),
    )

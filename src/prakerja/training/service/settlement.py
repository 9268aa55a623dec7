"""Settlement statements: what the ledger captured for one institution (or one platform's commissions) in a
period. Built from the completions' captured amounts; a test holds them equal to the ledger's own totals."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from prakerja.catalog import service as catalog
from prakerja.kit.clock import JAKARTA
from prakerja.training import repository
from prakerja.training.errors import PeriodInvalid


@dataclass(frozen=True)
class Line:
    completion_id: str
    purchase_id: str
    course_id: str
    accepted_at: datetime
    gross: int
    commission: int

    @property
    def net(self) -> int:
        return self.gross - self.commission


@dataclass(frozen=True)
class Statement:
    partner_id: uuid.UUID
    partner_name: str
    role: str
    """``institution`` (net of commissions) or ``platform`` (commissions)."""
    start: date
    end: date
    """Both inclusive, days in Jakarta time."""
    lines: list[Line]

    @property
    def gross(self) -> int:
        return sum(line.gross for line in self.lines)

    @property
    def commission(self) -> int:
        return sum(line.commission for line in self.lines)

    @property
    def net(self) -> int:
        return self.gross - self.commission

    @property
    def payable(self) -> int:
        """What the partner is owed for the period."""
        return self.commission if self.role == "platform" else self.net


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if start > end or (end - start).days > 366:
        raise PeriodInvalid()
    return (
        datetime.combine(start, time(0), tzinfo=JAKARTA),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=JAKARTA),
    )


def statement(session: Session, *, partner_id: uuid.UUID, start: date, end: date) -> Statement:
    organisation = catalog.organisations.get(session, partner_id)
    role = organisation.role if organisation is not None else "institution"
    low, high = _bounds(start, end)
    rows = repository.accepted_between(session, partner_id=partner_id, start=low, end=high, platform=role == "platform")
    lines = [
        Line(
            completion_id=str(c.id),
            purchase_id=str(p.id),
            course_id=str(p.course_id),
            accepted_at=c.decided_at or c.created_at,
            gross=c.gross_amount,
            commission=c.commission,
        )
        for c, p in rows
    ]
    return Statement(partner_id, organisation.name if organisation else "", role, start, end, lines)


def owed(session: Session, *, start: date, end: date) -> list[Statement]:
    """The statement of every institution and platform owed something for the period (accepted completions in it;
    a platform only for its commissions), with a payable above zero."""
    low, high = _bounds(start, end)
    institutions, platforms = repository.owed_between(session, start=low, end=high)
    found = []
    for partner_id in dict.fromkeys([*institutions, *platforms]):
        one = statement(session, partner_id=partner_id, start=start, end=end)
        if one.lines and one.payable > 0:
            found.append(one)
    return found


@dataclass(frozen=True)
class SettledPurchase:
    """A purchase whose completion was accepted (its money captured to the institution): what a refund of it after
    the month's settlement needs to know."""

    purchase_id: uuid.UUID
    participant_id: uuid.UUID
    institution_id: uuid.UUID
    platform_id: uuid.UUID
    accepted_at: datetime
    gross: int
    commission: int


def settled_purchase(session: Session, purchase_id: uuid.UUID) -> SettledPurchase | None:
    """The purchase with its accepted completion; None when there is no such purchase or no accepted completion."""
    found = repository.accepted_of_purchase(session, purchase_id)
    if found is None:
        return None
    completion, purchase = found
    return SettledPurchase(
        purchase_id=purchase.id,
        participant_id=purchase.participant_id,
        institution_id=completion.institution_id,
        platform_id=completion.platform_id,
        accepted_at=completion.decided_at or completion.created_at,
        gross=completion.gross_amount,
        commission=completion.commission,
    )


def to_csv(found: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["completion_id", "purchase_id", "course_id", "accepted_at", "gross", "commission", "net"])
    for line in found.lines:
        writer.writerow(
            [
                line.completion_id,
                line.purchase_id,
                line.course_id,
                line.accepted_at.isoformat(),
                line.gross,
                line.commission,
                line.net,
            ]
        )
    writer.writerow(["total", "", "", "", found.gross, found.commission, found.net])
    return out.getvalue()

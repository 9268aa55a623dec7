"""Every query on the marketplace's tables."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import asyncpg
from sqlalchemy import Date, Select, Table, cast, func, insert, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from prakerja.catalog.models import Course, CourseSession
from prakerja.certificates.models import Certificate
from prakerja.db import SqlPart, arguments, positional, positional_cached, with_parts
from prakerja.training.models import (
    AttendanceEvent,
    CodeState,
    Completion,
    CompletionStatus,
    PlatformAgreement,
    Purchase,
    PurchaseStatus,
    Rating,
    RedeemCode,
    SessionRefund,
)

BOUGHT = (PurchaseStatus.confirmed, PurchaseStatus.redeemed, PurchaseStatus.completed)
UNDER_WAY = (PurchaseStatus.confirmed, PurchaseStatus.redeemed)


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


# -- purchases -----------------------------------------------------------------------------------------------------


def purchase(session: Session, purchase_id: uuid.UUID, *, lock: bool = False) -> Purchase | None:
    query = select(Purchase).where(Purchase.id == purchase_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def purchase_by_voucher(session: Session, code: str, *, lock: bool = False) -> Purchase | None:
    query = select(Purchase).where(Purchase.voucher_code == code)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def purchases_of_participant(session: Session, participant_id: uuid.UUID) -> list[Purchase]:
    return list(
        session.scalars(select(Purchase).where(Purchase.participant_id == participant_id).order_by(Purchase.id.desc()))
    )


def purchases_of_account(session: Session, account_id: uuid.UUID, participant_id: uuid.UUID) -> list[Purchase]:
    """The account's purchases, found by its participant (one profile an account, one card a profile): purchases
    are not indexed by account (ADR 0044); ``account_id`` still filters, so a wrong pair finds nothing."""
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.participant_id == participant_id, Purchase.account_id == account_id)
            .order_by(Purchase.id.desc())
        )
    )


def status_counts(session: Session, participant_id: uuid.UUID) -> dict[PurchaseStatus, int]:
    """The participant's purchases by status: one query."""
    rows = session.execute(
        select(Purchase.status, func.count()).where(Purchase.participant_id == participant_id).group_by(Purchase.status)
    )
    return {PurchaseStatus(status): int(n) for status, n in rows}


_FACTS = text(
    """
    SELECT status::text AS status, count(*) AS n FROM training_purchases WHERE participant_id = :participant
    GROUP BY status
    UNION ALL
    SELECT 'platform_account_bound', 1 WHERE EXISTS (
        SELECT 1 FROM training_purchases
        WHERE platform_id = :platform AND platform_account_index = :account_index AND recipient_id <> :recipient
          AND status = ANY(:bought))
    """
)


def status_counts_and_bound(
    session: Session,
    participant_id: uuid.UUID,
    *,
    platform_id: uuid.UUID,
    account_index: bytes,
    recipient_id: uuid.UUID,
) -> tuple[dict[PurchaseStatus, int], bool]:
    """:func:`status_counts` and, in the same statement, whether the platform's account (its blind index) already
    paid with another recipient's card (a confirmed, redeemed or completed purchase)."""
    counts: dict[PurchaseStatus, int] = {}
    bound = False
    rows = session.execute(
        _FACTS,
        {
            "participant": participant_id,
            "platform": platform_id,
            "account_index": account_index,
            "recipient": recipient_id,
            "bought": [status.value for status in BOUGHT],
        },
    )
    for status, n in rows:
        if status == "platform_account_bound":
            bound = True
        else:
            counts[PurchaseStatus(status)] = int(n)
    return counts, bound


def count_in_status(session: Session, participant_id: uuid.UUID, statuses: Sequence[PurchaseStatus]) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Purchase)
            .where(Purchase.participant_id == participant_id, Purchase.status.in_(list(statuses)))
        )
        or 0
    )


def expired_otp_purchases(session: Session, now: datetime, limit: int) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Purchase.id)
            .where(Purchase.status == PurchaseStatus.otp_sent, Purchase.otp_expires_at < now)
            .order_by(Purchase.otp_expires_at)
            .limit(limit)
        )
    )


def awaiting_otp(session: Session, participant_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Purchase.id).where(
                Purchase.participant_id == participant_id, Purchase.status == PurchaseStatus.otp_sent
            )
        )
    )


def purchases_with_session(session: Session, session_id: uuid.UUID) -> list[uuid.UUID]:
    """Purchases under way holding a code for this session."""
    return list(
        session.scalars(
            select(Purchase.id)
            .join(RedeemCode, RedeemCode.purchase_id == Purchase.id)
            .where(RedeemCode.session_id == session_id, Purchase.status.in_(UNDER_WAY))
            .order_by(Purchase.id)
        )
    )


# -- redeem codes and attendance -----------------------------------------------------------------------------------


def code(session: Session, value: str, *, lock: bool = False) -> RedeemCode | None:
    query = select(RedeemCode).where(RedeemCode.code == value)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


CODES = typing.cast(Table, RedeemCode.__table__)


def taken_codes(session: Session, values: list[str]) -> set[str]:
    """Which of these values are already a redeem code or a voucher: one query for the lot."""
    redeem = select(RedeemCode.code).where(RedeemCode.code.in_(values))
    vouchers = select(Purchase.voucher_code).where(Purchase.voucher_code.in_(values))
    return {str(v) for v in session.scalars(redeem.union_all(vouchers))}


def add_codes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Every redeem code of a purchase in one INSERT (Core, on the table: nothing in the request reads them back
    as objects, and the ORM's bulk path costs more Python than the statement)."""
    if rows:
        session.execute(insert(CODES), rows)


def codes_of(session: Session, purchase_id: uuid.UUID) -> list[RedeemCode]:
    return list(
        session.scalars(select(RedeemCode).where(RedeemCode.purchase_id == purchase_id).order_by(RedeemCode.valid_from))
    )


def codes_of_session(session: Session, purchase_id: uuid.UUID, session_id: uuid.UUID) -> RedeemCode | None:
    return session.scalars(
        select(RedeemCode).where(RedeemCode.purchase_id == purchase_id, RedeemCode.session_id == session_id)
    ).first()


def cancel_codes(session: Session, purchase_id: uuid.UUID) -> None:
    for row in codes_of(session, purchase_id):
        if row.state is CodeState.valid:
            row.state = CodeState.cancelled
    session.flush()


def failed_proofs(session: Session, purchase_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AttendanceEvent)
            .where(AttendanceEvent.purchase_id == purchase_id, AttendanceEvent.needs_review.is_(True))
        )
        or 0
    )


# -- completions ---------------------------------------------------------------------------------------------------


def live_completion(session: Session, purchase_id: uuid.UUID) -> Completion | None:
    return session.scalars(
        select(Completion).where(Completion.purchase_id == purchase_id, Completion.status != CompletionStatus.refused)
    ).first()


def completion(session: Session, completion_id: uuid.UUID, *, lock: bool = False) -> Completion | None:
    query = select(Completion).where(Completion.id == completion_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def completions_since(session: Session, institution_id: uuid.UUID, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Completion)
            .where(Completion.institution_id == institution_id, Completion.created_at >= since)
        )
        or 0
    )


def recent_scores(session: Session, institution_id: uuid.UUID, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Completion.score)
            .where(Completion.institution_id == institution_id)
            .order_by(Completion.id.desc())
            .limit(limit)
        )
    )


def in_review(session: Session) -> list[Completion]:
    return list(
        session.scalars(
            select(Completion).where(Completion.status == CompletionStatus.in_review).order_by(Completion.id)
        )
    )


def accepted_between(
    session: Session, *, partner_id: uuid.UUID, start: datetime, end: datetime, platform: bool
) -> list[tuple[Completion, Purchase]]:
    owner = Completion.platform_id if platform else Completion.institution_id
    rows = session.execute(
        select(Completion, Purchase)
        .join(Purchase, Purchase.id == Completion.purchase_id)
        .where(
            owner == partner_id,
            Completion.status == CompletionStatus.accepted,
            Completion.decided_at >= start,
            Completion.decided_at < end,
        )
        .order_by(Completion.decided_at, Completion.id)
    )
    return [(row[0], row[1]) for row in rows]


def accepted_of_purchase(session: Session, purchase_id: uuid.UUID) -> tuple[Completion, Purchase] | None:
    row = session.execute(
        select(Completion, Purchase)
        .join(Purchase, Purchase.id == Completion.purchase_id)
        .where(Completion.purchase_id == purchase_id, Completion.status == CompletionStatus.accepted)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def owed_between(session: Session, *, start: datetime, end: datetime) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The institutions with accepted completions in [start, end), and the platforms with a commission on them."""
    window = (
        Completion.status == CompletionStatus.accepted,
        Completion.decided_at >= start,
        Completion.decided_at < end,
    )
    institutions = session.scalars(select(Completion.institution_id).where(*window).distinct()).all()
    platforms = session.scalars(
        select(Completion.platform_id).where(*window, Completion.commission > 0).distinct()
    ).all()
    return sorted(institutions), sorted(platforms)


def completion_of_purchase(session: Session, purchase_id: uuid.UUID) -> Completion | None:
    return session.scalars(
        select(Completion).where(Completion.purchase_id == purchase_id).order_by(Completion.id.desc())
    ).first()


# -- refunds, ratings, agreements, events ----------------------------------------------------------------


def refund(session: Session, purchase_id: uuid.UUID, session_id: uuid.UUID) -> SessionRefund | None:
    return session.scalars(
        select(SessionRefund).where(SessionRefund.purchase_id == purchase_id, SessionRefund.session_id == session_id)
    ).first()


def rating_of(session: Session, purchase_id: uuid.UUID) -> Rating | None:
    return session.scalars(select(Rating).where(Rating.purchase_id == purchase_id)).first()


def rating_summary(session: Session, course_id: uuid.UUID) -> tuple[float | None, int]:
    row = session.execute(
        select(func.avg(Rating.stars), func.count()).select_from(Rating).where(Rating.course_id == course_id)
    ).one()
    return (None if row[0] is None else float(row[0])), int(row[1])


def ratings_of_course(session: Session, course_id: uuid.UUID, limit: int = 20) -> list[Rating]:
    return list(
        session.scalars(select(Rating).where(Rating.course_id == course_id).order_by(Rating.id.desc()).limit(limit))
    )


def agreement(session: Session, platform_id: uuid.UUID, *, lock: bool = False) -> PlatformAgreement | None:
    query = select(PlatformAgreement).where(PlatformAgreement.platform_id == platform_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


# -- what a partner's portal reads (set-based, one query each; course titles and sessions by catalog's models) -------


def institution_participants(session: Session, institution_id: uuid.UUID, limit: int) -> list[Any]:
    """The institution's bought purchases (voucher issued), newest first, with the course's title."""
    return list(
        session.execute(
            select(
                Purchase.id,
                Purchase.participant_id,
                Purchase.status,
                Purchase.confirmed_at,
                Purchase.redeemed_at,
                Course.title,
            )
            .join(Course, Course.id == Purchase.course_id)
            .where(Purchase.institution_id == institution_id, Purchase.status.in_(BOUGHT))
            .order_by(Purchase.id.desc())
            .limit(limit)
        )
    )


def session_attendance(session: Session, institution_id: uuid.UUID, limit: int) -> list[Any]:
    """Every session of the institution's courses that participants bought (latest start first), with its redeem
    codes committed and expected (codes not cancelled)."""
    committed = func.count(RedeemCode.id).filter(RedeemCode.state == CodeState.used)
    expected = func.count(RedeemCode.id).filter(RedeemCode.state != CodeState.cancelled)
    return list(
        session.execute(
            select(
                CourseSession.id,
                CourseSession.position,
                CourseSession.starts_at,
                CourseSession.duration_minutes,
                CourseSession.training_type,
                CourseSession.province_code,
                CourseSession.cancelled_at,
                Course.title,
                committed.label("committed"),
                expected.label("expected"),
            )
            .join(Course, Course.id == CourseSession.course_id)
            .join(RedeemCode, RedeemCode.session_id == CourseSession.id)
            .where(Course.institution_id == institution_id, RedeemCode.institution_id == institution_id)
            .group_by(CourseSession.id, Course.title)
            .order_by(CourseSession.starts_at.desc(), CourseSession.position)
            .limit(limit)
        )
    )


def institution_completions(session: Session, institution_id: uuid.UUID, limit: int) -> list[Any]:
    """The institution's reported completions, newest first, with the participant and the course's title."""
    return list(
        session.execute(
            select(Completion, Purchase.participant_id, Course.title)
            .join(Purchase, Purchase.id == Completion.purchase_id)
            .join(Course, Course.id == Purchase.course_id)
            .where(Completion.institution_id == institution_id)
            .order_by(Completion.id.desc())
            .limit(limit)
        )
    )


def accepted_by_month(session: Session, partner_id: uuid.UUID, *, platform: bool) -> list[Any]:
    """Accepted completions per calendar month in Jakarta time (the settlement periods), newest first: the month's
    first day, count, gross and commission."""
    owner = Completion.platform_id if platform else Completion.institution_id
    month = cast(func.date_trunc("month", func.timezone("Asia/Jakarta", Completion.decided_at)), Date).label("month")
    return list(
        session.execute(
            select(
                month,
                func.count(Completion.id),
                func.coalesce(func.sum(Completion.gross_amount), 0),
                func.coalesce(func.sum(Completion.commission), 0),
            )
            .where(owner == partner_id, Completion.status == CompletionStatus.accepted)
            .group_by(month)
            .order_by(month.desc())
        )
    )


def sales_by_state(session: Session, platform_id: uuid.UUID) -> list[Any]:
    """The platform's purchases per state: count, amount and the part refunded for cancelled sessions."""
    return list(
        session.execute(
            select(
                Purchase.status,
                func.count(Purchase.id),
                func.coalesce(func.sum(Purchase.amount), 0),
                func.coalesce(func.sum(Purchase.refunded_amount), 0),
            )
            .where(Purchase.platform_id == platform_id)
            .group_by(Purchase.status)
        )
    )


def platform_sales(session: Session, platform_id: uuid.UUID, limit: int) -> list[Any]:
    """The platform's latest purchases with the course's title and the commission of an accepted completion."""
    commission = (
        select(Completion.commission)
        .where(Completion.purchase_id == Purchase.id, Completion.status == CompletionStatus.accepted)
        .limit(1)
        .scalar_subquery()
    )
    return list(
        session.execute(
            select(
                Purchase.id,
                Purchase.platform_order_id,
                Purchase.status,
                Purchase.amount,
                Purchase.created_at,
                Purchase.cancel_reason,
                Course.title,
                func.coalesce(commission, 0).label("commission"),
            )
            .join(Course, Course.id == Purchase.course_id)
            .where(Purchase.platform_id == platform_id)
            .order_by(Purchase.id.desc())
            .limit(limit)
        )
    )


# -- what payouts reads --------------------------------------------------------------------------------------------


def first_accepted(session: Session, recipient_ids: Sequence[uuid.UUID]) -> list[tuple[Any, ...]]:
    """Per recipient, the first accepted completion (by decision time, then id) with its certificate (only one not
    revoked) and rating: ``(recipient_id, purchase_id, decided_at, certificate_id, stars, review)``; one query for
    the whole set."""
    if not recipient_ids:
        return []
    query = (
        select(
            Purchase.recipient_id,
            Purchase.id,
            Completion.decided_at,
            Certificate.id,
            Rating.stars,
            Rating.review,
        )
        .join(Completion, Completion.purchase_id == Purchase.id)
        .outerjoin(Certificate, (Certificate.id == Completion.certificate_id) & Certificate.revoked_at.is_(None))
        .outerjoin(Rating, Rating.purchase_id == Purchase.id)
        .where(Purchase.recipient_id.in_(list(recipient_ids)), Completion.status == CompletionStatus.accepted)
        .order_by(Purchase.recipient_id, Completion.decided_at, Completion.id)
        .ext(distinct_on(Purchase.recipient_id))
    )
    return [tuple(row) for row in session.execute(query)]


def recipients_changed_since(session: Session, since: datetime) -> list[uuid.UUID]:
    """Recipients with a completion accepted or a rating given since ``since`` (the payouts refresh job's input)."""
    accepted = (
        select(Purchase.recipient_id)
        .join(Completion, Completion.purchase_id == Purchase.id)
        .where(Completion.status == CompletionStatus.accepted, Completion.decided_at >= since)
    )
    rated = (
        select(Purchase.recipient_id).join(Rating, Rating.purchase_id == Purchase.id).where(Rating.created_at >= since)
    )
    return list(session.scalars(accepted.union(rated)))


def accepted_recipients() -> Select[Any]:
    """A subquery of the recipients with at least one accepted completion, for a caller to compose with its own
    tables into one statement (the payouts refresh job's recipients that have no entitlement yet)."""
    return (
        select(Purchase.recipient_id)
        .join(Completion, Completion.purchase_id == Purchase.id)
        .where(Completion.status == CompletionStatus.accepted)
        .distinct()
    )


def spent_by(session: Session, recipient_id: uuid.UUID) -> int:
    """Training balance captured for a recipient's completed purchases (after refunds), whole rupiah."""
    total = session.scalar(
        select(func.coalesce(func.sum(Purchase.amount - Purchase.refunded_amount), 0)).where(
            Purchase.recipient_id == recipient_id, Purchase.status == PurchaseStatus.completed
        )
    )
    return int(total or 0)


# -- the purchase path on a loop connection (db.on_loop, ADR 0014) --------------------------------------------------

# -- the card inquiry and the purchase's creation, each phase one statement (ADR 0031) ------------------------------
#
# Each statement is composed here, once at import, of the marketplace's own SQL and parts other domains give through
# their services (the card holder, the course and its listing, the wallet and the payable, the profile's name and
# phone, the account's e-mail; the posting function's call, the audit entries, the message and its job): each
# domain's SQL stays in its own repository, written by nobody else; this module only places the parts and names
# what it reads back. Parameters are named, each part's with its own prefix (checked disjoint when composed).


@dataclass(frozen=True)
class Composed:
    """A statement composed of several domains' parts, in asyncpg's form (``$n``), and its parameters' names;
    ``source``, the same in the parts' own form (``%(name)s``), for the signed call's frame to fold its claim into
    (:class:`FrameReader`, ADR 0043)."""

    sql: str
    names: tuple[str, ...]
    source: str = ""

    @classmethod
    def of(cls, sql: str, *parts: str) -> Composed:
        """``sql`` (the whole statement) converted by ``db.positional``; each of ``parts`` (the pieces it was built
        of) must name parameters no other piece names (one name, one value)."""
        seen: set[str] = set()
        for part in parts:
            named = set(positional(part)[1])
            if seen & named:
                raise ValueError(f"parameters named by two parts: {sorted(seen & named)}")
            seen |= named
        converted, names = positional(sql)
        return cls(converted, names, sql)


FRAME_GATE = "/*frame*/ true"
"""Where a first read of a signed call names its frame's gate (ADR 0043): ``true`` as it stands; the frame, folding
its claim into the read, puts its condition here (the read runs only when the key was claimed)."""


class FrameReader(Protocol):
    """The signed call's frame (``idempotency.service.Frame``) as a read of this repository sees it."""

    @property
    def width(self) -> int: ...

    async def read(self, conn: asyncpg.Connection, source: str, marker: str, params: Mapping[str, Any]) -> Any: ...


async def _first_read(
    conn: asyncpg.Connection, statement: Composed, params: Mapping[str, Any], frame: FrameReader | None
) -> tuple[Any, ...] | None:
    """``statement`` read with ``params``: directly, or through the call's ``frame`` (its claim folded in, its
    columns left out); None when the read found nothing (its first column NULL)."""
    if frame is None:
        row = await conn.fetchrow(statement.sql, *arguments(statement.names, params))
        return None if row is None else tuple(row)
    row = await frame.read(conn, statement.source, FRAME_GATE, params)
    values = () if row is None else tuple(row)[frame.width :]
    return None if not values or values[0] is None else values


_COUNTED = tuple(PurchaseStatus)


def _counts_sql(participant: str) -> str:
    """The participant's (an SQL expression) purchases by status, one count per :data:`_COUNTED` in an array: what
    :func:`status_counts` reads, in one scan of the participant's purchases."""
    counts = ", ".join(f"count(*) FILTER (WHERE status = '{status.value}')" for status in _COUNTED)
    return f"(SELECT ARRAY[{counts}] FROM training_purchases WHERE participant_id = {participant})"


def counts_of(counts: Sequence[int]) -> dict[PurchaseStatus, int]:
    """A value of :func:`_counts_sql` as :func:`status_counts` gives it (statuses without a purchase left out)."""
    return {status: int(n) for status, n in zip(_COUNTED, counts, strict=True) if n}


def _bound_sql(recipient: str) -> str:
    """Whether the platform's account (parameters ``platform_id``, ``account_index``) already paid with another
    recipient's card than ``recipient`` (an SQL expression), as :func:`status_counts_and_bound` decides it."""
    bought = ", ".join(f"'{status.value}'" for status in BOUGHT)
    return (
        "EXISTS (SELECT 1 FROM training_purchases WHERE platform_id = %(platform_id)s"
        f" AND platform_account_index = %(account_index)s AND recipient_id <> {recipient} AND status IN ({bought}))"
    )


class InquiryRow(NamedTuple):
    """What the inquiry's statement read, each part as its owner gives it (for its owner to read)."""

    holder: Sequence[Any]
    counts: Sequence[int]
    wallet: Sequence[Any] | None
    name: Any


def inquiry_statement(
    *, card: Callable[[str], str], wallet: Callable[[str], str], name: Callable[[str], str]
) -> Composed:
    """The card inquiry's reads in one statement (parameter ``card_index``): the card holder (``card``: a row source
    for the card's blind index), the holder's purchases by status, the wallet (``wallet``: a record for the
    participant) and the profile's name (``name``: a value for the account); no row when there is no such card."""
    holder = card("%(card_index)s")
    sql = (
        f"SELECT h, {_counts_sql('h.applicant_id')}, {wallet('h.applicant_id')}, {name('h.account_id')}"
        f" FROM ({holder}) h WHERE {FRAME_GATE}"
    )
    return Composed.of(sql, holder)


async def inquiry_on_loop(
    conn: asyncpg.Connection, statement: Composed, card_index: bytes | None, frame: FrameReader | None = None
) -> InquiryRow | None:
    """The :func:`inquiry_statement` read on a loop connection: one round trip (the call's claim folded in, through
    ``frame``)."""
    row = await _first_read(conn, statement, {"card_index": card_index}, frame)
    return None if row is None else InquiryRow(*row)


class CheckoutRow(NamedTuple):
    """What the creation's read found, each part as its owner gives it (for its owner to read)."""

    holder: Sequence[Any]
    course: Sequence[Any] | None
    counts: Sequence[int]
    bound: bool
    wallet: Sequence[Any] | None
    payable_id: uuid.UUID | None
    phone: Any
    email: Any


def checkout_statement(
    *,
    card: Callable[[str], str],
    course: Callable[[str, str], str],
    wallet: Callable[[str], str],
    payable: Callable[[str], str],
    phone: Callable[[str], str],
    email: Callable[[str], str],
) -> Composed:
    """Everything the creation's checks and writes need, in one statement (parameters ``card_index``,
    ``course_id``, ``platform_id``, ``account_index``): the card holder (``card``), the course with the platform's
    listing (``course``: a row source), the holder's purchases by status and whether the platform's account paid
    with another card, the wallet (``wallet``) and the institution's payable (``payable``: an id), the verified
    phone (``phone``) and the account's e-mail (``email``); no row when there is no such card."""
    holder = card("%(card_index)s")
    listed = course("%(course_id)s", "%(platform_id)s")
    sql = (
        f"SELECT h, c, {_counts_sql('h.applicant_id')}, {_bound_sql('h.id')}, {wallet('h.applicant_id')},"
        f" {payable('c.institution_id')}, {phone('h.account_id')}, {email('h.account_id')}"
        f" FROM ({holder}) h LEFT JOIN ({listed}) c ON true WHERE {FRAME_GATE}"
    )
    return Composed.of(sql, holder, listed)


async def checkout_on_loop(
    conn: asyncpg.Connection, statement: Composed, params: dict[str, Any], frame: FrameReader | None = None
) -> CheckoutRow | None:
    """The :func:`checkout_statement` read on a loop connection: one round trip (the call's claim folded in, through
    ``frame``)."""
    row = await _first_read(conn, statement, params, frame)
    return None if row is None else CheckoutRow(*row)


_INSERT_PURCHASE_SQL = (
    "INSERT INTO training_purchases (id, created_at, recipient_id, participant_id, account_id, course_id,"
    " institution_id, platform_id, platform_order_id, platform_account_index, amount, refunded_amount, status,"
    " otp_hash, otp_expires_at, otp_attempts, pending_transfer_id, cancel_reason) VALUES (%(purchase_id)s,"
    " %(purchase_created_at)s, %(purchase_recipient_id)s, %(purchase_participant_id)s, %(purchase_account_id)s,"
    " %(purchase_course_id)s, %(purchase_institution_id)s, %(purchase_platform_id)s, %(purchase_platform_order_id)s,"
    " %(purchase_platform_account_index)s, %(purchase_amount)s, 0, %(purchase_status)s, %(purchase_otp_hash)s,"
    " %(purchase_otp_expires_at)s, 0, %(purchase_pending_transfer_id)s, '')"
)
"""A new purchase: the columns :func:`add` writes for a ``Purchase`` made by ``purchases.create`` (``purchase_`` and
the column's name)."""


def purchase_params(values: dict[str, Any]) -> dict[str, Any]:
    """The parameters of the purchase's INSERT in :func:`creation_statement` for these column values."""
    return {f"purchase_{column}": value for column, value in values.items()}


def creation_statement(
    *,
    posting: str,
    entries: str,
    message: str | None = None,
    job: Callable[[str], str] | None = None,
    answer: str | None = None,
) -> Composed:
    """Every write of a purchase's creation in one statement: the purchase, the audit entries (``entries``: an
    INSERT), the message (``message``: an INSERT ... RETURNING) with its job (``job``: a SELECT over the message),
    and the reserve (``posting``: the posting function's SELECT of one row). The answer is the jobs deferred
    (counted so that their SELECT runs) then the posting function's columns. The INSERTs run whatever the posting
    function answers: on a refusal the caller raises and its transaction is rolled back (nothing written). With
    ``answer`` (a CTE: the signed call's stored answer, ADR 0043), that too."""
    parts = [_INSERT_PURCHASE_SQL, entries, posting]
    ctes = [f"purchase AS ({_INSERT_PURCHASE_SQL})", f"entries AS ({entries})"]
    jobs = "0"
    if message is not None:
        assert job is not None
        deferred = job("message")
        parts += [message, deferred]
        ctes += [f"message AS ({message})", f"job AS ({deferred})"]
        jobs = "(SELECT count(*) FROM job)"
    if answer is not None:
        parts.append(answer)
        ctes.append(answer)
    ctes.append(f"posting AS ({posting})")
    return Composed.of("WITH " + ", ".join(ctes) + f" SELECT {jobs} AS jobs, posting.* FROM posting", *parts)


async def create_on_loop(conn: asyncpg.Connection, statement: Composed, params: dict[str, Any]) -> Sequence[Any]:
    """The :func:`creation_statement` on a loop connection, in the caller's transaction: one round trip; the
    posting function's row (its columns as they are: a ``jsonb`` inside a record would reach asyncpg in binary)."""
    row = await conn.fetchrow(statement.sql, *arguments(statement.names, params))
    assert row is not None
    return tuple(row)[1:]


# The confirmation in two statements (ADR 0032): the purchase locked with everything the confirmation reads, then
# every write in one statement. Each other domain's share is its own repository's SQL, given by its service (a
# ``LATERAL`` subquery to read, an :class:`SqlPart` to write); this repository writes the training tables' SQL and
# places the parts.

_CONFIRM_READ_SQL = (
    "SELECT p.id, p.platform_id, p.institution_id, p.participant_id, p.course_id, p.amount, p.status::text AS status,"
    " p.otp_hash, p.otp_expires_at, s.*, e.*, {wallet} AS wallet FROM training_purchases p"
    " CROSS JOIN LATERAL ({sessions}) s CROSS JOIN LATERAL ({endpoints}) e WHERE p.id = %(id)s AND {gate}"
    " FOR UPDATE OF p"
)


def confirm_read_sql(*, sessions: str, endpoints: str, wallet: str) -> Composed:
    """The confirmation's read: the purchase locked (``FOR UPDATE``, as :func:`purchase` with ``lock``), its
    course's sessions and the partners' endpoints (each a ``LATERAL`` subquery of its domain) and the participant's
    wallet (the ledger's record expression, read back by ``ledger.account_of``), on the purchase's columns
    (``p.course_id``, ``p.platform_id``, ``p.institution_id``, ``p.participant_id``); one parameter, the purchase's
    id (``id``). Built once, at import."""
    return Composed.of(_CONFIRM_READ_SQL.format(sessions=sessions, endpoints=endpoints, wallet=wallet, gate=FRAME_GATE))


async def purchase_for_confirm_on_loop(
    conn: asyncpg.Connection, statement: Composed, purchase_id: uuid.UUID | None, frame: FrameReader | None = None
) -> Mapping[str, Any] | None:
    """The purchase locked and the confirmation's other reads (:func:`confirm_read_sql`) in one round trip (the
    call's claim folded in, through ``frame``); None when there is no such purchase. By column name."""
    if frame is None:
        found: asyncpg.Record | None = await conn.fetchrow(
            statement.sql, *arguments(statement.names, {"id": purchase_id})
        )
        return found
    row = await frame.read(conn, statement.source, FRAME_GATE, {"id": purchase_id})
    if row is None or row["id"] is None:
        return None
    return row


CONFIRMED = "EXISTS (SELECT FROM confirmed)"
"""The condition the confirmation's other writes are gated on: the purchase was confirmed by this statement."""

_CONFIRM_WRITE_SQL = (
    "WITH taken AS (SELECT code FROM training_redeem_codes WHERE code = ANY(%(drawn)s::text[])"
    " UNION ALL SELECT voucher_code FROM training_purchases WHERE voucher_code = ANY(%(drawn)s::text[])),"
    " confirmed AS (UPDATE training_purchases SET status = 'confirmed', confirmed_at = %(now)s,"
    " voucher_code = %(voucher)s WHERE id = %(id)s AND status = 'otp_sent' AND NOT EXISTS (SELECT FROM taken)"
    " RETURNING id, institution_id),"
    " codes AS (INSERT INTO training_redeem_codes (id, created_at, purchase_id, session_id, institution_id,"
    " training_type, code, state, valid_from, valid_until) SELECT c.id, %(now)s, confirmed.id, c.session_id,"
    " confirmed.institution_id, c.training_type, c.code, 'valid', c.valid_from, c.valid_until FROM confirmed,"
    " unnest(%(ids)s::uuid[], %(sessions)s::uuid[], %(types)s::text[], %(codes)s::text[],"
    " %(froms)s::timestamptz[], %(untils)s::timestamptz[])"
    " AS c(id, session_id, training_type, code, valid_from, valid_until)), {parts}"
    " SELECT ARRAY(SELECT code FROM taken)::text[] AS taken{touch}"
)


async def confirm_on_loop(
    conn: asyncpg.Connection,
    *,
    purchase_id: uuid.UUID,
    voucher: str,
    now: datetime,
    codes: list[dict[str, Any]],
    parts: Sequence[SqlPart],
) -> set[str]:
    """Every write of a confirmation in one statement (ADR 0032): the purchase confirmed with its voucher and its
    redeem codes (as :func:`add_codes` writes them: id, session_id, training_type, code, valid_from, valid_until;
    each code's institution the confirmed row's, as its reference to the purchase requires, ADR 0040),
    then the ``parts`` (the events, the webhooks, the audit entry), each gated on :data:`CONFIRMED`. The codes are
    first checked as :func:`taken_codes` does: the answer is the codes already a voucher or a redeem code, and when
    there is one, nothing at all was written (the caller draws those again and sends the statement again)."""
    touch = tuple(expression for part in parts for expression in part.touch)
    sql, names = positional_cached(
        _CONFIRM_WRITE_SQL.format(
            parts=", ".join(part.sql for part in parts), touch="".join(f", {expression}" for expression in touch)
        )
    )
    params: dict[str, Any] = {
        "id": purchase_id,
        "now": now,
        "voucher": voucher,
        "drawn": [voucher] + [c["code"] for c in codes],
        "ids": [c["id"] for c in codes],
        "sessions": [c["session_id"] for c in codes],
        "types": [c["training_type"] for c in codes],
        "codes": [c["code"] for c in codes],
        "froms": [c["valid_from"] for c in codes],
        "untils": [c["valid_until"] for c in codes],
    }
    taken = await conn.fetchval(sql, *arguments(names, with_parts(params, parts)))
    return set(taken)


_COUNT_WRONG_SQL = (
    "UPDATE training_purchases SET otp_attempts = otp_attempts + 1 WHERE id = %(id)s AND platform_id = %(platform)s"
    " AND status = 'otp_sent' AND otp_attempts + 1 < %(limit)s RETURNING otp_attempts"
)
_COUNT_WRONG_ON_LOOP, _COUNT_WRONG_NAMES = positional(_COUNT_WRONG_SQL)


async def count_wrong_otp_on_loop(
    conn: asyncpg.Connection, purchase_id: uuid.UUID, platform_id: uuid.UUID, limit: int
) -> int | None:
    """One wrong code counted in one statement (an autocommit connection commits it by itself) unless it would be
    the ``limit``-th, or the purchase is not the platform's or not awaiting its code: then None, nothing written."""
    params = {"id": purchase_id, "platform": platform_id, "limit": limit}
    found = await conn.fetchval(_COUNT_WRONG_ON_LOOP, *arguments(_COUNT_WRONG_NAMES, params))
    return None if found is None else int(found)

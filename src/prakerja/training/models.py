"""The marketplace's tables: purchases (with their voucher), redeem codes per participant and session, attendance
events, completions, refunds of sessions the program cancelled, ratings, platform agreements, the events waiting
for webhooks and the log of refused partner calls. Money is only referenced here (ledger transfer ids): the ledger
holds it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin


class PurchaseStatus(enum.StrEnum):
    """Where a purchase is (contract: ``status``)."""

    otp_sent = "otp_sent"
    """The price is reserved in the wallet; the participant was texted a one-time code."""
    confirmed = "confirmed"
    """The code was right: the voucher exists."""
    cancelled = "cancelled"
    """Cancelled before redemption (by the platform, wrong codes, an expired code or a revocation); reserve voided."""
    redeemed = "redeemed"
    """The institution redeemed the voucher: training under way."""
    completed = "completed"
    """The institution's completion was accepted; the payment captured."""


class CodeState(enum.StrEnum):
    """A redeem code's state (contract: ``valid``, ``used`` or ``cancelled``)."""

    valid = "valid"
    used = "used"
    cancelled = "cancelled"


class CompletionStatus(enum.StrEnum):
    accepted = "accepted"
    """Accepted: payment captured, certificate issued when passed."""
    in_review = "in_review"
    """Bursts or impossible timing: an officer decides."""
    refused = "refused"
    """An officer refused it; the institution may report again."""


class Purchase(IdMixin, TimestampMixin, Base):
    """A participant's purchase of a course through a platform, and its voucher."""

    __tablename__ = "training_purchases"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount < amount", name="refund_within_amount"),
        CheckConstraint("otp_attempts >= 0", name="otp_attempts_not_negative"),
        Index(None, "participant_id", "status"),
        Index(None, "platform_id", "platform_account_index"),
        # an institution's purchases (its portal's lists), and what a redeem code's (institution, purchase) refers
        # to (ADR 0040: the code's institution is its purchase's)
        UniqueConstraint("institution_id", "id"),
        # the purchases awaiting their code, by expiry (``expire_otps``); a confirmed or cancelled row leaves it
        Index(
            "ix_training_purchases_otp_sent_expires_at", "otp_expires_at", postgresql_where=text("status = 'otp_sent'")
        ),
        # a purchase has its voucher from its confirmation: the rows without one are not in the index
        Index(
            "uq_training_purchases_voucher_code",
            "voucher_code",
            unique=True,
            postgresql_where=text("voucher_code IS NOT NULL"),
        ),
    )

    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_recipients.id"))
    participant_id: Mapped[uuid.UUID]
    """The wallet owner in the ledger (the recipient's applicant id)."""
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"))
    """Not indexed (ADR 0044): an account's purchases are found by its participant."""
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_courses.id"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    platform_order_id: Mapped[str] = mapped_column(String(100))
    platform_account_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    """Blind index of the platform's account id (one platform account pays with one card)."""
    amount: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah: the listing's price at purchase."""
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    """Returned to the balance for sessions the program cancelled."""
    status: Mapped[PurchaseStatus] = mapped_column(
        Enum(PurchaseStatus, name="training_purchase_status", native_enum=False, length=16)
    )
    otp_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """Keyed hash of the one-time code (the code itself is never stored)."""
    otp_expires_at: Mapped[datetime]
    otp_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    """Wrong codes so far (the one thing a refused confirmation writes)."""
    pending_transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """The ledger's pending purchase transfer now reserving the price (replaced when a session is refunded)."""
    void_transfer_id: Mapped[uuid.UUID | None]
    capture_transfer_id: Mapped[uuid.UUID | None]
    voucher_code: Mapped[str | None] = mapped_column(String(16))
    """Unique once given (a partial unique index: the rows still without one are left out of it)."""
    confirmed_at: Mapped[datetime | None]
    redeemed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")


class RedeemCode(IdMixin, TimestampMixin, Base):
    """One participant's code for one session, valid from 1 hour before to 1 hour after the start."""

    __tablename__ = "training_redeem_codes"
    __table_args__ = (
        UniqueConstraint("purchase_id", "session_id"),
        Index(None, "session_id"),
        # the code's purchase and its institution in one reference (ADR 0040): the institution is the purchase's
        # (which refers to the partner), checked on the purchase's row instead of locking the institution's
        ForeignKeyConstraint(
            ["institution_id", "purchase_id"],
            ["training_purchases.institution_id", "training_purchases.id"],
            name="fk_training_redeem_codes_purchase_institution",
        ),
    )

    purchase_id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_course_sessions.id"))
    institution_id: Mapped[uuid.UUID]
    """The purchase's institution (the reference above holds it so)."""
    training_type: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[CodeState] = mapped_column(Enum(CodeState, name="training_code_state", native_enum=False, length=16))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    attended_at: Mapped[datetime | None]


class AttendanceEvent(IdMixin, TimestampMixin, Base):
    """A committed redeem code and what the attendance-proof provider said about it."""

    __tablename__ = "training_attendance_events"
    __table_args__ = (Index(None, "purchase_id"),)

    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_purchases.id"))
    redeem_code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_redeem_codes.id"), unique=True)
    session_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]
    provider: Mapped[str] = mapped_column(String(32))
    proof_ok: Mapped[bool] = mapped_column(Boolean)
    proof_reason: Mapped[str] = mapped_column(String(64), default="")
    needs_review: Mapped[bool] = mapped_column(Boolean)
    """A failed proof is not silently accepted: the completion goes to review."""


class Completion(IdMixin, TimestampMixin, Base):
    """An institution's report that a participant finished a course, and what became of it."""

    __tablename__ = "training_completions"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint("gross_amount >= 0 AND commission >= 0 AND commission <= gross_amount", name="amounts"),
        Index(
            "uq_training_completions_live",
            "purchase_id",
            unique=True,
            postgresql_where=text("status <> 'refused'"),
        ),
        Index(None, "institution_id", "created_at"),
        Index(None, "status", "decided_at"),
    )

    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_purchases.id"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    completed_at: Mapped[datetime]
    score: Mapped[int] = mapped_column(SmallInteger)
    passed: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[CompletionStatus] = mapped_column(
        Enum(CompletionStatus, name="training_completion_status", native_enum=False, length=16)
    )
    review_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    """Why it went to review (rule codes), kept after the decision."""
    capture_transfer_id: Mapped[uuid.UUID | None]
    gross_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    """Captured to the institution payable (0 until accepted)."""
    commission: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    """Of which the platform's commission."""
    certificate_id: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    """When accepted or refused (settlement periods use it)."""
    decided_by: Mapped[uuid.UUID | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")


class SessionRefund(IdMixin, TimestampMixin, Base):
    """A session the program cancelled, refunded to a purchase's balance (void, then a smaller reserve)."""

    __tablename__ = "training_session_refunds"
    __table_args__ = (UniqueConstraint("purchase_id", "session_id"), CheckConstraint("amount >= 0", name="amount"))

    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_purchases.id"))
    session_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    void_transfer_id: Mapped[uuid.UUID]
    new_pending_transfer_id: Mapped[uuid.UUID]


class Rating(IdMixin, TimestampMixin, Base):
    """1-5 stars and a written review, once per completed purchase."""

    __tablename__ = "training_ratings"
    __table_args__ = (CheckConstraint("stars >= 1 AND stars <= 5", name="stars_range"), Index(None, "course_id"))

    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_purchases.id"), unique=True)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_courses.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    review: Mapped[str] = mapped_column(Text)


class PlatformAgreement(Base):
    """A platform's commission out of each captured purchase, in basis points (absent: none)."""

    __tablename__ = "training_platform_agreements"

    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), primary_key=True)
    commission_bps: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class TrainingEvent(IdMixin, TimestampMixin, Base):
    """No longer written (ADR 0044): an event for a partner's webhook was recorded here and again as the partner's
    webhook event (``partners.models.WebhookEvent``: partner, type, the body as sent, when), which is now its only
    record. The table and its rows are kept until a later release drops it (expand, then contract)."""

    __tablename__ = "training_events"
    __table_args__ = (Index(None, "partner_id", "created_at"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class PartnerRefusal(IdMixin, TimestampMixin, Base):
    """No longer written: refused partner calls of every endpoint are logged by the partner API
    (``partners.models.PartnerRefusal``; migration 0021 copied these rows there). Kept until a later release drops
    the table (expand, then contract)."""

    __tablename__ = "training_partner_refusals"
    __table_args__ = (Index(None, "partner_id", "created_at"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    credential_id: Mapped[uuid.UUID]
    endpoint: Mapped[str] = mapped_column(String(100))
    """The route template, e.g. ``POST /partner/v1/purchases/{purchase_id}/confirm``."""
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger)

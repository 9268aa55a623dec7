"""The catalogue's tables: courses and their sessions, curation decisions, platform listings, and the links between
platforms and institutions that make a listing a conflict of interest. Partner organisations are referenced by id
(``auth_partners``, owned by ``partners``); the ``training`` domain builds purchases, vouchers and redeem codes
on these rows."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class CourseFormat(enum.StrEnum):
    """How a course is delivered (contract: ``format``)."""

    webinar = "webinar"
    """Live online sessions."""
    self_paced = "self_paced"
    """Self-paced online learning (SPL), no live sessions required."""
    offline = "offline"
    """In a classroom (luring)."""
    hybrid = "hybrid"
    """Some sessions online, some in a classroom."""


class TrainingType(enum.StrEnum):
    """Where one session happens; a redeem code belongs to one type (``redeem_code_type_mismatch``)."""

    online = "online"
    offline = "offline"


class CourseStatus(enum.StrEnum):
    """Where a course is in curation (contract: ``status``)."""

    in_curation = "in_curation"
    """Submitted or changed; waiting for an officer."""
    approved = "approved"
    """Curated and approved: platforms may list and sell it."""
    changes_requested = "changes_requested"
    """The officer asked the institution to change it; a change sends it back to curation."""
    rejected = "rejected"
    """Refused; a change sends it back to curation."""


class Decision(enum.StrEnum):
    """An officer's curation decision."""

    approved = "approved"
    changes_requested = "changes_requested"
    rejected = "rejected"


class ListingStatus(enum.StrEnum):
    """Whether a platform sells a course now."""

    listed = "listed"
    """On sale at ``price`` (still only while the course is approved)."""
    suspended = "suspended"
    """The course was re-curated at a price below the listing's: the platform must put the listing again."""


class LinkKind(enum.StrEnum):
    """Why a platform and an institution are linked (KPK 2020: 5 of 8 platforms listed their own institutions)."""

    ownership = "ownership"
    """One owns the other, or both have the same owner."""
    shared_person = "shared_person"
    """A director, commissioner or owner of one is also one of the other's."""


class Course(IdMixin, TimestampMixin, Base):
    """A course an institution submitted. ``price`` is the curated price: no platform may sell above it."""

    __tablename__ = "catalog_courses"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("outside_price >= 0", name="outside_price_not_negative"),
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("class_size > 0", name="class_size_positive"),
        CheckConstraint("trainer_count > 0", name="trainer_count_positive"),
        CheckConstraint("version > 0", name="version_positive"),
        Index(None, "status", "category"),
        Index(None, "institution_id"),
        Index("ix_catalog_courses_search", "search", postgresql_using="gin"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    """The training institution (a partner organisation of role ``institution``)."""
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    """One of :data:`prakerja.catalog.rules.CATEGORIES`."""
    competency_standard: Mapped[str] = mapped_column(String(300))
    """The competency standard it trains to (e.g. an SKKNI unit or KKNI level)."""
    syllabus: Mapped[str] = mapped_column(Text)
    format: Mapped[CourseFormat] = mapped_column(
        Enum(CourseFormat, name="catalog_course_format", native_enum=False, length=16)
    )
    hours: Mapped[int] = mapped_column(Integer)
    """Total hours of the course."""
    class_size: Mapped[int] = mapped_column(Integer)
    """Most participants in one class."""
    trainer_count: Mapped[int] = mapped_column(Integer)
    trainers: Mapped[str] = mapped_column(Encrypted("catalog_courses.trainers"))
    """JSON list of ``{"name", "qualification"}``: names are personal data, so the list is stored encrypted."""
    price: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah: the price asked of the program (the curated price once approved)."""
    outside_price: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah: the price of the same course outside the program (0: free elsewhere)."""
    outside_url: Mapped[str] = mapped_column(String(500), default="")
    """Where the outside price can be seen, if anywhere."""
    interactive: Mapped[bool] = mapped_column(Boolean)
    """The institution declares that trainers and participants interact (questions, feedback, assignments)."""
    status: Mapped[CourseStatus] = mapped_column(
        Enum(CourseStatus, name="catalog_course_status", native_enum=False, length=24)
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Counts changes: a decision names the version it decided on."""
    scheme_name: Mapped[str] = mapped_column(String(64))
    """The scheme whose training rules the course is curated against (the one in force at submission)."""
    updated_at: Mapped[datetime]
    """When the course was last submitted or changed."""
    approved_at: Mapped[datetime | None]
    """When the current version was approved (empty unless approved)."""
    rating_average: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    """Participants' average stars (1-5); written by the training domain once ratings exist."""
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('indonesian'::regconfig, (title)::text), 'A'::\"char\") || "
            "setweight(to_tsvector('indonesian'::regconfig, (competency_standard)::text), 'B'::\"char\") || "
            "setweight(to_tsvector('indonesian'::regconfig, syllabus), 'C'::\"char\")",
            persisted=True,
        ),
        deferred=True,
    )
    """Full-text search document, Indonesian stemming (generated by PostgreSQL, GIN-indexed)."""


class CourseSession(IdMixin, Base):
    """One scheduled session of a course. The ``training`` domain issues one redeem code per participant and
    session, of the session's ``training_type``, valid around ``starts_at``."""

    __tablename__ = "catalog_course_sessions"
    __table_args__ = (
        UniqueConstraint("course_id", "position"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_in_a_day"),
        CheckConstraint(
            "training_type <> 'offline' OR (province_code IS NOT NULL AND place <> '')", name="offline_has_place"
        ),
        Index(None, "province_code", "course_id"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    """1, 2, ... in the order of ``starts_at``."""
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    training_type: Mapped[TrainingType] = mapped_column(
        Enum(TrainingType, name="catalog_training_type", native_enum=False, length=16)
    )
    place: Mapped[str] = mapped_column(String(300), default="")
    """The venue's address for an offline session (a public place, not a person's address)."""
    province_code: Mapped[str | None] = mapped_column(String(2))
    """Kemendagri province code of an offline session's venue."""
    cancelled_at: Mapped[datetime | None]
    """Set when the session is cancelled (the training domain refunds and cancels its redeem codes)."""


class CurationDecision(IdMixin, TimestampMixin, Base):
    """An officer's decision on one version of a course, with the automatic checks it saw (invariant 5)."""

    __tablename__ = "catalog_curation_decisions"
    __table_args__ = (Index(None, "course_id", "created_at"),)

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_courses.id", ondelete="CASCADE"))
    course_version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[Decision] = mapped_column(Enum(Decision, name="catalog_decision", native_enum=False, length=24))
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    """Reason codes the officer gave (rule codes or :data:`prakerja.catalog.rules.OFFICER_REASONS`)."""
    note: Mapped[str] = mapped_column(Text, default="")
    """The officer's words to the institution."""
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Every automatic check's code and outcome at the time of the decision."""
    scheme_name: Mapped[str] = mapped_column(String(64))
    scheme_version: Mapped[str] = mapped_column(String(32))
    scheme_hash: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the course fields the checks read."""
    officer_id: Mapped[uuid.UUID | None]
    """The officer's account."""


class Listing(IdMixin, TimestampMixin, Base):
    """A platform sells an approved course at a price not above the curated price."""

    __tablename__ = "catalog_listings"
    __table_args__ = (
        UniqueConstraint("course_id", "platform_id"),
        CheckConstraint("price > 0", name="price_positive"),
        Index(None, "platform_id"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_courses.id"))
    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    url: Mapped[str] = mapped_column(String(500))
    """The course's page on the platform."""
    price: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah charged to the participant's balance."""
    status: Mapped[ListingStatus] = mapped_column(
        Enum(ListingStatus, name="catalog_listing_status", native_enum=False, length=16)
    )
    updated_at: Mapped[datetime]


class PartnerLink(IdMixin, TimestampMixin, Base):
    """An officer-recorded link between a platform and an institution (ownership or a shared person)."""

    __tablename__ = "catalog_partner_links"
    __table_args__ = (
        Index(
            "uq_catalog_partner_links_active",
            "platform_id",
            "institution_id",
            "kind",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index(None, "institution_id"),
    )

    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    kind: Mapped[LinkKind] = mapped_column(Enum(LinkKind, name="catalog_link_kind", native_enum=False, length=16))
    evidence: Mapped[str] = mapped_column(Encrypted("catalog_partner_links.evidence"))
    """What shows the link (deed, register extract, the shared person): may name people, so encrypted."""
    recorded_by: Mapped[uuid.UUID | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None]

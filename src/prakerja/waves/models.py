from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class WaveState(enum.StrEnum):
    """Where a wave is in its life; it only moves forward."""

    draft = "draft"
    """Being prepared by the PMO: quotas and tiers may change."""
    open = "open"
    """Applicants may join."""
    closed = "closed"
    """Joining stopped; eligibility re-checked and the eligible set frozen."""
    committed = "committed"
    """eligible.csv and the signed commitment are published; nothing about the draw may change."""
    drawn = "drawn"
    """The named public random value was revealed and the draw ran; results are not public yet."""
    announced = "announced"
    """Results published; recipients created and everybody told."""


class StratumLevel(enum.StrEnum):
    """What a quota is set for."""

    province = "province"
    """Two-digit province code."""
    regency = "regency"
    """Four-digit regency/city code."""


class EntryStatus(enum.StrEnum):
    """An applicant's entry in one wave."""

    joined = "joined"
    """Joined; eligibility re-checked at close."""
    eligible = "eligible"
    """Eligible at close: in eligible.csv."""
    ineligible = "ineligible"
    """Not eligible at close: not in the draw."""
    recipient = "recipient"
    """Selected (or promoted from the waitlist) and made a recipient at announcement."""
    not_selected = "not_selected"
    """Took part in the draw without becoming a recipient; may join a later wave."""


class Wave(IdMixin, TimestampMixin, Base):
    """A recruitment round. ``id`` (as text) is the public ``wave_id`` of the lottery contract."""

    __tablename__ = "waves_waves"
    __table_args__ = (
        CheckConstraint("total_quota >= 0", name="total_quota_not_negative"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    number: Mapped[int] = mapped_column(Integer, unique=True)
    """Gelombang 1, 2, 3... (some rules depend on it, e.g. the age cap from wave 18)."""
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[WaveState] = mapped_column(
        Enum(WaveState, name="waves_state", native_enum=False, length=16), default=WaveState.draft
    )
    scheme_name: Mapped[str] = mapped_column(String(64))
    """The scheme in force for this wave, frozen at creation."""
    scheme_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the scheme file at creation: the wave refuses to run under an edited scheme."""
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    total_quota: Mapped[int] = mapped_column(Integer)
    stratum_level: Mapped[StratumLevel] = mapped_column(
        Enum(StratumLevel, name="waves_stratum_level", native_enum=False, length=16)
    )
    provinces: Mapped[list[str]] = mapped_column(JSONB, default=list)
    """Province codes whose residents may join; empty means the whole country."""
    priority_tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    """Ordered tiers ``{"name", "whitelist_types": [...], "regencies": [...]}``; tier = first match, else last+1."""
    quota_method: Mapped[str] = mapped_column(String(32), default="")
    """How the stratum quotas were set: ``csv``, ``applicants`` or ``labour_force``."""
    closed_at: Mapped[datetime | None]
    eligible_count: Mapped[int | None] = mapped_column(Integer)
    ineligible_count: Mapped[int | None] = mapped_column(Integer)


class Quota(Base):
    """Places in one stratum of a wave."""

    __tablename__ = "waves_quotas"
    __table_args__ = (CheckConstraint("quota >= 0", name="quota_not_negative"),)

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("waves_waves.id", ondelete="CASCADE"), primary_key=True)
    stratum: Mapped[str] = mapped_column(String(4), primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)


class Entry(IdMixin, Base):
    """One applicant in one wave. No personal data here but the entry secret (encrypted)."""

    __tablename__ = "waves_entries"
    __table_args__ = (
        UniqueConstraint("wave_id", "applicant_id"),
        UniqueConstraint("wave_id", "entry_hash"),
        Index("uq_waves_entries_one_active_wave", "applicant_id", unique=True, postgresql_where=text("active")),
        Index(None, "wave_id", "status"),
    )

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("waves_waves.id", ondelete="CASCADE"))
    applicant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """The registration domain's applicant (no cross-domain foreign key)."""
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(4))
    """Domicile province or regency code at joining, at the wave's stratum level."""
    regency: Mapped[str] = mapped_column(String(4))
    """Domicile regency at joining (priority regencies are matched on it)."""
    joined_at: Mapped[datetime]
    """Registration time in the wave; the fairness check tests selection is independent of it."""
    consent_at: Mapped[datetime]
    entry_secret: Mapped[str] = mapped_column(Encrypted("waves_entries.entry_secret"))
    """Hex of the 32 random bytes only the applicant is shown; links them to the published files."""
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256 per the lottery contract: the public, anonymous name of the entry."""
    status: Mapped[EntryStatus] = mapped_column(
        Enum(EntryStatus, name="waves_entry_status", native_enum=False, length=16), default=EntryStatus.joined
    )
    tier: Mapped[int | None] = mapped_column(Integer)
    """Priority tier fixed at close (0 is highest)."""
    ineligible_reason: Mapped[str | None] = mapped_column(String(64))
    """Reason code of the close-time decision (never shown to the applicant verbatim)."""
    decision_ref: Mapped[str | None] = mapped_column(String(64))
    """The eligibility decision behind the close-time status."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    """True until the wave is announced: one active wave per applicant (partial unique index)."""
    note: Mapped[str] = mapped_column(Text, default="")
    told_at: Mapped[datetime | None]
    """When an applicant found ineligible at close was told the outcome after the announcement (the job's progress
    marker; entries in the draw are tracked on their ``selection_results`` row instead)."""


class RegionList(IdMixin, TimestampMixin, Base):
    """A named list of regency codes with its provenance (e.g. the extreme-poverty regencies of a decree's annex),
    imported by the PMO and usable as a priority tier. Never edited: a corrected list is imported under a new name,
    so a wave that froze a list's codes can always be traced back to it."""

    __tablename__ = "waves_region_lists"
    __table_args__ = (CheckConstraint("jsonb_array_length(codes) > 0", name="codes_not_empty"),)

    name: Mapped[str] = mapped_column(String(64), unique=True)
    """Slug used in tiers, e.g. ``kemiskinan-ekstrem-2022``."""
    source: Mapped[str] = mapped_column(String(500))
    """The regulation or document the codes come from (e.g. the decree and its annex)."""
    as_of: Mapped[date]
    """The date the source fixes the list (the decree's date)."""
    codes: Mapped[list[str]] = mapped_column(JSONB)
    """Sorted 4-digit Kemendagri regency/city codes, each checked against the official region list at import."""
    codes_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the codes joined by newlines: a wave records it with the codes it froze."""
    imported_by: Mapped[str] = mapped_column(String(64))
    """Who imported it (account id or ``operator_cli``); the audit log has the full record."""

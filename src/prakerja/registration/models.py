"""Applicant profiles, identity checks against the civil registry, account tokens, rate limits, exclusion lists,
integrity signals and flags, and the basic ability test. Personal fields are encrypted; look-ups use blind indexes."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.clock import utcnow
from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class IdentityStatus(enum.StrEnum):
    """Where the civil-registry (Dukcapil) check of an applicant stands."""

    unsubmitted = "unsubmitted"
    """The profile has not been submitted yet."""
    pending = "pending"
    """Submitted; the verification job has not answered yet."""
    matched = "matched"
    """The registry holds this person with the same NIK, KK, names and birth date."""
    name_mismatch = "name_mismatch"
    mother_name_mismatch = "mother_name_mismatch"
    nik_kk_mismatch = "nik_kk_mismatch"
    birth_date_mismatch = "birth_date_mismatch"
    not_found = "not_found"
    deceased = "deceased"


class Applicant(IdMixin, TimestampMixin, Base):
    """One person's profile, built step by step by the wizard and kept across waves."""

    __tablename__ = "registration_applicants"
    __table_args__ = (
        CheckConstraint("sex IS NULL OR sex IN ('M', 'F')", name="sex"),
        # partial: a profile has no regency until its address step, and an identity submission pays per index entry
        Index(None, "domicile_regency", postgresql_where=text("domicile_regency IS NOT NULL")),
        # partial: records imported offline have no account, phone or IP, and a bulk import pays per index entry
        Index(None, "registration_ip_index", "created_at", postgresql_where=text("registration_ip_index IS NOT NULL")),
        Index(
            "uq_registration_applicants_account_id",
            "account_id",
            unique=True,
            postgresql_where=text("account_id IS NOT NULL"),
        ),
        Index(
            "uq_registration_applicants_phone_index",
            "phone_index",
            unique=True,
            postgresql_where=text("phone_index IS NOT NULL"),
        ),
    )

    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_accounts.id"))
    """Empty for records imported offline (regional manpower offices) until the person signs up and claims it."""
    nik: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.nik"))
    nik_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    """Blind index of the NIK: one profile per NIK."""
    kk: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.kk"))
    kk_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Blind index of the KK, read with the profile (selection's snapshots, the per-family cap counts recipients'
    own index); no query looks profiles up by it, so no index (migration 0038_subpg)."""
    birth_date: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.birth_date"))
    """ISO date, encrypted."""
    sex: Mapped[str | None] = mapped_column(String(1))
    """``M`` or ``F`` (the NIK adds 40 to the birth day for women)."""
    full_name: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.full_name"))
    mother_maiden_name: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.mother_maiden_name"))
    ktp_address: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.ktp_address"))
    domicile_address: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.domicile_address"))
    domicile_province: Mapped[str | None] = mapped_column(String(2))
    domicile_regency: Mapped[str | None] = mapped_column(String(4))
    domicile_district: Mapped[str | None] = mapped_column(String(6))
    ktp_province: Mapped[str | None] = mapped_column(String(2), info={"not_personal": True})
    """Region codes of the KTP address (like the domicile's): public administrative areas, not personal data;
    the address text itself is encrypted."""
    ktp_regency: Mapped[str | None] = mapped_column(String(4), info={"not_personal": True})
    """The KTP address's regency: what the KK's region is compared with (``service.kk_region``)."""
    ktp_district: Mapped[str | None] = mapped_column(String(6), info={"not_personal": True})
    """The KTP address's district code (Kemendagri); empty for profiles saved before it was asked."""
    education: Mapped[str | None] = mapped_column(String(16))
    job_status: Mapped[str | None] = mapped_column(String(24))
    has_disability: Mapped[bool | None] = mapped_column(Boolean)
    former_migrant_worker: Mapped[bool | None] = mapped_column(Boolean)
    is_citizen: Mapped[bool | None] = mapped_column(Boolean)
    declared_student: Mapped[bool | None] = mapped_column(Boolean)
    """The applicant says they are in formal education."""
    phone: Mapped[str | None] = mapped_column(Encrypted("registration_applicants.phone"))
    phone_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    phone_verified_at: Mapped[datetime | None]
    ktp_photo_path: Mapped[str | None] = mapped_column(String(255))
    """Storage key of the encrypted KTP photo."""
    ktp_photo_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    declaration_version: Mapped[str | None] = mapped_column(String(16))
    declared_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(16))
    consented_at: Mapped[datetime | None]
    identity_status: Mapped[str] = mapped_column(String(24), default=IdentityStatus.unsubmitted.value)
    """An :class:`IdentityStatus` value."""
    submitted_at: Mapped[datetime | None]
    identity_checked_at: Mapped[datetime | None]
    registration_ip_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Blind index of the IP the profile was started from (burst detection)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdentityCheck(IdMixin, TimestampMixin, Base):
    """One request to the civil registry, written with the submission that causes it."""

    __tablename__ = "registration_identity_checks"

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_applicants.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(24))
    """An :class:`IdentityStatus` value once answered."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64))
    """A code (``timeout``, ``unavailable``, ``circuit_open``, ``bad_answer``), never personal data."""
    completed_at: Mapped[datetime | None]


class PhoneOtp(IdMixin, TimestampMixin, Base):
    """A 6-digit code sent by SMS to confirm a phone number."""

    __tablename__ = "registration_phone_otps"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    phone: Mapped[str] = mapped_column(Encrypted("registration_phone_otps.phone"))
    phone_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """HMAC of the code (keyed, so a database reader cannot brute-force 10^6 codes offline)."""
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None]


class ListKind(enum.StrEnum):
    exclusion = "exclusion"
    """People on it may not join."""
    whitelist = "whitelist"
    """People on it get priority in selection."""


EXCLUSION_TYPES = (
    "asn",
    "tni",
    "polri",
    "state_official",
    "dprd",
    "village_official",
    "bumn_board",
    "student",
    "other_aid_dtks",
    "other_aid_bsu",
    "other_aid_bpum",
    "past_recipient",
    "revoked",
)
"""Exclusion list types, the same names the eligibility engine knows (``eligibility.rules.LIST_TYPES``): civil
servants (ASN), TNI, Polri, state officials, DPR/DPRD, village officials, BUMN/BUMD boards, students (education
and religious-affairs school databases, told apart by ``source``), other aid (DTKS, BSU, BPUM), past recipients
and revoked memberships."""

WHITELIST_TYPES = ("laid_off", "migrant_returnee")
"""Priority list types (e.g. the labour ministry's list of laid-off workers)."""


class ListImport(IdMixin, TimestampMixin, Base):
    """Provenance of one imported exclusion list or whitelist file."""

    __tablename__ = "registration_list_imports"

    kind: Mapped[str] = mapped_column(String(16))
    list_type: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(200))
    """Who supplied it, e.g. ``BKN`` or ``Kemnaker``."""
    as_of: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(8))
    """``replace`` (the file is the whole list) or ``merge`` (the file adds to it)."""
    imported_by: Mapped[uuid.UUID | None]
    """The account that imported it; empty when run from the command line."""
    imported_via: Mapped[str] = mapped_column(String(16))
    """``cli`` or ``api``."""
    file_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    rows_read: Mapped[int] = mapped_column(BigInteger)
    rows_invalid: Mapped[int] = mapped_column(BigInteger)
    rows_added: Mapped[int] = mapped_column(BigInteger)
    rows_removed: Mapped[int] = mapped_column(BigInteger)
    rows_total: Mapped[int] = mapped_column(BigInteger)
    """Size of the list after this import."""


class ListEntry(Base):
    """One NIK on one list, as its blind index only."""

    __tablename__ = "registration_list_entries"
    __table_args__ = (Index(None, "nik_index"),)

    list_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    """Who listed it; a ``replace`` import replaces only its own source's entries of that type."""
    nik_index: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_list_imports.id"))


class Signal(TimestampMixin, Base):
    """Something an applicant used that others might share: phone, device, IP, payout account (blind index).

    Keyed by what it says (applicant, kind, value), each recorded once: one index a row, the key's (migration
    0038_subpg: no surrogate id, no index by value; the integrity scan reads the whole table)."""

    __tablename__ = "registration_signals"

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_applicants.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """``phone``, ``device``, ``ip`` or ``payout_account``."""
    value_index: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


class IntegrityFlag(IdMixin, TimestampMixin, Base):
    """A pattern worth a human look (never an automatic rejection)."""

    __tablename__ = "registration_integrity_flags"
    __table_args__ = (UniqueConstraint("applicant_id", "kind"),)

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_applicants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    """``shared_phone``, ``shared_device``, ``shared_ip``, ``shared_payout_account`` or ``ip_burst``."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """Counts and windows only; no personal data."""
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    review_note: Mapped[str | None] = mapped_column(String(500))


class AbilityAttempt(IdMixin, TimestampMixin, Base):
    """One sitting of the basic ability and motivation test; one per applicant per wave."""

    __tablename__ = "registration_ability_attempts"
    __table_args__ = (UniqueConstraint("applicant_id", "wave_ref"),)

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_applicants.id"))
    wave_ref: Mapped[str] = mapped_column(String(64))
    """The wave this attempt counts for (the waves domain's id or number, as text)."""
    item_ids: Mapped[list[str]] = mapped_column(JSONB)
    deadline_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    score_verbal: Mapped[int | None] = mapped_column(Integer)
    score_numeric: Mapped[int | None] = mapped_column(Integer)
    score_motivation: Mapped[int | None] = mapped_column(Integer)
    score_total: Mapped[int | None] = mapped_column(Integer)
    """Percentage 0-100 over all items; unanswered and late answers score zero."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class Role(enum.StrEnum):
    """What an account may do."""

    applicant = "applicant"
    """A person registering for, or taking part in, the program."""
    pmo_admin = "pmo_admin"
    """Program office administrator: runs waves, selection, partners."""
    pmo_officer = "pmo_officer"
    """Program office officer: looks up applicants, handles complaints."""
    institution = "institution"
    """Training institution (Lembaga Pelatihan)."""
    platform = "platform"
    """Digital platform selling courses."""
    payment_partner = "payment_partner"
    """Bank or e-wallet paying incentives."""
    auditor = "auditor"
    """Read-only oversight (BPK, KPK)."""
    researcher = "researcher"
    """Read-only, pseudonymised evaluation data."""


PMO_ROLES = frozenset({Role.pmo_admin, Role.pmo_officer})


class Account(IdMixin, TimestampMixin, Base):
    """A login. The e-mail is personal data: stored encrypted, found through its blind index."""

    __tablename__ = "auth_accounts"

    email: Mapped[str] = mapped_column(Encrypted("auth_accounts.email"))
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    """HMAC blind index of the normalised e-mail."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id."""
    role: Mapped[Role] = mapped_column(Enum(Role, name="auth_role", native_enum=False, length=32))
    display_name: Mapped[str] = mapped_column(Encrypted("auth_accounts.display_name"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class LoginSession(TimestampMixin, Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccountToken(TimestampMixin, Base):
    """E-mail verification and password-reset links. Only the token's SHA-256 is stored."""

    __tablename__ = "registration_account_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    """``verify_email`` or ``reset_password``."""
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateLimit(Base):
    """A fixed-window counter shared by every process: one row per (action, subject)."""

    __tablename__ = "registration_rate_limits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_started_at: Mapped[datetime]
    hits: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]


class AccountSignal(TimestampMixin, Base):
    """A device or IP an account was created from, before it has a profile (blind index only). The integrity scan
    counts it for the applicant the account becomes."""

    __tablename__ = "registration_account_signals"
    __table_args__ = (Index(None, "kind", "value_index"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """``device`` or ``ip``."""
    value_index: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)

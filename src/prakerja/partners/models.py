"""Partner organisations, their credentials for the signed partner API (``/partner/v1``), and the signatures
it has seen.

Partner organisations and their credentials for the signed partner API (``/partner/v1``).

A credential is a public ``client_code`` with one or more signing keys: several keys are active at once while a
partner rotates. A key's secret is needed again to verify each request's HMAC, so it is stored encrypted (the
same AES-GCM as personal data, with a key id for rotation), never hashed and never in plaintext."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class PartnerRole(enum.StrEnum):
    """What kind of organisation calls the partner API; endpoints allow some roles only."""

    ministry = "ministry"
    """A ministry or agency supplying exclusion lists and whitelists."""
    platform = "platform"
    """A digital platform selling courses."""
    institution = "institution"
    """A training institution (Lembaga Pelatihan)."""
    payment_partner = "payment_partner"
    """A bank or e-wallet paying incentives."""


class PartnerStatus(enum.StrEnum):
    """Whether the organisation's credentials are honoured."""

    active = "active"
    """Requests signed with its unrevoked keys are accepted."""
    suspended = "suspended"
    """Every request is refused with ``credential_revoked`` until the program office reactivates it."""


class PartnerOrganisation(IdMixin, TimestampMixin, Base):
    """An organisation allowed to call the partner API."""

    __tablename__ = "auth_partners"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    """Its official name, e.g. ``Badan Kepegawaian Negara``."""
    role: Mapped[PartnerRole] = mapped_column(Enum(PartnerRole, name="auth_partner_role", native_enum=False, length=32))
    status: Mapped[PartnerStatus] = mapped_column(
        Enum(PartnerStatus, name="auth_partner_status", native_enum=False, length=16), default=PartnerStatus.active
    )
    status_changed_at: Mapped[datetime | None]
    """When it was last suspended or reactivated."""


class PartnerCredential(IdMixin, TimestampMixin, Base):
    """A public ``client_code`` a partner signs with; its keys are :class:`PartnerKey` rows."""

    __tablename__ = "auth_partner_credentials"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    client_code: Mapped[str] = mapped_column(String(64), unique=True)
    """Sent in the ``client_code`` header; public."""
    label: Mapped[str] = mapped_column(String(200), default="")
    """What the partner uses it for, e.g. ``production`` or ``staging``."""
    revoked_at: Mapped[datetime | None]
    """Set when the whole credential is revoked: none of its keys are honoured any more."""
    list_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    """The exclusion lists and whitelists this credential may import (empty: none)."""
    list_source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The source its imports are recorded under (e.g. ``BKN``): a ``replace`` touches only this source's entries,
    and the request cannot name another."""


class PartnerKey(IdMixin, TimestampMixin, Base):
    """One signing key of a credential. Shown once when issued; stored only encrypted."""

    __tablename__ = "auth_partner_keys"

    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partner_credentials.id"), index=True)
    secret: Mapped[str] = mapped_column(Encrypted("auth_partner_keys.secret"))
    """The key as given to the partner (43 URL-safe characters from 32 random bytes); its UTF-8 bytes are the
    HMAC-SHA256 key."""
    issued_by: Mapped[uuid.UUID | None]
    """The officer's account; empty when issued from the command line."""
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None]
    revoked_reason: Mapped[str] = mapped_column(Text, default="")


class SeenSignature(Base):
    """A signature accepted in the last 300 seconds: the same one again is a replay. Kept in PostgreSQL so every
    web process sees every other's; rows past ``expires_at`` are purged by ``partners.purge_signatures``."""

    __tablename__ = "partner_seen_signatures"
    __table_args__ = (Index(None, "expires_at"),)

    credential_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime]
    """The request's timestamp plus the window: after it, the request is refused as stale anyway."""


class RateWindow(Base):
    """Requests a credential made in one minute (``partners.service.count_request``): past the setting
    ``partner_rate_limit_per_minute`` the API answers 429 ``rate_limited``. Old windows are purged with the seen
    signatures."""

    __tablename__ = "partner_rate_windows"

    credential_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(Integer)

"""Partner organisations, their credentials for the signed partner API (``/partner/v1``), and the signatures
it has seen; their profiles (legal entity, contacts, documents, trainers) and the accounts that work for them.

Partner organisations and their credentials for the signed partner API (``/partner/v1``).

A credential is a public ``client_code`` with one or more signing keys: several keys are active at once while a
partner rotates. A key's secret is needed again to verify each request's HMAC, so it is stored encrypted (the
same AES-GCM as personal data, with a key id for rotation), never hashed and never in plaintext."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    """Where the organisation stands with the program: designated, suspended, delisted (final)."""

    active = "active"
    """Designated by the program office: requests signed with its unrevoked keys are accepted."""
    suspended = "suspended"
    """Every request is refused with ``credential_revoked`` until the program office reactivates it."""
    delisted = "delisted"
    """Removed from the program for good: every request is refused and no status change follows."""


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
    status_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    """The officer's reason for the last status change (also in the audit log)."""


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
    signatures. A minute's count is the sum of its shards (ADR 0043): shard 0 for an admission committed on its
    own, the server process's id for one counted in its call's own transaction (no two transactions at once share
    a row, so none waits for another's commit)."""

    __tablename__ = "partner_rate_windows"

    credential_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="0")
    hits: Mapped[int] = mapped_column(Integer)


class PartnerRefusal(IdMixin, TimestampMixin, Base):
    """A refused call to the signed partner API, kept for officers to review (partner abuse: bad signatures,
    stale timestamps, replays, unknown clients, malformed bodies, business refusals). Never the body, the
    signature or a key: the call's route, the refusal's code and status, and who claimed to call."""

    __tablename__ = "partner_refusals"
    __table_args__ = (Index(None, "partner_id", "created_at"), Index(None, "created_at"))

    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_partners.id"))
    """The organisation of the credential named by ``client_code`` (None when no credential has that code)."""
    credential_id: Mapped[uuid.UUID | None]
    client_code: Mapped[str] = mapped_column(String(64), default="")
    """The ``client_code`` header as sent (visible ASCII, cut at 64 characters): public, never a secret."""
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    """The signature was verified: the partner made this call (else someone claimed to be it)."""
    method: Mapped[str] = mapped_column(String(8))
    endpoint: Mapped[str] = mapped_column(String(200))
    """The route template, e.g. ``/partner/v1/purchases/{purchase_id}/confirm``."""
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger)
    remote: Mapped[str] = mapped_column(String(64), default="")
    """The caller's network address as the server saw it."""
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    """The officer who marked it reviewed (audited)."""


# --- webhooks we send (contract partner-api.md section 4) ----------------------------------------------------


class WebhookEventType(enum.StrEnum):
    """The events partners may receive (marketplace-api.md section 3); new ones are additive."""

    purchase_confirmed = "purchase.confirmed"
    """A participant confirmed a purchase with the one-time code (to the platform)."""
    purchase_cancelled = "purchase.cancelled"
    """A purchase was cancelled and the amount returned to the balance."""
    session_cancelled = "session.cancelled"
    """A training session was cancelled; the purchase is refunded to the balance."""
    completion_accepted = "completion.accepted"
    """A reported completion was accepted."""
    completion_refused = "completion.refused"
    """A reported completion was refused after review."""
    certificate_issued = "certificate.issued"
    certificate_revoked = "certificate.revoked"
    payout_succeeded = "payout.succeeded"
    """An incentive payment reached the participant's account (to the payment partner)."""
    payout_failed = "payout.failed"


class WebhookEndpointStatus(enum.StrEnum):
    active = "active"
    """Events are delivered to it."""
    disabled = "disabled"
    """Nothing is sent: the receiver answered 410 Gone, or the program office disabled it."""


class WebhookDeliveryStatus(enum.StrEnum):
    """Where one event stands for one endpoint."""

    pending = "pending"
    """Not yet delivered: the first attempt, or a retry, is scheduled."""
    succeeded = "succeeded"
    """The receiver answered 2xx; nothing more is sent."""
    failed = "failed"
    """Refused for good (a 4xx other than 410 and 429, a redirect) or retried for about 3 days in vain."""
    endpoint_disabled = "endpoint_disabled"
    """The endpoint was disabled before the event could be delivered."""


class WebhookAttemptOutcome(enum.StrEnum):
    """What one attempt led to (what the partner reads in the delivery log)."""

    succeeded = "succeeded"
    retrying = "retrying"
    """Timeout, network error, 5xx or 429: tried again at ``next_attempt_at``."""
    failed = "failed"
    """Not tried again."""
    endpoint_disabled = "endpoint_disabled"
    """The receiver answered 410 Gone: the endpoint is disabled."""


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A URL a partner organisation receives events on, with its Standard Webhooks secret."""

    __tablename__ = "partner_webhook_endpoints"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    """https (http only to a loopback address outside production)."""
    secret: Mapped[str] = mapped_column(Encrypted("partner_webhook_endpoints.secret"))
    """``whsec_`` + base64 of 24 random bytes; shown once, stored only encrypted (it is needed again to sign)."""
    status: Mapped[WebhookEndpointStatus] = mapped_column(
        Enum(WebhookEndpointStatus, name="partner_webhook_endpoint_status", native_enum=False, length=16),
        default=WebhookEndpointStatus.active,
    )
    status_changed_at: Mapped[datetime | None]
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    """Why it was last disabled, e.g. ``gone`` (the receiver answered 410)."""
    created_by: Mapped[uuid.UUID | None]
    """The officer's account; empty from the command line."""
    secret_rotated_at: Mapped[datetime | None]
    previous_secret: Mapped[str | None] = mapped_column(Encrypted("partner_webhook_endpoints.previous_secret"))
    """The secret before the last rotation: attempts carry a signature with it too until ``previous_secret_until``,
    so the partner can switch its verifier without losing events."""
    previous_secret_until: Mapped[datetime | None]


class WebhookEvent(IdMixin, TimestampMixin, Base):
    """One event for one partner organisation: its body is fixed when it is queued, so every attempt to every
    endpoint sends the same bytes under the same ``webhook-id``."""

    __tablename__ = "partner_webhook_events"
    __table_args__ = (UniqueConstraint("partner_id", "webhook_id"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    """Looked up through the unique index on (partner_id, webhook_id), which starts with it."""
    webhook_id: Mapped[str] = mapped_column(String(128))
    """The ``webhook-id`` header, stable per event: the partner deduplicates on it."""
    type: Mapped[WebhookEventType] = mapped_column(
        Enum(WebhookEventType, name="partner_webhook_event_type", native_enum=False, length=64)
    )
    body: Mapped[str] = mapped_column(Text)
    """The JSON body exactly as sent: ``{"type", "timestamp", "data"}`` (ids only, no personal data)."""


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event on its way to one endpoint."""

    __tablename__ = "partner_webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_webhook_events.id"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_webhook_endpoints.id"), index=True)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        Enum(WebhookDeliveryStatus, name="partner_webhook_delivery_status", native_enum=False, length=24),
        default=WebhookDeliveryStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts made so far; the job for attempt ``n`` does nothing unless exactly ``n - 1`` were made."""
    next_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class WebhookAttempt(IdMixin, Base):
    """One HTTP request to the partner's endpoint: the delivery log the partner reads."""

    __tablename__ = "partner_webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"), Index(None, "partner_id", "id"))

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_webhook_deliveries.id"))
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"))
    """The owner: only this partner reads the attempt."""
    number: Mapped[int] = mapped_column(Integer)
    """1 for the first attempt."""
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    """The receiver's HTTP status; empty when no answer came (see ``error``)."""
    error: Mapped[str] = mapped_column(String(64), default="")
    """``timeout`` or ``connection_error`` when no answer came."""
    outcome: Mapped[WebhookAttemptOutcome] = mapped_column(
        Enum(WebhookAttemptOutcome, name="partner_webhook_attempt_outcome", native_enum=False, length=24)
    )
    next_attempt_at: Mapped[datetime | None]
    """When the next attempt is scheduled (``retrying`` only)."""
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


# --- organisations' profiles and people ----------------------------------------------------------------------


class OwnerType(enum.StrEnum):
    """Who owns a training institution."""

    private = "private"
    """A private company or foundation (swasta)."""
    government = "government"
    """A ministry's or a region's training centre (BLK, balai)."""
    university = "university"
    """A university or polytechnic."""
    association = "association"
    """A professional or industry association."""
    other = "other"


class MemberRole(enum.StrEnum):
    """What a person does for the organisation in the portal."""

    admin = "admin"
    """Manages the organisation's courses or listings."""
    staff = "staff"
    """Works on them too (the same rights today; kept apart for the audit log)."""


class PartnerProfile(Base):
    """The organisation as a legal entity: what the program office designates."""

    __tablename__ = "partner_profiles"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    """The legal entity's name as in its deed (e.g. ``PT Nusantara Digital Edukasi``)."""
    registration_number: Mapped[str] = mapped_column(String(32), default="")
    """Nomor Induk Berusaha (NIB, 13 digits) from OSS."""
    address: Mapped[str] = mapped_column(Encrypted("partner_profiles.address"))
    """Registered office address (encrypted like every address)."""
    provinces: Mapped[list[str]] = mapped_column(JSONB, default=list)
    """Kemendagri province codes a platform reaches (the program asks for two thirds of the provinces)."""
    owner_type: Mapped[OwnerType | None] = mapped_column(
        Enum(OwnerType, name="partner_owner_type", native_enum=False, length=16)
    )
    """Institutions: who owns it."""
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None]


class PartnerContact(IdMixin, TimestampMixin, Base):
    """A person the program office contacts at the organisation. Name, e-mail and phone are personal data."""

    __tablename__ = "partner_contacts"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    name: Mapped[str] = mapped_column(Encrypted("partner_contacts.name"))
    email: Mapped[str] = mapped_column(Encrypted("partner_contacts.email"))
    phone: Mapped[str] = mapped_column(Encrypted("partner_contacts.phone"))
    position: Mapped[str] = mapped_column(String(100), default="")
    """Their function, e.g. ``Direktur`` or ``PIC teknis``."""
    removed_at: Mapped[datetime | None]


class PartnerDocument(IdMixin, TimestampMixin, Base):
    """A document the organisation handed in (deed, NIB, licence): its reference, not the file."""

    __tablename__ = "partner_documents"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    """``deed``, ``nib``, ``licence``, ``tax_number`` or ``other``."""
    reference: Mapped[str] = mapped_column(String(200))
    """The document's number or title, e.g. ``Akta No. 12/2020``."""
    added_by: Mapped[uuid.UUID | None]
    removed_at: Mapped[datetime | None]


class PartnerTrainer(IdMixin, TimestampMixin, Base):
    """A trainer of an institution. The name is personal data; the qualification is shown on course pages."""

    __tablename__ = "partner_trainers"

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    name: Mapped[str] = mapped_column(Encrypted("partner_trainers.name"))
    qualification: Mapped[str] = mapped_column(String(300))
    removed_at: Mapped[datetime | None]


class PartnerMember(IdMixin, TimestampMixin, Base):
    """A signed-in account working for an organisation: its portal shows that organisation. An account belongs to
    one organisation at a time."""

    __tablename__ = "partner_members"
    __table_args__ = (
        Index(
            "uq_partner_members_active_account", "account_id", unique=True, postgresql_where=text("removed_at IS NULL")
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"))
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_partners.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(Enum(MemberRole, name="partner_member_role", native_enum=False, length=16))
    added_by: Mapped[uuid.UUID | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None]

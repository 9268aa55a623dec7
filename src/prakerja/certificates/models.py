"""Tables of the certificates domain: signed certificates and the keys that signed them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, Sequence, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted

STATUS_INDEX_SEQUENCE = Sequence("certificates_status_index_seq", start=0, minvalue=0)
"""Status-list positions, handed out once each: a revoked certificate's bit is never given to another."""


class SigningKey(TimestampMixin, Base):
    """An Ed25519 key that signs certificates. Rows are never deleted: the DID document lists every key ever used,
    so certificates signed before a rotation stay verifiable. The private key is not here (settings or, outside
    production, ``PRAKERJA_HOME/certificate-keys.json``)."""

    __tablename__ = "certificates_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Key id: the DID URL fragment (``did:web:...#<id>``)."""
    public_key_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    """Multikey (``z6Mk...``): multicodec ed25519-pub, base58btc."""
    retired_at: Mapped[datetime | None]
    """When a newer key took over signing; the key stays in the DID document."""


class Certificate(IdMixin, TimestampMixin, Base):
    """One issued certificate. Its credential is rebuilt from these fields (``rules.credential``, format
    ``format``) and the stored proof, so the holder's name exists only encrypted."""

    __tablename__ = "certificates_certificates"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revoked_with_reason"),
        Index("ix_certificates_certificates_recipient_id", "recipient_id"),
    )

    completion_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """The accepted completion this certificate is for (the caller's id; issuing again returns the same row)."""
    recipient_id: Mapped[uuid.UUID]
    """The program participant (recipient) the certificate belongs to."""
    account_id: Mapped[uuid.UUID | None]
    """The participant's sign-in account, when known."""
    holder_name: Mapped[str] = mapped_column(Encrypted("certificates.holder_name"))
    """The name printed on the certificate, encrypted (personal data)."""
    course_id: Mapped[str | None] = mapped_column(String(64))
    """The course's id in the catalogue, when given (the achievement's id)."""
    course_title: Mapped[str] = mapped_column(Text)
    institution_name: Mapped[str] = mapped_column(Text)
    completed_at: Mapped[datetime]
    score: Mapped[int] = mapped_column(SmallInteger)
    issued_at: Mapped[datetime]
    """The credential's ``validFrom`` (whole seconds, UTC)."""
    status_index: Mapped[int] = mapped_column(BigInteger, STATUS_INDEX_SEQUENCE, unique=True)
    """Global position in the status lists (list = index // 131072 + 1)."""
    format: Mapped[int] = mapped_column(Integer)
    """Which builder made the credential (``rules.credential.FORMAT``)."""
    base_url: Mapped[str] = mapped_column(Text)
    """The public base URL the credential was issued under (its issuer DID and status list URL)."""
    key_id: Mapped[str] = mapped_column(ForeignKey("certificates_keys.id"))
    proof_created: Mapped[datetime]
    proof_value: Mapped[str] = mapped_column(String(128))
    """The Data Integrity ``proofValue`` (multibase base58btc Ed25519 signature)."""
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[uuid.UUID | None]

"""The recipient register: who was selected, with their Kartu Prakerja number and status. The table keeps the name
``selection_recipients`` it was created with (and the card number its encryption context): renaming it would
re-encrypt every card number for no gain (ADR 0007)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base, IdMixin, TimestampMixin
from prakerja.kit.pii import Encrypted


class RecipientStatus(enum.StrEnum):
    """Where a recipient stands."""

    active = "active"
    """A recipient with a card and a balance."""
    revoked = "revoked"
    """Membership revoked (e.g. first purchase deadline missed): never eligible again."""


class Recipient(IdMixin, TimestampMixin, Base):
    """A selected applicant: the Kartu Prakerja number, given once for a lifetime."""

    __tablename__ = "selection_recipients"

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("waves_waves.id"), index=True)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    applicant_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """Once per lifetime: one recipient row per applicant, ever."""
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_accounts.id"), index=True)
    kk_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    """Blind index of the family card (KK) at selection (at most two recipients per KK); empty only when the
    applicant's profile could not be read at announcement."""
    card_number: Mapped[str] = mapped_column(Encrypted("selection_recipients.card_number"))
    """16 digits, entered at a platform's checkout; encrypted, found through its blind index."""
    card_number_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    card_last4: Mapped[str] = mapped_column(String(4))
    scheme_name: Mapped[str] = mapped_column(String(64))
    training_balance: Mapped[int] = mapped_column(BigInteger)
    """Whole rupiah funded at selection (the ledger holds the money; this is the amount granted)."""
    funding_transfer_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    """Idempotency key of the ledger transfer (derived from wave and entry)."""
    funded_at: Mapped[datetime | None]
    first_purchase_deadline: Mapped[datetime]
    status: Mapped[RecipientStatus] = mapped_column(
        Enum(RecipientStatus, name="selection_recipient_status", native_enum=False, length=16),
        default=RecipientStatus.active,
    )
    revoked_at: Mapped[datetime | None]

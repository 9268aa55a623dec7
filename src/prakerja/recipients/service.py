"""The recipient register's use cases: who was selected, their card numbers and statuses, recipients per family
card. Never commits.

Selection writes here (:func:`register`, :func:`mark_funded`); waves reads the statuses and family-card counts at
joining and closing; the marketplace and payouts read a recipient by account or card number; :func:`revoke` ends a
membership (e.g. the first purchase deadline missed).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.pii import blind_index
from prakerja.recipients import repository, rules
from prakerja.recipients.models import Recipient, RecipientStatus

# ---------------------------------------------------------------------------------------------- reading


def recipient_by_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return repository.by_account(session, account_id)


def by_applicant(session: Session, applicant_id: uuid.UUID) -> Recipient | None:
    return repository.by_applicant(session, applicant_id)


def by_id(session: Session, recipient_id: uuid.UUID) -> Recipient | None:
    return repository.by_id(session, recipient_id)


def by_ids(session: Session, recipient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Recipient]:
    """Recipients by id, one query for the set (payouts' entitlements job)."""
    return {r.id: r for r in repository.by_ids(session, recipient_ids)}


def recipient_by_card(session: Session, card_number: str) -> Recipient | None:
    """For checkout: the recipient holding a 16-digit card number (looked up by its blind index)."""
    if not rules.card_number_shape_ok(card_number):
        return None
    return repository.by_card_index(session, blind_index(card_number.strip(), "card_number"))


@dataclass(frozen=True)
class CardHolder:
    """What checkout needs of the card's recipient (nothing personal)."""

    id: uuid.UUID
    applicant_id: uuid.UUID
    account_id: uuid.UUID
    status: RecipientStatus
    funded_at: datetime | None
    first_purchase_deadline: datetime


def card_index(card_number: str) -> bytes | None:
    """The blind index a card number is looked up by (as :func:`recipient_by_card` looks it up); None when it
    cannot be a card number, so there is nothing to look up."""
    if not rules.card_number_shape_ok(card_number):
        return None
    return blind_index(card_number.strip(), "card_number")


def card_holder_source(index: str) -> str:
    """A row source of at most one row, the :class:`CardHolder` facts (read by :func:`card_holder_of`) of the card
    whose blind index (:func:`card_index`) is the SQL expression ``index``: for a statement another domain's
    repository composes (ADR 0031). The recipient register's SQL stays here."""
    return repository.card_holder_sql(index)


def card_holder_of(row: Sequence[Any]) -> CardHolder:
    """A row of :func:`card_holder_source` as the :class:`CardHolder` :func:`recipient_by_card` would give."""
    recipient_id, applicant_id, account_id, status, funded_at, deadline = row
    return CardHolder(recipient_id, applicant_id, account_id, RecipientStatus(status), funded_at, deadline)


def active_past_deadline(
    session: Session, *, now: datetime, after: uuid.UUID | None = None, limit: int = 500
) -> list[Recipient]:
    """For the marketplace's deadline job: active recipients whose first-purchase deadline has passed, by id (page
    with ``after``). Whether they bought in time is the marketplace's to say."""
    return repository.active_past_deadline(session, now, after, limit)


def recipients_per_kk(session: Session, kk_indexes: Sequence[bytes]) -> dict[bytes, int]:
    """Recipients (of any wave, revoked included) per family card blind index (for the KK cap)."""
    return repository.per_kk(session, kk_indexes)


def recipient_statuses(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``active`` or ``revoked`` for applicants who have ever been recipients (once per lifetime)."""
    return repository.statuses(session, applicant_ids)


def is_recipient(session: Session, applicant_id: uuid.UUID) -> bool:
    return repository.by_applicant(session, applicant_id) is not None


# ---------------------------------------------------------------------------------------------- writing


def register(
    session: Session,
    *,
    wave_id: uuid.UUID,
    entry_hash: bytes,
    applicant_id: uuid.UUID,
    account_id: uuid.UUID,
    kk_index: bytes | None,
    scheme_name: str,
    training_balance: int,
    funding_transfer_id: uuid.UUID,
    first_purchase_deadline: datetime,
) -> tuple[Recipient, bool]:
    """A selected applicant becomes a recipient with a new card number, once per lifetime. Returns the recipient
    and whether it is new (an applicant already registered keeps their card: running it twice changes nothing)."""
    existing = repository.by_applicant(session, applicant_id)
    if existing is not None:
        return existing, False
    while True:
        card = rules.new_card_number()
        index = blind_index(card, "card_number")
        if not repository.card_index_taken(session, index):
            break
    recipient = Recipient(
        wave_id=wave_id,
        entry_hash=entry_hash,
        applicant_id=applicant_id,
        account_id=account_id,
        kk_index=kk_index,
        card_number=card,
        card_number_index=index,
        card_last4=card[-4:],
        scheme_name=scheme_name,
        training_balance=training_balance,
        funding_transfer_id=funding_transfer_id,
        first_purchase_deadline=first_purchase_deadline,
        status=RecipientStatus.active,
    )
    repository.add(session, recipient)
    return recipient, True


def mark_funded(session: Session, recipient: Recipient) -> None:
    """The training balance was transferred (by the ledger, in the same transaction)."""
    recipient.funded_at = utcnow()
    session.flush()


def revoke(session: Session, recipient_id: uuid.UUID) -> Recipient | None:
    """Membership revoked (never eligible again). Safe to run twice: a revoked recipient keeps its first date.
    None when there is no such recipient."""
    recipient = repository.by_id(session, recipient_id, lock=True)
    if recipient is None:
        return None
    if recipient.status is not RecipientStatus.revoked:
        recipient.status = RecipientStatus.revoked
        recipient.revoked_at = utcnow()
        session.flush()
    return recipient

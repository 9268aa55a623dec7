"""What a payment partner's people see in their portal: their own organisation's payout batches (with the runs
they belong to), each batch's instructions (account numbers masked, no personal data beyond that), the results
they reported (callbacks and status reports, applied or refused with the reason), their statements and the
reconciliation differences found in them. Everything is filtered by the provider of the signed-in account's
organisation: one partner never sees another's. Takes a session; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.partners import service as partners
from prakerja.partners.errors import NotAMember
from prakerja.payouts.errors import BatchNotFound
from prakerja.payouts.models import Difference, PayoutInstruction, PayoutProvider, PayoutResult, Statement
from prakerja.payouts.repository import reconciliation as repository
from prakerja.payouts.repository.reconciliation import BatchRow


@dataclass(frozen=True)
class Desk:
    """The signed-in person's organisation and its payout provider (none until the program office registers it)."""

    organisation: partners.Membership
    provider: PayoutProvider | None


def desk(session: Session, account_id: uuid.UUID) -> Desk:
    """``NotAMember`` (403) unless the account works for a payment partner."""
    found = partners.membership(session, account_id)
    if found.role != partners.PartnerRole.payment_partner:
        raise NotAMember()
    return Desk(found, repository.provider_of_partner(session, found.partner_id))


@dataclass(frozen=True)
class Home:
    desk: Desk
    batches: list[BatchRow]
    results: list[PayoutResult]
    statements: list[Statement]
    differences: list[Difference]
    open_differences: int


def home(session: Session, found: Desk) -> Home:
    if found.provider is None:
        return Home(found, [], [], [], [], 0)
    provider_id = found.provider.id
    return Home(
        found,
        repository.batches_of_provider(session, provider_id),
        repository.results_of_provider(session, provider_id),
        repository.statements(session, provider_id=provider_id),
        repository.differences(session, provider_id=provider_id),
        repository.open_difference_count(session, provider_id=provider_id),
    )


@dataclass(frozen=True)
class BatchPage:
    desk: Desk
    row: BatchRow
    instructions: Sequence[tuple[PayoutInstruction, str | None]]
    """Each instruction with the masked number of the account it pays."""


def batch(session: Session, found: Desk, batch_id: uuid.UUID) -> BatchPage:
    """One of this partner's batches; ``BatchNotFound`` for any other (another partner's included)."""
    row = repository.batch_of_provider(session, found.provider.id, batch_id) if found.provider else None
    if row is None:
        raise BatchNotFound()
    return BatchPage(found, row, repository.instructions_of_batch(session, batch_id))

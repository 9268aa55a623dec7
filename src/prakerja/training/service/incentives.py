"""What payouts reads about a participant's trainings to decide the post-training incentive: the first training
(first accepted completion) with its certificate, rating and written review, set-wise; who changed recently; and
how much training balance was spent (a clawback's amount). Takes a session; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from prakerja.training import repository


@dataclass(frozen=True)
class FirstTraining:
    """The first training of a recipient whose completion was accepted."""

    purchase_id: uuid.UUID
    accepted_at: datetime
    certificate: bool
    rating: bool
    review: bool
    """A written review (not only stars) was given."""


def first_trainings(session: Session, recipient_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, FirstTraining]:
    """By recipient id; recipients with no accepted completion are left out."""
    found = {}
    for recipient_id, purchase_id, decided_at, certificate_id, stars, review in repository.first_accepted(
        session, recipient_ids
    ):
        found[recipient_id] = FirstTraining(
            purchase_id=purchase_id,
            accepted_at=decided_at,
            certificate=certificate_id is not None,
            rating=stars is not None,
            review=bool(review and review.strip()),
        )
    return found


def recipients_changed_since(session: Session, since: datetime) -> list[uuid.UUID]:
    """Recipients with a completion accepted (and so a certificate issued) or a rating given since ``since``."""
    return repository.recipients_changed_since(session, since)


def accepted_recipients() -> Select[Any]:
    """The recipients with an accepted completion, as a query to compose with (never run alone: one statement)."""
    return repository.accepted_recipients()


def spent(session: Session, recipient_id: uuid.UUID) -> int:
    """Training balance spent on completed trainings, whole rupiah."""
    return repository.spent_by(session, recipient_id)

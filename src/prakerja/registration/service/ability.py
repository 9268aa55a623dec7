"""The basic ability and motivation test: timed, scored automatically, one attempt per applicant per wave.

Waves belong to another domain (above this one); an attempt is keyed by ``wave_ref``, the wave's number as text.
A test starts only for a wave that exists, is open and is open to the applicant: the caller passes that check
(:class:`WaveCheck`, the waves domain's answer wired in by the application), which also gives the canonical
reference, so ``18`` and ``018`` are one wave. Otherwise anybody could start tests for made-up waves and
harvest the item bank. Whether the score counts in selection is the scheme parameter
``eligibility.ability_test_affects_selection`` (default: it does not)."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id
from prakerja.registration import repository
from prakerja.registration.errors import ApplicantNotFound, AttemptClosed, AttemptExists
from prakerja.registration.models import AbilityAttempt
from prakerja.registration.rules import itembank


class WaveCheck(Protocol):
    """May this account take the test for this wave? Returns the wave's canonical reference; raises
    :class:`~prakerja.registration.errors.AbilityWaveNotFound` (404), ``AbilityWaveNotOpen`` or
    ``AbilityWaveNotForApplicant`` (409)."""

    def __call__(self, session: Session, account_id: uuid.UUID, wave_ref: str) -> str: ...


def _applicant_id(session: Session, account_id: uuid.UUID) -> uuid.UUID:
    applicant = repository.applicant_by_account(session, account_id)
    if applicant is None:
        raise ApplicantNotFound()
    return applicant.id


def items(attempt: AbilityAttempt | None) -> list[itembank.Item]:
    """The questions of an attempt, in the order it was drawn (none without an attempt)."""
    return [itembank.BY_ID[i] for i in attempt.item_ids] if attempt is not None else []


def time_limit_minutes() -> int:
    return int(itembank.TIME_LIMIT.total_seconds() // 60)


def current_attempt(session: Session, *, account_id: uuid.UUID, wave_ref: str) -> AbilityAttempt | None:
    applicant = repository.applicant_by_account(session, account_id)
    return None if applicant is None else repository.ability_attempt(session, applicant.id, wave_ref)


def start(session: Session, *, account_id: uuid.UUID, wave_ref: str, check_wave: WaveCheck) -> AbilityAttempt:
    """Start the one attempt for this wave (only when ``check_wave`` allows it); starting again returns the same
    unfinished attempt."""
    applicant_id = _applicant_id(session, account_id)
    wave_ref = check_wave(session, account_id, wave_ref)
    existing = repository.ability_attempt(session, applicant_id, wave_ref)
    if existing is not None:
        if existing.submitted_at is not None:
            raise AttemptExists()
        return existing
    attempt_id = new_id()
    created = repository.insert_ability_attempt(
        session,
        {
            "id": attempt_id,
            "applicant_id": applicant_id,
            "wave_ref": wave_ref,
            "item_ids": itembank.draw(str(attempt_id)),
            "deadline_at": utcnow() + itembank.TIME_LIMIT,
            "created_at": utcnow(),
        },
    )
    found = repository.ability_attempt(session, applicant_id, wave_ref)
    assert found is not None
    if not created and found.submitted_at is not None:
        raise AttemptExists()
    return found


def submit(session: Session, *, account_id: uuid.UUID, wave_ref: str, answers: dict[str, int]) -> AbilityAttempt:
    """Score at once. Answers after the deadline are not counted (the attempt still closes)."""
    applicant_id = _applicant_id(session, account_id)
    attempt = repository.ability_attempt(session, applicant_id, wave_ref, lock=True)
    if attempt is None:
        raise AttemptClosed(code="attempt_not_started")
    if attempt.submitted_at is not None:
        raise AttemptClosed()
    now = utcnow()
    counted = {k: v for k, v in answers.items() if k in attempt.item_ids} if now <= attempt.deadline_at else {}
    result = itembank.score(attempt.item_ids, counted)
    attempt.submitted_at, attempt.answers = now, counted
    attempt.score_verbal, attempt.score_numeric = result.verbal, result.numeric
    attempt.score_motivation, attempt.score_total = result.motivation, result.total
    session.flush()
    return attempt


def scores(session: Session, applicant_ids: list[uuid.UUID], wave_ref: str) -> dict[uuid.UUID, int]:
    """Total scores of submitted attempts for a wave (for selection when the scheme says the score counts)."""
    found: dict[uuid.UUID, int] = {}
    for applicant_id in applicant_ids:
        attempt = repository.ability_attempt(session, applicant_id, wave_ref)
        if attempt is not None and attempt.score_total is not None:
            found[applicant_id] = attempt.score_total
    return found

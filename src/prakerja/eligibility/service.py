"""Eligibility decisions: evaluate the pure rules and store every decision with the scheme version, the inputs'
hash and the reason codes. Other domains (waves at join, selection at close) call :func:`decide` and
:func:`decide_many`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from prakerja.eligibility import repository
from prakerja.eligibility.rules import ApplicantFacts, Decision, EligibilityParams, evaluate
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id

__all__ = [
    "ApplicantFacts",
    "EligibilityParams",
    "StoredDecision",
    "decide",
    "decide_many",
    "decisions_for",
    "params_for",
]


@dataclass(frozen=True)
class StoredDecision:
    id: uuid.UUID
    applicant_id: uuid.UUID
    context: str
    eligible: bool
    scheme_version: str
    """``scheme_name@scheme_version`` (with the rules version in the inputs' hash)."""
    inputs_hash: str
    reason_codes: list[str]
    checks: list[dict[str, Any]]
    decided_at: datetime


def params_for(scheme: Any, *, wave_number: int) -> EligibilityParams:
    """Map a scheme (``prakerja.schemes.rules.Scheme``) onto the engine's parameters for one wave."""
    return EligibilityParams(
        scheme_name=scheme.name,
        scheme_version=scheme.version,
        age_min=scheme.eligibility.age_min,
        age_max=scheme.age_max_for_wave(wave_number),
        kk_cap=scheme.kk_cap_for_wave(wave_number),
        exclude_other_aid=scheme.exclude_other_aid_for_wave(wave_number),
    )


def _row(applicant_id: uuid.UUID, decision: Decision, context: str, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "applicant_id": applicant_id,
        "context": context,
        "eligible": decision.eligible,
        "scheme_version": decision.scheme_version,
        "inputs_hash": decision.inputs_hash,
        "reason_codes": decision.reason_codes,
        "checks": [check.to_dict() for check in decision.checks],
        "decided_at": now,
    }


def _stored(row: dict[str, Any]) -> StoredDecision:
    return StoredDecision(**row)


def decide(
    session: Session, *, applicant_id: uuid.UUID, facts: ApplicantFacts, params: EligibilityParams, context: str
) -> StoredDecision:
    """Evaluate and store one decision (in the caller's transaction); returns it with its id."""
    row = _row(applicant_id, evaluate(facts, params), context, utcnow())
    repository.add_many(session, [row])
    return _stored(row)


def decide_many(
    session: Session,
    *,
    items: Sequence[tuple[uuid.UUID, ApplicantFacts]],
    params: EligibilityParams,
    context: str,
) -> list[StoredDecision]:
    """Evaluate many applicants and store all decisions with batched multi-row INSERTs; same order as ``items``."""
    now = utcnow()
    rows = [_row(applicant_id, evaluate(facts, params), context, now) for applicant_id, facts in items]
    repository.add_many(session, rows)
    return [_stored(row) for row in rows]


def decisions_for(session: Session, applicant_id: uuid.UUID, limit: int = 50) -> list[StoredDecision]:
    return [
        StoredDecision(
            id=r.id,
            applicant_id=r.applicant_id,
            context=r.context,
            eligible=r.eligible,
            scheme_version=r.scheme_version,
            inputs_hash=r.inputs_hash,
            reason_codes=list(r.reason_codes),
            checks=list(r.checks),
            decided_at=r.decided_at,
        )
        for r in repository.for_applicant(session, applicant_id, limit)
    ]

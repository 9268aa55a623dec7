"""Recording and verifying the audit log. Services of other domains call :func:`record`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import repository, rules
from prakerja.audit.models import AuditEntry
from prakerja.kit.clock import utcnow
from prakerja.kit.context import current_request_id
from prakerja.kit.pii import blind_index


@dataclass(frozen=True)
class Actor:
    """Who acts: an account in a role, or the system."""

    id: uuid.UUID | None
    role: str

    @classmethod
    def system(cls) -> Actor:
        return cls(id=None, role="system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    repository.lock_chain(session)
    current = repository.head(session)
    seq = (current.seq + 1) if current else 1
    prev = current.hash if current else rules.GENESIS
    occurred_at = utcnow()
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor_id": str(actor.id) if actor.id else None,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "reason": reason,
        "data": data or {},
        "request_id": current_request_id(),
    }
    digest = rules.chain_hash(prev, rules.canonical(**fields))
    entry = AuditEntry(**{**fields, "actor_id": actor.id}, prev_hash=prev, hash=digest)
    repository.add(session, entry)
    return entry


@dataclass
class VerifyReport:
    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, max_problems: int = 20) -> VerifyReport:
    """Recompute the chain: an edited row breaks its hash, an inserted or deleted row breaks the sequence
    or the link to the previous hash, a deleted tail disagrees with the recorded head."""
    problems: list[str] = []
    expected_seq = 1
    prev = rules.GENESIS
    checked = 0
    for entry in repository.iterate(session):
        checked += 1
        if entry.seq != expected_seq:
            problems.append(f"seq {expected_seq}: missing (next row is seq {entry.seq}): rows deleted")
            expected_seq = entry.seq
        if entry.prev_hash != prev:
            problems.append(f"seq {entry.seq}: does not link to the previous row: rows inserted or deleted")
        body = rules.canonical(
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            actor_id=str(entry.actor_id) if entry.actor_id else None,
            actor_role=entry.actor_role,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            reason=entry.reason,
            data=entry.data,
            request_id=entry.request_id,
        )
        if rules.chain_hash(entry.prev_hash, body) != entry.hash:
            problems.append(f"seq {entry.seq}: content does not match its hash: row edited")
        prev = entry.hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    head = repository.head(session)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev) and len(problems) < max_problems:
        problems.append(f"head says seq {head.seq} but the chain ends at seq {expected_seq - 1}: rows deleted")
    if head is None and checked:
        problems.append("the chain head is missing")
    return VerifyReport(checked=checked, problems=problems)


@dataclass(frozen=True)
class PseudonymousEntry:
    """An audit row as an auditor reads it: who and what are stable pseudonyms (the same account or object always
    gets the same one), never an identifier that leads to a person."""

    seq: int
    occurred_at: datetime
    actor_role: str
    actor: str
    action: str
    object_type: str
    object: str
    reason: str
    hash_prefix: str


def pseudonym(value: str | None, kind: str) -> str:
    """A keyed, one-way short name for an identifier (``-`` for none)."""
    if not value:
        return "-"
    return blind_index(value, f"audit-{kind}").hex()[:12]


def recent_pseudonymous(session: Session, *, limit: int = 100, before: int | None = None) -> list[PseudonymousEntry]:
    return [
        PseudonymousEntry(
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            actor_role=entry.actor_role,
            actor=pseudonym(str(entry.actor_id) if entry.actor_id else None, "actor"),
            action=entry.action,
            object_type=entry.object_type,
            object=pseudonym(entry.object_id, "object"),
            reason=entry.reason,
            hash_prefix=entry.hash.hex()[:16],
        )
        for entry in repository.recent(session, limit=limit, before=before)
    ]

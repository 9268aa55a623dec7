"""Recording and verifying the audit log. Services of other domains call :func:`record`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import repository, rules
from prakerja.db import SqlPart
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
) -> None:
    """Append one entry in the caller's transaction (it commits or rolls back with the change). The entry is
    linked into the chain (position, previous hash, hash) by the database right before that transaction commits,
    so the chain is in commit order and appends do not wait for one another until then (docs/adr/0012)."""
    fields: dict[str, Any] = {
        "occurred_at": utcnow(),
        "actor_id": str(actor.id) if actor.id else None,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "reason": reason,
        "data": data or {},
        "request_id": current_request_id(),
    }
    digest = rules.content_digest(**fields)
    repository.append(session, {**fields, "actor_id": actor.id, "body_digest": digest})


async def record_on_loop(
    conn: asyncpg.Connection,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """:func:`record` on a loop connection (``db.on_loop``, ADR 0014), in the transaction the caller opened on it:
    the same row (linked at commit by the same trigger)."""
    await repository.append_on_loop(conn, entry(actor, action, object_type, object_id, reason=reason, data=data))


def entry(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row :func:`record` appends (``data`` as JSON text, the digest computed), not yet written: for
    :func:`record_on_loop`, or for :data:`ENTRIES_SQL` in a statement another domain composes (ADR 0031)."""
    fields: dict[str, Any] = {
        "occurred_at": utcnow(),
        "actor_id": str(actor.id) if actor.id else None,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "reason": reason,
        "data": data or {},
        "request_id": current_request_id(),
    }
    digest = rules.content_digest(**fields)
    return {**fields, "actor_id": actor.id, "data": json.dumps(fields["data"]), "body_digest": digest}


ENTRIES_SQL = repository.APPEND_MANY_SQL
"""An INSERT of several entries in the order given (its parameters from :func:`entries_params`), linked at commit by
the same trigger as :func:`record`'s: a part of a statement another domain's repository composes (ADR 0031)."""


def entries_params(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of :data:`ENTRIES_SQL` for these rows of :func:`entry`."""
    return repository.append_many_params(entries)


def record_part(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID,
    *,
    gate: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> SqlPart:
    """:func:`record_on_loop`'s row (:func:`entry`) as a part of a statement another domain's repository composes
    (ADR 0032): the same INSERT as :data:`ENTRIES_SQL`, written only when ``gate`` (an SQL condition of that
    statement) holds, linked at commit by the same trigger."""
    return repository.append_part([entry(actor, action, object_type, object_id, reason=reason, data=data)], gate=gate)


@dataclass
class VerifyReport:
    checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, max_problems: int = 20) -> VerifyReport:
    """Recompute the chain: an edited entry breaks its hash, an inserted, deleted or moved entry or link breaks the
    sequence or the link to the previous hash, a deleted tail disagrees with the recorded head, an entry slipped in
    without a link (or whose link was removed) has none, a link whose entry was removed has no entry. Read it from a
    transaction with no audit entries of its own still to commit."""
    problems: list[str] = []
    expected_seq = 1
    prev = rules.GENESIS
    checked = 0
    for link, entry in repository.iterate(session):
        checked += 1
        seq = link.seq
        if seq != expected_seq:
            problems.append(f"seq {expected_seq}: missing (next row is seq {seq}): rows deleted")
            expected_seq = seq
        if link.prev_hash != prev:
            problems.append(f"seq {seq}: does not link to the previous row: rows inserted, deleted or reordered")
        if entry is None:
            problems.append(f"seq {seq}: its entry (id {link.entry_id}) is missing: row deleted")
        else:
            content: dict[str, Any] = {
                "occurred_at": entry.occurred_at,
                "actor_id": str(entry.actor_id) if entry.actor_id else None,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "reason": entry.reason,
                "data": entry.data,
                "request_id": entry.request_id,
            }
            if entry.body_digest is None:  # written before 0021: the first formula
                computed = rules.chain_hash(link.prev_hash, rules.canonical(seq=seq, **content))
            else:
                digest = rules.content_digest(**content)
                computed = rules.linked_hash(link.prev_hash, seq, digest)
                if digest != entry.body_digest:
                    problems.append(f"seq {seq}: content does not match its digest: row edited")
            if computed != link.hash:
                problems.append(f"seq {seq}: content does not match its hash: row edited")
        prev = link.hash
        expected_seq = seq + 1
        if len(problems) >= max_problems:
            break
    if len(problems) < max_problems:
        problems.extend(
            f"entry id {i}: not linked into the chain (written past the link step, or its link removed)"
            for i in repository.unlinked(session)
        )
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
            seq=link.seq,
            occurred_at=entry.occurred_at,
            actor_role=entry.actor_role,
            actor=pseudonym(str(entry.actor_id) if entry.actor_id else None, "actor"),
            action=entry.action,
            object_type=entry.object_type,
            object=pseudonym(entry.object_id, "object"),
            reason=entry.reason,
            hash_prefix=link.hash.hex()[:16],
        )
        for link, entry in repository.recent(session, limit=limit, before=before)
    ]

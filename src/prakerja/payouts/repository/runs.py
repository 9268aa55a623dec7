"""Every query on the payouts tables. Runs, batches and instructions take row locks in one order (run, then
instructions by id), so two workers on the same run wait for each other instead of doing the same work twice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from prakerja.payouts.models import (
    AccountFailure,
    AccountStatus,
    BatchStatus,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    InstructionStatus,
    PayoutAccount,
    PayoutBatch,
    PayoutInstruction,
    PayoutProvider,
    PayoutResult,
    PayoutRun,
    RunKind,
    RunStatus,
)

OPEN = (InstructionStatus.ready, InstructionStatus.sent)

# providers ----------------------------------------------------------------------------------------------------


def provider_by_code(session: Session, code: str) -> PayoutProvider | None:
    return session.scalars(select(PayoutProvider).where(PayoutProvider.code == code)).one_or_none()


def providers(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PayoutProvider]:
    rows = session.scalars(select(PayoutProvider).where(PayoutProvider.id.in_(list(ids)))).all()
    return {p.id: p for p in rows}


# runs -----------------------------------------------------------------------------------------------------------


def insert_run_if_absent(session: Session, *, kind: RunKind, run_date: date, started_by: str, now: datetime) -> bool:
    """Create the run of (kind, day) unless it exists; True when this call created it."""
    created = session.execute(
        insert(PayoutRun)
        .values(
            id=uuid.uuid4(),
            kind=kind,
            run_date=run_date,
            status=RunStatus.preparing,
            started_by=started_by,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "run_date"])
        .returning(PayoutRun.id)
    ).first()
    return created is not None


def lock_run(session: Session, kind: RunKind, run_date: date) -> PayoutRun:
    return session.scalars(
        select(PayoutRun).where(PayoutRun.kind == kind, PayoutRun.run_date == run_date).with_for_update()
    ).one()


def run(session: Session, run_id: uuid.UUID, *, lock: bool = False) -> PayoutRun | None:
    query = select(PayoutRun).where(PayoutRun.id == run_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def recent_runs(session: Session, limit: int = 30) -> Sequence[PayoutRun]:
    return session.scalars(select(PayoutRun).order_by(PayoutRun.run_date.desc(), PayoutRun.kind).limit(limit)).all()


def unfinished_runs(session: Session) -> Sequence[PayoutRun]:
    return session.scalars(
        select(PayoutRun).where(PayoutRun.status != RunStatus.completed).order_by(PayoutRun.run_date)
    ).all()


def due_entitlements(
    session: Session, *, kinds: Sequence[EntitlementKind], on: date
) -> list[tuple[Entitlement, PayoutAccount]]:
    """Scheduled entitlements due by ``on`` whose participant has an active account at an active provider,
    locked (rows another worker holds are skipped: they are in its run)."""
    rows = session.execute(
        select(Entitlement, PayoutAccount)
        .join(
            PayoutAccount,
            and_(PayoutAccount.recipient_id == Entitlement.recipient_id, PayoutAccount.status == AccountStatus.active),
        )
        .join(PayoutProvider, and_(PayoutProvider.id == PayoutAccount.provider_id, PayoutProvider.active))
        .where(
            Entitlement.status == EntitlementStatus.scheduled,
            Entitlement.schedule_transfer_id.is_not(None),
            Entitlement.due_on <= on,
            Entitlement.kind.in_(list(kinds)),
        )
        .order_by(Entitlement.id)
        .with_for_update(of=Entitlement, skip_locked=True)
    ).all()
    return [(e, a) for e, a in rows]


def attempts_made(session: Session, entitlement_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(PayoutInstruction.entitlement_id, func.max(PayoutInstruction.attempt))
        .where(PayoutInstruction.entitlement_id.in_(list(entitlement_ids)))
        .group_by(PayoutInstruction.entitlement_id)
    ).all()
    return {r[0]: int(r[1]) for r in rows if r[0] is not None}


def batches(session: Session, run_id: uuid.UUID) -> Sequence[PayoutBatch]:
    return session.scalars(select(PayoutBatch).where(PayoutBatch.run_id == run_id).order_by(PayoutBatch.id)).all()


def batch(session: Session, batch_id: uuid.UUID) -> PayoutBatch | None:
    return session.get(PayoutBatch, batch_id)


def instructions(session: Session, batch_id: uuid.UUID) -> Sequence[PayoutInstruction]:
    return session.scalars(
        select(PayoutInstruction).where(PayoutInstruction.batch_id == batch_id).order_by(PayoutInstruction.id)
    ).all()


def open_instructions(
    session: Session, batch_id: uuid.UUID, status: InstructionStatus, *, due_by: datetime | None = None
) -> Sequence[PayoutInstruction]:
    query = select(PayoutInstruction).where(PayoutInstruction.batch_id == batch_id, PayoutInstruction.status == status)
    if due_by is not None:
        query = query.where((PayoutInstruction.next_check_at.is_(None)) | (PayoutInstruction.next_check_at <= due_by))
    return session.scalars(query.order_by(PayoutInstruction.id)).all()


def count_open(session: Session, batch_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(PayoutInstruction)
            .where(PayoutInstruction.batch_id == batch_id, PayoutInstruction.status.in_(OPEN))
        )
        or 0
    )


def mark_sending(session: Session, ids: Sequence[uuid.UUID], *, reference: str, retry_at: datetime) -> None:
    """Before the HTTP call: one more send of each (so a restart knows it may have reached the partner)."""
    session.execute(
        update(PayoutInstruction)
        .where(PayoutInstruction.id.in_(list(ids)), PayoutInstruction.status == InstructionStatus.ready)
        .values(sends=PayoutInstruction.sends + 1, next_check_at=retry_at, provider_reference=reference)
    )


def mark_sent(session: Session, ids: Sequence[uuid.UUID], *, check_at: datetime) -> None:
    """After the partner took them; a result that came by callback in between is left as it is."""
    session.execute(
        update(PayoutInstruction)
        .where(PayoutInstruction.id.in_(list(ids)), PayoutInstruction.status == InstructionStatus.ready)
        .values(status=InstructionStatus.sent, next_check_at=check_at)
    )


def set_batch_status(session: Session, batch_id: uuid.UUID, status: BatchStatus, *, now: datetime) -> None:
    values: dict[str, object] = {"status": status}
    if status is BatchStatus.sent:
        values["sent_at"] = now
    session.execute(update(PayoutBatch).where(PayoutBatch.id == batch_id).values(**values))


def counts_by_status(session: Session, run_id: uuid.UUID) -> dict[tuple[uuid.UUID, str], tuple[int, int]]:
    """(batch id, instruction status) -> (count, amount)."""
    rows = session.execute(
        select(PayoutInstruction.batch_id, PayoutInstruction.status, func.count(), func.sum(PayoutInstruction.amount))
        .where(PayoutInstruction.run_id == run_id)
        .group_by(PayoutInstruction.batch_id, PayoutInstruction.status)
    ).all()
    return {(r[0], str(r[1])): (int(r[2]), int(r[3] or 0)) for r in rows}


# instructions and results -----------------------------------------------------------------------------------


def instruction_by_e2e(session: Session, end_to_end_id: str, *, lock: bool = False) -> PayoutInstruction | None:
    query = select(PayoutInstruction).where(PayoutInstruction.end_to_end_id == end_to_end_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def entitlement(session: Session, entitlement_id: uuid.UUID, *, lock: bool = False) -> Entitlement | None:
    return session.get(Entitlement, entitlement_id, with_for_update=lock)


def insert_result(session: Session, values: dict[str, object]) -> uuid.UUID | None:
    """Store a partner's report once per (provider, event id); None when the same event was stored before."""
    row = session.execute(
        insert(PayoutResult)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=["provider_id", "event_id"])
        .returning(PayoutResult.id)
    ).first()
    return row[0] if row is not None else None


def decide_result(session: Session, result_id: uuid.UUID, *, applied: bool, rejection: str | None) -> None:
    session.execute(
        update(PayoutResult).where(PayoutResult.id == result_id).values(applied=applied, rejection=rejection)
    )


def results_for(session: Session, end_to_end_id: str) -> Sequence[PayoutResult]:
    return session.scalars(
        select(PayoutResult).where(PayoutResult.end_to_end_id == end_to_end_id).order_by(PayoutResult.received_at)
    ).all()


def account_failed(session: Session, account_id: uuid.UUID, *, now: datetime) -> None:
    """A payout to a linked account failed for an account reason: the participant must link again."""
    session.execute(
        update(PayoutAccount)
        .where(PayoutAccount.id == account_id, PayoutAccount.status == AccountStatus.active)
        .values(status=AccountStatus.rejected, failure_reason=AccountFailure.closed_after_link)
    )


def account(session: Session, account_id: uuid.UUID) -> PayoutAccount | None:
    return session.get(PayoutAccount, account_id)


def unclaimed(session: Session, *, before_year: int, limit: int) -> Sequence[Entitlement]:
    """Entitlements of years already over that were never paid, locked."""
    return session.scalars(
        select(Entitlement)
        .where(
            Entitlement.year < before_year,
            Entitlement.status.in_(
                [EntitlementStatus.scheduled, EntitlementStatus.needs_action, EntitlementStatus.blocked]
            ),
        )
        .order_by(Entitlement.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def try_advisory_lock(connection: Connection, key: int) -> bool:
    """A session-level lock on ``connection`` (held across its transactions until unlocked or closed)."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def advisory_unlock(connection: Connection, key: int) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def run_of(session: Session, kind: RunKind, run_date: date) -> PayoutRun | None:
    query = select(PayoutRun).where(PayoutRun.kind == kind, PayoutRun.run_date == run_date)
    return session.scalars(query).one_or_none()

"""Every query on the payouts tables. Runs, batches and instructions take row locks in one order (run, then
instructions by id), so two workers on the same run wait for each other instead of doing the same work twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Uuid, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.ids import new_id_block
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


def insert_run_if_absent(
    session: Session, *, kind: RunKind, run_date: date, started_by: str, now: datetime, sequence: int = 1
) -> bool:
    """Create the run of (kind, day, sequence) unless it exists; True when this call created it."""
    created = session.execute(
        insert(PayoutRun)
        .values(
            id=uuid.uuid4(),
            kind=kind,
            run_date=run_date,
            sequence=sequence,
            status=RunStatus.preparing,
            started_by=started_by,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "run_date", "sequence"])
        .returning(PayoutRun.id)
    ).first()
    return created is not None


def lock_run(session: Session, kind: RunKind, run_date: date, sequence: int = 1) -> PayoutRun:
    return session.scalars(
        select(PayoutRun)
        .where(PayoutRun.kind == kind, PayoutRun.run_date == run_date, PayoutRun.sequence == sequence)
        .with_for_update()
    ).one()


def run(session: Session, run_id: uuid.UUID, *, lock: bool = False) -> PayoutRun | None:
    query = select(PayoutRun).where(PayoutRun.id == run_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def recent_runs(session: Session, limit: int = 30) -> Sequence[PayoutRun]:
    return session.scalars(
        select(PayoutRun).order_by(PayoutRun.run_date.desc(), PayoutRun.kind, PayoutRun.sequence.desc()).limit(limit)
    ).all()


def unfinished_runs(session: Session) -> Sequence[PayoutRun]:
    return session.scalars(
        select(PayoutRun).where(PayoutRun.status != RunStatus.completed).order_by(PayoutRun.run_date)
    ).all()


def _ids(ids: Sequence[uuid.UUID]) -> object:
    """``= ANY(array)``: one parameter however many ids (an ``IN`` list is limited to 65,535 parameters)."""
    return any_(bindparam(None, list(ids), type_=ARRAY(Uuid())))


@dataclass(frozen=True, slots=True)
class Due:
    """A due entitlement claimed for a run (now ``in_flight``), with the account and provider it is paid to."""

    entitlement_id: uuid.UUID
    participant_id: uuid.UUID
    amount: int
    account_id: uuid.UUID
    provider_id: uuid.UUID
    attempts: int
    """Instructions made for it before (the next one is attempt ``attempts + 1``)."""


def claim_due(session: Session, *, kinds: Sequence[EntitlementKind], on: date) -> list[Due]:
    """Scheduled entitlements due by ``on`` whose participant has an active account at an active provider, put
    ``in_flight`` in one statement (rows another worker holds are skipped: they are in its run)."""
    if not kinds:
        return []
    rows = session.execute(
        text(
            """
            WITH due AS (
                SELECT e.id, a.id AS account_id, a.provider_id
                FROM payouts_entitlements e
                JOIN payouts_accounts a ON a.recipient_id = e.recipient_id AND a.status = 'active'
                JOIN payouts_providers p ON p.id = a.provider_id AND p.active
                WHERE e.status = 'scheduled' AND e.schedule_transfer_id IS NOT NULL AND e.due_on <= :on
                  AND e.kind = ANY(:kinds)
                ORDER BY e.id
                FOR UPDATE OF e SKIP LOCKED
            )
            UPDATE payouts_entitlements e SET status = 'in_flight'
            FROM due WHERE e.id = due.id
            RETURNING e.id, e.participant_id, e.amount, due.account_id, due.provider_id,
                coalesce((SELECT max(i.attempt) FROM payouts_instructions i WHERE i.entitlement_id = e.id), 0)
            """
        ),
        {"on": on, "kinds": [k.value for k in kinds]},
    ).all()
    found = [Due(*row) for row in rows]
    found.sort(key=lambda d: d.entitlement_id)
    return found


INSTRUCTION_COLUMNS = (
    "id",
    "created_at",
    "end_to_end_id",
    "run_id",
    "batch_id",
    "provider_id",
    "beneficiary_type",
    "beneficiary_id",
    "entitlement_id",
    "payout_account_id",
    "amount",
    "attempt",
    "pending_transfer_id",
    "status",
    "sends",
)


def copy_instructions(session: Session, rows: Iterable[tuple[object, ...]], *, count: int) -> int:
    """Write a run's ``count`` new instructions with COPY (``INSTRUCTION_COLUMNS`` minus id and created_at, in
    order), in the caller's transaction: status ``ready``, sent zero times. Their ids are new UUIDv7s in the rows'
    order (made in one pass, handed over as text: the COPY reads them as any uuid)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    now = utcnow()
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY payouts_instructions ({', '.join(INSTRUCTION_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row, id_ in zip(rows, new_id_block(count), strict=True):
            copy.write_row((id_.hex(), now, *row))
    return count


@dataclass(frozen=True, slots=True)
class ToPost:
    """One instruction's ledger transfer (payable -> in flight), with the payable's owner."""

    pending_transfer_id: uuid.UUID
    amount: int
    participant_id: str
    """As text: the ledger keys payables by owner id text."""
    kind: str


def to_post(session: Session, batch_id: uuid.UUID) -> list[ToPost]:
    """The entitlement instructions of a batch with what their ledger transfer needs, in id order."""
    rows = session.execute(
        text(
            "SELECT i.pending_transfer_id, i.amount, e.participant_id::text, e.kind FROM payouts_instructions i "
            "JOIN payouts_entitlements e ON e.id = i.entitlement_id WHERE i.batch_id = :batch ORDER BY i.id"
        ),
        {"batch": batch_id},
    ).all()
    return [ToPost(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Sendable:
    """An instruction as it goes to the partner (number and name decrypted)."""

    id: uuid.UUID
    end_to_end_id: str
    amount: int
    sends: int
    number: str
    name: str
    provider_reference: str | None = None
    """The call (chunk or file) it was last handed over in."""


def sendable(session: Session, batch_id: uuid.UUID, *, due_by: datetime) -> list[Sendable]:
    """The batch's ``ready`` instructions due by ``due_by`` with their account's number and holder, in id order."""
    rows = session.execute(
        select(
            PayoutInstruction.id,
            PayoutInstruction.end_to_end_id,
            PayoutInstruction.amount,
            PayoutInstruction.sends,
            PayoutAccount.number,
            PayoutAccount.holder_name,
            PayoutInstruction.provider_reference,
        )
        .outerjoin(PayoutAccount, PayoutAccount.id == PayoutInstruction.payout_account_id)
        .where(
            PayoutInstruction.batch_id == batch_id,
            PayoutInstruction.status == InstructionStatus.ready,
            (PayoutInstruction.next_check_at.is_(None)) | (PayoutInstruction.next_check_at <= due_by),
        )
        .order_by(PayoutInstruction.id)
    ).all()
    return [Sendable(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", r[6]) for r in rows]


@dataclass(frozen=True, slots=True)
class Waiting:
    id: uuid.UUID
    end_to_end_id: str
    provider_reference: str | None
    status: InstructionStatus


def waiting(session: Session, batch_id: uuid.UUID, *, due_by: datetime) -> list[Waiting]:
    """The batch's instructions whose result is due by ``due_by`` (id, end-to-end id, file, status), in id order:
    ``sent`` ones, and ``ready`` ones already handed to the partner in a file (``sends`` > 0), which may be with it
    (a file channel records nothing per instruction once the partner took the file: their file's pain.002 says)."""
    rows = session.execute(
        select(
            PayoutInstruction.id,
            PayoutInstruction.end_to_end_id,
            PayoutInstruction.provider_reference,
            PayoutInstruction.status,
        )
        .where(
            PayoutInstruction.batch_id == batch_id,
            (PayoutInstruction.status == InstructionStatus.sent)
            | (
                (PayoutInstruction.status == InstructionStatus.ready)
                & (PayoutInstruction.sends > 0)
                & PayoutInstruction.provider_reference.is_not(None)
            ),
            (PayoutInstruction.next_check_at.is_(None)) | (PayoutInstruction.next_check_at <= due_by),
        )
        .order_by(PayoutInstruction.id)
    ).all()
    return [Waiting(r[0], r[1], r[2], r[3]) for r in rows]


def push_checks(session: Session, ids: Sequence[uuid.UUID], *, at: datetime) -> None:
    """No final result yet for these: ask again at ``at`` (a ``ready`` one was received by the partner: ``sent``)."""
    session.execute(
        update(PayoutInstruction)
        .where(PayoutInstruction.id == _ids(ids), PayoutInstruction.status.in_(OPEN))
        .values(status=InstructionStatus.sent, next_check_at=at)
        .execution_options(synchronize_session=False)
    )


def batches(session: Session, run_id: uuid.UUID) -> Sequence[PayoutBatch]:
    return session.scalars(select(PayoutBatch).where(PayoutBatch.run_id == run_id).order_by(PayoutBatch.id)).all()


def batch(session: Session, batch_id: uuid.UUID) -> PayoutBatch | None:
    return session.get(PayoutBatch, batch_id)


def instructions(session: Session, batch_id: uuid.UUID) -> Sequence[PayoutInstruction]:
    return session.scalars(
        select(PayoutInstruction).where(PayoutInstruction.batch_id == batch_id).order_by(PayoutInstruction.id)
    ).all()


def open_instructions(
    session: Session,
    batch_id: uuid.UUID,
    status: InstructionStatus,
    *,
    due_by: datetime | None = None,
    sent_before: bool = False,
) -> Sequence[PayoutInstruction]:
    query = select(PayoutInstruction).where(PayoutInstruction.batch_id == batch_id, PayoutInstruction.status == status)
    if sent_before:
        query = query.where(PayoutInstruction.sends > 0)
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


def file_unanswered(session: Session, batch_id: uuid.UUID, reference: str, ids: Sequence[uuid.UUID]) -> bool:
    """Were exactly ``ids`` the open instructions last handed over in the file ``reference``, with no report of
    any of them since (its upload's answer was lost, so the partner may hold it)?"""
    carried = session.scalars(
        select(PayoutInstruction.id).where(
            PayoutInstruction.batch_id == batch_id, PayoutInstruction.provider_reference == reference
        )
    ).all()
    if set(carried) != set(ids):
        return False
    reported = session.scalar(
        select(func.count())
        .select_from(PayoutResult)
        .join(PayoutInstruction, PayoutInstruction.end_to_end_id == PayoutResult.end_to_end_id)
        .where(PayoutInstruction.id == _ids(ids))
    )
    return not reported


def mark_sending(session: Session, ids: Sequence[uuid.UUID], *, reference: str, retry_at: datetime) -> None:
    """Before the HTTP call: one more send of each (so a restart knows it may have reached the partner)."""
    session.execute(
        update(PayoutInstruction)
        .where(PayoutInstruction.id == _ids(ids), PayoutInstruction.status == InstructionStatus.ready)
        .values(sends=PayoutInstruction.sends + 1, next_check_at=retry_at, provider_reference=reference)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, ids: Sequence[uuid.UUID], *, check_at: datetime) -> None:
    """After the partner took them; a result that came by callback in between is left as it is."""
    session.execute(
        update(PayoutInstruction)
        .where(PayoutInstruction.id == _ids(ids), PayoutInstruction.status == InstructionStatus.ready)
        .values(status=InstructionStatus.sent, next_check_at=check_at)
        .execution_options(synchronize_session=False)
    )


def set_batch_status(session: Session, batch_id: uuid.UUID, status: BatchStatus, *, now: datetime) -> None:
    values: dict[str, object] = {"status": status}
    if status is BatchStatus.sent:
        values["sent_at"] = now
    elif status is BatchStatus.completed:  # a file batch may go from ready to completed in one pass
        values["sent_at"] = func.coalesce(PayoutBatch.sent_at, now)
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


RESULT_STAGE = "payouts_results_stage"


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A report stored by :func:`store_staged_results` (new: never stored before)."""

    id: uuid.UUID
    event_id: str
    end_to_end_id: str
    applied: bool


def stage_results(session: Session, rows: Iterable[tuple[object, ...]], *, provider_id: uuid.UUID) -> list[str]:
    """COPY many reports into a temporary table (dropped at commit): rows are (source, event id, end-to-end id,
    status, reason, amount, occurred at, received at). Returns the event ids never stored before for this provider,
    in the order given (a replayed event changes nothing); :func:`store_staged_results` stores them."""
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {RESULT_STAGE} (n serial, source text, event_id text, "
            "end_to_end_id text, reported_status text, reason_code text, amount bigint, occurred_at timestamptz, "
            "received_at timestamptz) ON COMMIT DROP"
        )
    )
    session.execute(text(f"TRUNCATE {RESULT_STAGE} RESTART IDENTITY"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cur,
        cur.copy(
            f"COPY {RESULT_STAGE} (source, event_id, end_to_end_id, reported_status, reason_code, amount, "
            "occurred_at, received_at) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    found = session.execute(
        text(
            f"SELECT s.event_id FROM {RESULT_STAGE} s WHERE NOT EXISTS (SELECT 1 FROM payouts_results r "
            "WHERE r.provider_id = :provider AND r.event_id = s.event_id) ORDER BY s.n"
        ),
        {"provider": provider_id},
    ).scalars()
    return list(found)


def store_staged_results(session: Session, *, provider_id: uuid.UUID, applied: Sequence[str]) -> list[StoredResult]:
    """Store the staged reports once per (provider, event id), each written once as decided: ``applied`` for the
    event ids in ``applied`` (the caller applied them before), not yet decided for the others (the caller applies
    them one by one and records its decision). Returns the stored ones not yet decided (the applied ones, a whole
    status file's in the common case, are not read back); events stored meanwhile by another transaction are left
    out. Ids are time-ordered (``uuidv7()`` where the server has it): a file's results land at the end of the
    primary key's B-tree."""
    found = session.execute(
        text(
            "WITH stored AS (INSERT INTO payouts_results (id, provider_id, source, event_id, end_to_end_id, "
            "reported_status, reason_code, amount, occurred_at, received_at, applied) "
            f"SELECT {new_id_sql(session)}, :provider, source, event_id, end_to_end_id, reported_status, reason_code, "
            f"amount, occurred_at, received_at, event_id = ANY(:applied) FROM {RESULT_STAGE} ORDER BY n "
            "ON CONFLICT (provider_id, event_id) DO NOTHING RETURNING id, event_id, end_to_end_id, applied) "
            "SELECT id, event_id, end_to_end_id, applied FROM stored WHERE NOT applied"
        ),
        {"provider": provider_id, "applied": list(applied)},
    ).all()
    return [StoredResult(r[0], r[1], r[2], r[3]) for r in found]


def new_id_sql(session: Session) -> str:
    """Time-ordered ids made by the database (``uuidv7()``, PostgreSQL 18+; random ones before), so many new rows
    land at the end of the primary key's B-tree instead of all over it. The server's version is asked once per
    connection."""
    connection = session.connection()
    known = connection.info.get("prakerja_new_id_sql")
    if known is None:
        version = int(session.execute(text("SHOW server_version_num")).scalar_one())
        known = connection.info["prakerja_new_id_sql"] = "uuidv7()" if version >= 180000 else "gen_random_uuid()"
    return str(known)


@dataclass(frozen=True, slots=True)
class Settled:
    """An instruction :func:`settle_open` moved to ``succeeded``."""

    id: uuid.UUID
    end_to_end_id: str
    batch_id: uuid.UUID
    entitlement_id: uuid.UUID | None
    amount: int


def settle_open(
    session: Session, provider_id: uuid.UUID, paid: Sequence[tuple[str, int | None]], *, now: datetime
) -> list[Settled]:
    """The partner paid these (end-to-end id, amount it reports or None): each of this provider's instructions still
    open (``ready`` or ``sent``) with that amount becomes ``succeeded``, and its entitlement ``paid``. Only
    entitlements' instructions: a settlement's success goes through ``results``' rules one by one. The UPDATE
    takes each row's lock and checks the status again under it, so a result another worker applied meanwhile is
    left alone; the ones not moved are the caller's to explain."""
    if not paid:
        return []
    rows = session.execute(
        text(
            """
            UPDATE payouts_instructions i SET status = 'succeeded', settled_at = :now, next_check_at = NULL
            FROM unnest(CAST(:e2es AS text[]), CAST(:amounts AS bigint[])) AS w(end_to_end_id, amount)
            WHERE i.end_to_end_id = w.end_to_end_id AND i.provider_id = :provider
              AND i.status IN ('ready', 'sent') AND (w.amount IS NULL OR w.amount = i.amount)
              AND i.entitlement_id IS NOT NULL
            RETURNING i.id, i.end_to_end_id, i.batch_id, i.entitlement_id, i.amount
            """
        ),
        {"now": now, "provider": provider_id, "e2es": [p[0] for p in paid], "amounts": [p[1] for p in paid]},
    ).all()
    settled = [Settled(*r) for r in rows]
    entitlements = [s.entitlement_id for s in settled if s.entitlement_id is not None]
    if entitlements:
        session.execute(
            text("UPDATE payouts_entitlements SET status = 'paid', paid_at = :now WHERE id = ANY(:ids)"),
            {"now": now, "ids": entitlements},
        )
    return settled


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


def run_of(session: Session, kind: RunKind, run_date: date, *, lock: bool = False) -> PayoutRun | None:
    """The latest run of (kind, day): the day's run or its last further run (locked: one caller at a time decides
    whether a further run is needed)."""
    query = (
        select(PayoutRun)
        .where(PayoutRun.kind == kind, PayoutRun.run_date == run_date)
        .order_by(PayoutRun.sequence.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if lock else query).one_or_none()

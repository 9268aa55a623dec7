"""Every query on the payouts tables. No commit here: the request or job commits once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from prakerja.kit.clock import JAKARTA
from prakerja.payouts.models import (
    Difference,
    DifferenceKind,
    PayoutAccount,
    PayoutBatch,
    PayoutInstruction,
    PayoutProvider,
    PayoutResult,
    PayoutRun,
    SettlementAccount,
    Statement,
)
from prakerja.payouts.repository import runs

# providers --------------------------------------------------------------------------------------------------


def provider_by_code(session: Session, code: str) -> PayoutProvider | None:
    return session.scalar(select(PayoutProvider).where(PayoutProvider.code == code))


def provider_of_partner(session: Session, partner_id: uuid.UUID) -> PayoutProvider | None:
    return session.scalar(select(PayoutProvider).where(PayoutProvider.partner_id == partner_id))


def providers(session: Session, *, active_only: bool = False) -> list[PayoutProvider]:
    query = select(PayoutProvider).order_by(PayoutProvider.code)
    if active_only:
        query = query.where(PayoutProvider.active.is_(True))
    return list(session.scalars(query))


# reconciliation ---------------------------------------------------------------------------------------------


def lock_reconciliation(session: Session, provider_id: uuid.UUID) -> None:
    """One statement of a provider is reconciled at a time (until the transaction ends)."""
    session.execute(text("SELECT pg_advisory_xact_lock(7301014, hashtext(:p))"), {"p": str(provider_id)})


def statement_known(session: Session, *, provider_id: uuid.UUID, statement_ref: str, sha256: bytes) -> bool:
    """The same file (any provider), or the same statement id of this provider, was ingested before."""
    query = select(Statement.id).where(
        (Statement.sha256 == sha256)
        | ((Statement.provider_id == provider_id) & (Statement.statement_ref == statement_ref))
    )
    return session.scalar(query.limit(1)) is not None


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


STAGE = "payouts_recon_stage"


def stage_lines(session: Session, lines: Iterable[tuple[str, int, bool, date]]) -> int:
    """COPY a statement's lines (end-to-end id, amount, debit, booking day) into a temporary table (dropped at
    commit); the matching is set-based SQL on it."""
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (end_to_end_id text NOT NULL, amount bigint NOT NULL, "
            "debit boolean NOT NULL, booked_on date NOT NULL) ON COMMIT DROP"
        )
    )
    session.execute(text(f"TRUNCATE {STAGE}"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    count = 0
    with raw.cursor() as cur, cur.copy(f"COPY {STAGE} (end_to_end_id, amount, debit, booked_on) FROM STDIN") as copy:
        for line in lines:
            copy.write_row(line)
            count += 1
    session.execute(text(f"ANALYZE {STAGE}"))
    return count


def _new_id_sql(session: Session) -> str:
    """Time-ordered ids made by the database (``runs.new_id_sql``)."""
    return runs.new_id_sql(session)


def insert_staged_entries(session: Session, statement_id: uuid.UUID) -> int:
    result = session.execute(
        text(
            "INSERT INTO payouts_statement_entries (id, statement_id, end_to_end_id, amount, debit, booked_on) "
            f"SELECT {_new_id_sql(session)}, :statement, end_to_end_id, amount, debit, booked_on FROM {STAGE}"
        ),
        {"statement": statement_id},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_DIFFERENCES = """
WITH here AS (
    SELECT end_to_end_id, bool_or(debit) AS paid_here, sum(amount) FILTER (WHERE NOT debit) AS returned_here
    FROM {stage} GROUP BY end_to_end_id
), paid AS (
    SELECT e.end_to_end_id, sum(e.amount) AS paid
    FROM payouts_statement_entries e JOIN payouts_statements s ON s.id = e.statement_id
    WHERE s.provider_id = :provider AND e.debit
      AND e.end_to_end_id IN (SELECT end_to_end_id FROM here WHERE paid_here)
    GROUP BY e.end_to_end_id
), joined AS (
    SELECT here.end_to_end_id, here.paid_here, here.returned_here, paid.paid, i.amount AS expected, i.status
    FROM here
    LEFT JOIN paid USING (end_to_end_id)
    LEFT JOIN payouts_instructions i ON i.end_to_end_id = here.end_to_end_id AND i.provider_id = :provider
), found AS (
    SELECT end_to_end_id, 'extra' AS kind, expected, coalesce(paid, returned_here) AS actual FROM joined
    WHERE status IS NULL OR status NOT IN ('succeeded', 'reversed')
    UNION ALL
    SELECT end_to_end_id, 'amount_mismatch', expected, paid FROM joined
    WHERE status IN ('succeeded', 'reversed') AND paid_here AND paid <> expected
    UNION ALL
    SELECT end_to_end_id, 'reversal_after_success', expected, returned_here FROM joined
    WHERE status IN ('succeeded', 'reversed') AND returned_here IS NOT NULL
    UNION ALL
    SELECT i.end_to_end_id, 'missing', i.amount, NULL FROM payouts_instructions i
    WHERE i.provider_id = :provider AND i.status = 'succeeded'
      AND i.settled_at >= :period_start AND i.settled_at < :period_end
      AND NOT EXISTS (
          SELECT 1 FROM payouts_statement_entries e JOIN payouts_statements s ON s.id = e.statement_id
          WHERE s.provider_id = :provider AND e.debit AND e.end_to_end_id = i.end_to_end_id)
)
INSERT INTO payouts_differences
    (id, created_at, provider_id, statement_id, end_to_end_id, kind, expected_amount, actual_amount)
SELECT {new_id}, :now, :provider, :statement, end_to_end_id, kind, expected, actual FROM found
ON CONFLICT (provider_id, end_to_end_id, kind) DO NOTHING
RETURNING kind
"""


def record_differences(
    session: Session,
    *,
    provider_id: uuid.UUID,
    statement_id: uuid.UUID,
    period_from: date,
    period_to: date,
    now: datetime,
) -> dict[DifferenceKind, int]:
    """Match the staged statement with the provider's instructions by end-to-end id (after its entries are
    stored) and record each difference once; returns how many new differences of each kind. ``missing`` looks at
    the instructions settled (``settled_at``) on the statement's days in Jakarta time, through the index on
    (provider, settled_at)."""
    rows = session.execute(
        text(_DIFFERENCES.format(stage=STAGE, new_id=_new_id_sql(session))),
        {
            "provider": provider_id,
            "statement": statement_id,
            "period_start": datetime.combine(period_from, time(0), JAKARTA),
            "period_end": datetime.combine(period_to + timedelta(days=1), time(0), JAKARTA),
            "now": now,
        },
    )
    counts: dict[DifferenceKind, int] = {}
    for (kind,) in rows:
        counts[DifferenceKind(kind)] = counts.get(DifferenceKind(kind), 0) + 1
    return counts


def explain_differences(session: Session, *, provider_id: uuid.UUID, now: datetime, by: str) -> int:
    """Close the open differences later statements or results explain: a ``missing`` payment now booked in a
    statement, an ``extra`` payment whose instruction is now recorded as paid with the same amount."""
    booked = session.execute(
        text(
            """
            UPDATE payouts_differences d SET resolved_at = :now, resolved_by = :by,
                resolution = 'Dibukukan di rekening koran ' || s.statement_ref || ' / booked in statement '
                    || s.statement_ref
            FROM payouts_statement_entries e JOIN payouts_statements s ON s.id = e.statement_id
            WHERE d.provider_id = :provider AND d.kind = 'missing' AND d.resolved_at IS NULL
              AND s.provider_id = :provider AND e.debit AND e.end_to_end_id = d.end_to_end_id
            """
        ),
        {"provider": provider_id, "now": now, "by": by},
    )
    recorded = session.execute(
        text(
            """
            UPDATE payouts_differences d SET resolved_at = :now, resolved_by = :by,
                resolution = 'Hasil pembayaran kini tercatat berhasil / the payout is now recorded as paid'
            FROM payouts_instructions i
            WHERE d.provider_id = :provider AND d.kind = 'extra' AND d.resolved_at IS NULL
              AND i.provider_id = :provider AND i.end_to_end_id = d.end_to_end_id
              AND i.status IN ('succeeded', 'reversed') AND i.amount = d.actual_amount
            """
        ),
        {"provider": provider_id, "now": now, "by": by},
    )
    return int(booked.rowcount or 0) + int(recorded.rowcount or 0)  # type: ignore[attr-defined]


def statements(session: Session, *, provider_id: uuid.UUID | None = None, limit: int = 50) -> list[Statement]:
    query = select(Statement).order_by(Statement.created_at.desc(), Statement.id.desc()).limit(limit)
    if provider_id is not None:
        query = query.where(Statement.provider_id == provider_id)
    return list(session.scalars(query))


def differences(
    session: Session, *, provider_id: uuid.UUID | None = None, open_only: bool = False, limit: int = 200
) -> list[Difference]:
    """Open ones first, then the most recent."""
    query = (
        select(Difference)
        .order_by(Difference.resolved_at.is_not(None), Difference.created_at.desc(), Difference.end_to_end_id)
        .limit(limit)
    )
    if provider_id is not None:
        query = query.where(Difference.provider_id == provider_id)
    if open_only:
        query = query.where(Difference.resolved_at.is_(None))
    return list(session.scalars(query))


def open_difference_count(session: Session, *, provider_id: uuid.UUID | None = None) -> int:
    query = select(func.count()).select_from(Difference).where(Difference.resolved_at.is_(None))
    if provider_id is not None:
        query = query.where(Difference.provider_id == provider_id)
    return int(session.scalar(query) or 0)


def difference_for_update(session: Session, difference_id: uuid.UUID) -> Difference | None:
    return session.scalar(select(Difference).where(Difference.id == difference_id).with_for_update())


def resolve_difference(session: Session, difference_id: uuid.UUID, *, now: datetime, by: str, resolution: str) -> None:
    session.execute(
        update(Difference)
        .where(Difference.id == difference_id)
        .values(resolved_at=now, resolved_by=by, resolution=resolution)
    )


# the payment partner's view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRow:
    batch: PayoutBatch
    run: PayoutRun


def batches_of_provider(session: Session, provider_id: uuid.UUID, *, limit: int = 50) -> list[BatchRow]:
    query = (
        select(PayoutBatch, PayoutRun)
        .join(PayoutRun, PayoutRun.id == PayoutBatch.run_id)
        .where(PayoutBatch.provider_id == provider_id)
        .order_by(PayoutRun.run_date.desc(), PayoutBatch.created_at.desc())
        .limit(limit)
    )
    return [BatchRow(batch, run) for batch, run in session.execute(query).all()]


def batch_of_provider(session: Session, provider_id: uuid.UUID, batch_id: uuid.UUID) -> BatchRow | None:
    row = session.execute(
        select(PayoutBatch, PayoutRun)
        .join(PayoutRun, PayoutRun.id == PayoutBatch.run_id)
        .where(PayoutBatch.id == batch_id, PayoutBatch.provider_id == provider_id)
    ).first()
    return BatchRow(row[0], row[1]) if row is not None else None


def instructions_of_batch(
    session: Session, batch_id: uuid.UUID, *, limit: int = 500
) -> Sequence[tuple[PayoutInstruction, str | None]]:
    """The batch's instructions with the masked number of the account each pays (a participant's payout account, or
    an organisation's settlement account)."""
    query = (
        select(PayoutInstruction, func.coalesce(PayoutAccount.number_masked, SettlementAccount.number_masked))
        .outerjoin(PayoutAccount, PayoutAccount.id == PayoutInstruction.payout_account_id)
        .outerjoin(SettlementAccount, SettlementAccount.id == PayoutInstruction.settlement_account_id)
        .where(PayoutInstruction.batch_id == batch_id)
        .order_by(PayoutInstruction.end_to_end_id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def results_of_provider(session: Session, provider_id: uuid.UUID, *, limit: int = 100) -> list[PayoutResult]:
    query = (
        select(PayoutResult)
        .where(PayoutResult.provider_id == provider_id)
        .order_by(PayoutResult.received_at.desc(), PayoutResult.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))

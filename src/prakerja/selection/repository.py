"""Every query on the selection tables (and the set-based reads over wave entries the draw needs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.selection.models import Draw, Recipient, Result, ResultStatus


def add(session: Session, obj: Draw | Recipient) -> None:
    session.add(obj)
    session.flush()


def draw(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Draw | None:
    query = select(Draw).where(Draw.wave_id == wave_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def draws(session: Session, wave_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Draw]:
    return {d.wave_id: d for d in session.scalars(select(Draw).where(Draw.wave_id.in_(wave_ids)))}


def copy_results(session: Session, wave_id: uuid.UUID, rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY the draw's rows in one binary stream: (entry_hash hex, stratum, tier, rank, ticket hex, outcome, num,
    den). Binary COPY spares the server the hex and UUID parsing (a quarter of the time at a million rows)."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    count = 0
    unhex = bytes.fromhex
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY selection_results (wave_id, entry_hash, stratum, tier, rank, ticket, outcome, probability_num, "
            "probability_den, status) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["uuid", "bytea", "varchar", "int4", "int4", "bytea", "varchar", "int4", "int4", "varchar"])
        write = copy.write_row
        for entry_hash, stratum, tier, rank, ticket, outcome, num, den in rows:
            write((wave_id, unhex(entry_hash), stratum, tier, rank, unhex(ticket), outcome, num, den, outcome))
            count += 1
    return count


def count_results(session: Session, wave_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.count()).select_from(Result).where(Result.wave_id == wave_id)) or 0)


def time_groups(session: Session, wave_id: uuid.UUID, buckets: int) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """For the independence test: per (stratum, tier), registration-time buckets with (entries, selected)."""
    session.execute(text("SET LOCAL work_mem = '256MB'"))  # the window's sort stays in memory
    rows = session.execute(
        text(
            "SELECT stratum, tier, bucket, count(*), count(*) FILTER (WHERE selected) FROM ("
            "  SELECT r.stratum, r.tier, r.outcome = 'selected' AS selected, "
            "         ntile(:k) OVER (PARTITION BY r.stratum, r.tier ORDER BY e.joined_at, e.entry_hash) AS bucket "
            "  FROM selection_results r JOIN waves_entries e ON e.wave_id = r.wave_id AND e.entry_hash = r.entry_hash "
            "  WHERE r.wave_id = :w) t GROUP BY stratum, tier, bucket ORDER BY stratum, tier, bucket"
        ),
        {"w": wave_id, "k": buckets},
    ).all()
    session.execute(text("SET LOCAL work_mem TO DEFAULT"))
    groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for stratum, tier, _bucket, n, s in rows:
        groups.setdefault((stratum, int(tier)), []).append((int(n), int(s)))
    return groups


_IN_DRAW = "('eligible', 'recipient', 'not_selected')"


def duplicate_people(session: Session, wave_id: uuid.UUID) -> int:
    """Entries in the draw beyond one per applicant, plus results that match no entry or entries without a
    result (the schema already forbids both; checked anyway, as a fairness check must not trust the schema)."""
    session.execute(text("SET LOCAL work_mem = '256MB'"))  # a hash aggregate in memory, not a sort
    row = session.execute(
        text(
            "SELECT coalesce(sum(n), 0), coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM waves_entries "
            f"WHERE wave_id = :w AND status IN {_IN_DRAW} GROUP BY applicant_id) per_person"
        ),
        {"w": wave_id},
    ).one()
    session.execute(text("SET LOCAL work_mem TO DEFAULT"))
    results = session.scalar(select(func.count()).select_from(Result).where(Result.wave_id == wave_id)) or 0
    return int(row[1]) + abs(int(row[0]) - int(results))


def already_recipients(session: Session, wave_id: uuid.UUID) -> int:
    """People in this draw who already are (or were) recipients from another wave."""
    return int(
        session.scalar(
            text(
                "SELECT count(*) FROM waves_entries e JOIN selection_recipients p "
                "ON p.applicant_id = e.applicant_id AND p.wave_id <> e.wave_id "
                f"WHERE e.wave_id = :w AND e.status IN {_IN_DRAW}"
            ),
            {"w": wave_id},
        )
        or 0
    )


def result(session: Session, wave_id: uuid.UUID, entry_hash: bytes, *, lock: bool = False) -> Result | None:
    query = select(Result).where(Result.wave_id == wave_id, Result.entry_hash == entry_hash)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def next_on_waitlist(session: Session, wave_id: uuid.UUID, stratum: str) -> Result | None:
    return session.scalars(
        select(Result)
        .where(Result.wave_id == wave_id, Result.stratum == stratum, Result.status == ResultStatus.waitlist)
        .order_by(Result.rank)
        .limit(1)
        .with_for_update(skip_locked=False)
    ).first()


def final_selected_hashes(session: Session, wave_id: uuid.UUID) -> list[bytes]:
    rows = session.scalars(
        select(Result.entry_hash).where(
            Result.wave_id == wave_id, Result.status.in_([ResultStatus.selected, ResultStatus.promoted])
        )
    )
    return [bytes(h) for h in rows]


def unnotified(session: Session, wave_id: uuid.UUID, limit: int) -> list[tuple[Result, uuid.UUID, uuid.UUID]]:
    """The next results whose applicant has not been told, locked (parallel workers skip each other's rows),
    with the entry's applicant and account."""
    rows = session.execute(
        text(
            "SELECT r.entry_hash, e.applicant_id, e.account_id FROM selection_results r "
            "JOIN waves_entries e ON e.wave_id = r.wave_id AND e.entry_hash = r.entry_hash "
            "WHERE r.wave_id = :w AND r.notified_at IS NULL ORDER BY r.entry_hash LIMIT :n FOR UPDATE OF r SKIP LOCKED"
        ),
        {"w": wave_id, "n": limit},
    ).all()
    if not rows:
        return []
    by_hash = {
        bytes(r.entry_hash): r
        for r in session.scalars(
            select(Result).where(Result.wave_id == wave_id, Result.entry_hash.in_([bytes(x[0]) for x in rows]))
        )
    }
    return [(by_hash[bytes(h)], applicant_id, account_id) for h, applicant_id, account_id in rows]


def recipient_by_applicant(session: Session, applicant_id: uuid.UUID) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.applicant_id == applicant_id)).first()


def recipient_by_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.account_id == account_id)).first()


def recipient_by_card_index(session: Session, index: bytes) -> Recipient | None:
    return session.scalars(select(Recipient).where(Recipient.card_number_index == index)).first()


def card_index_taken(session: Session, index: bytes) -> bool:
    return session.scalar(select(Recipient.id).where(Recipient.card_number_index == index)) is not None


def results_for(session: Session, wave_id: uuid.UUID, entry_hashes: Sequence[bytes]) -> list[Result]:
    return list(session.scalars(select(Result).where(Result.wave_id == wave_id, Result.entry_hash.in_(entry_hashes))))


def mark_notified(session: Session, wave_id: uuid.UUID, entry_hashes: Sequence[bytes], at: datetime) -> None:
    session.execute(
        text("UPDATE selection_results SET notified_at = :t WHERE wave_id = :w AND entry_hash = ANY(:h)"),
        {"t": at, "w": wave_id, "h": list(entry_hashes)},
    )


def remaining_unnotified(session: Session, wave_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Result).where(Result.wave_id == wave_id, Result.notified_at.is_(None))
        )
        or 0
    )


def recipients_per_kk(session: Session, kk_indexes: Sequence[bytes]) -> dict[bytes, int]:
    if not kk_indexes:
        return {}
    rows = session.execute(
        select(Recipient.kk_index, func.count())
        .where(Recipient.kk_index.in_([bytes(k) for k in kk_indexes]))
        .group_by(Recipient.kk_index)
    )
    return {bytes(row[0]): int(row[1]) for row in rows if row[0] is not None}


def recipient_statuses(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not applicant_ids:
        return {}
    rows = session.execute(
        select(Recipient.applicant_id, Recipient.status).where(Recipient.applicant_id.in_(list(applicant_ids)))
    )
    return {row[0]: row[1].value for row in rows}


# ------------------------------------------------------------------------------------------ family-card cap, outcomes


def seats(session: Session, wave_id: uuid.UUID) -> list[tuple[bytes, str, int, bytes, ResultStatus, uuid.UUID]]:
    """Results holding a place (selected or promoted): (entry_hash, stratum, tier, ticket, status, applicant)."""
    rows = session.execute(
        text(
            "SELECT r.entry_hash, r.stratum, r.tier, r.ticket, r.status, e.applicant_id FROM selection_results r "
            "JOIN waves_entries e ON e.wave_id = r.wave_id AND e.entry_hash = r.entry_hash "
            "WHERE r.wave_id = :w AND r.status IN ('selected', 'promoted')"
        ),
        {"w": wave_id},
    ).all()
    return [(bytes(h), s, int(t), bytes(k), ResultStatus(st), a) for h, s, t, k, st, a in rows]


def waitlist_page(
    session: Session, wave_id: uuid.UUID, stratum: str, after_rank: int, limit: int
) -> list[tuple[bytes, int, int, bytes, uuid.UUID]]:
    """The stratum's waitlist after ``after_rank``, in rank order: (entry_hash, rank, tier, ticket, applicant)."""
    rows = session.execute(
        text(
            "SELECT r.entry_hash, r.rank, r.tier, r.ticket, e.applicant_id FROM selection_results r "
            "JOIN waves_entries e ON e.wave_id = r.wave_id AND e.entry_hash = r.entry_hash "
            "WHERE r.wave_id = :w AND r.stratum = :s AND r.status = 'waitlist' AND r.rank > :after "
            "ORDER BY r.rank LIMIT :n"
        ),
        {"w": wave_id, "s": stratum, "after": after_rank, "n": limit},
    ).all()
    return [(bytes(h), int(rank), int(t), bytes(k), a) for h, rank, t, k, a in rows]


def changed_results(session: Session, wave_id: uuid.UUID, limit: int = 200) -> list[Result]:
    """Disqualified and promoted results, for the officer's draw page."""
    return list(
        session.scalars(
            select(Result)
            .where(Result.wave_id == wave_id, Result.status.in_([ResultStatus.disqualified, ResultStatus.promoted]))
            .order_by(Result.stratum, Result.rank)
            .limit(limit)
        )
    )

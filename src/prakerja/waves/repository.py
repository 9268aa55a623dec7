"""Every query on the waves tables. Bulk work is set-based SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from prakerja.waves.models import Entry, EntryStatus, Quota, RegionList, Wave, WaveState


def add(session: Session, obj: Wave | Entry | Quota | RegionList) -> None:
    session.add(obj)
    session.flush()


def wave(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Wave | None:
    query = select(Wave).where(Wave.id == wave_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def wave_by_number(session: Session, number: int) -> Wave | None:
    return session.scalars(select(Wave).where(Wave.number == number)).first()


def waves(session: Session, states: Sequence[WaveState] | None = None) -> list[Wave]:
    query = select(Wave).order_by(Wave.number.desc())
    if states:
        query = query.where(Wave.state.in_(states))
    return list(session.scalars(query))


def next_number(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Wave.number), 0))) or 0) + 1


def quotas(session: Session, wave_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(select(Quota.stratum, Quota.quota).where(Quota.wave_id == wave_id).order_by(Quota.stratum))
    return {row.stratum: row.quota for row in rows}


def replace_quotas(session: Session, wave_id: uuid.UUID, table: dict[str, int]) -> None:
    session.execute(delete(Quota).where(Quota.wave_id == wave_id))
    if table:
        session.execute(
            insert(Quota), [{"wave_id": wave_id, "stratum": code, "quota": value} for code, value in table.items()]
        )


def entry(session: Session, entry_id: uuid.UUID) -> Entry | None:
    return session.get(Entry, entry_id)


def entry_in_wave(session: Session, wave_id: uuid.UUID, applicant_id: uuid.UUID) -> Entry | None:
    return session.scalars(select(Entry).where(Entry.wave_id == wave_id, Entry.applicant_id == applicant_id)).first()


def active_entry(session: Session, applicant_id: uuid.UUID) -> Entry | None:
    return session.scalars(select(Entry).where(Entry.applicant_id == applicant_id, Entry.active)).first()


def entries_of_account(session: Session, account_id: uuid.UUID) -> list[Entry]:
    return list(session.scalars(select(Entry).where(Entry.account_id == account_id).order_by(Entry.joined_at.desc())))


def was_recipient(session: Session, applicant_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Entry.id).where(Entry.applicant_id == applicant_id, Entry.status == EntryStatus.recipient).limit(1)
    )
    return found is not None


def lock_applicant(session: Session, applicant_id: uuid.UUID) -> None:
    """Serialise two joins of the same person (two tabs, two devices)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"waves.join:{applicant_id}"})


def applicants_per_stratum(session: Session, wave_id: uuid.UUID, statuses: Sequence[EntryStatus]) -> dict[str, int]:
    rows = session.execute(
        select(Entry.stratum, func.count())
        .where(Entry.wave_id == wave_id, Entry.status.in_(statuses))
        .group_by(Entry.stratum)
    )
    return {stratum: int(n) for stratum, n in rows}


def entries_to_check(session: Session, wave_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(entry id, applicant id, regency) of every entry still awaiting the close-time check."""
    rows = session.execute(
        select(Entry.id, Entry.applicant_id, Entry.regency).where(
            Entry.wave_id == wave_id, Entry.status == EntryStatus.joined
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


def apply_close_results(
    session: Session,
    *,
    entry_ids: list[uuid.UUID],
    eligible: list[bool],
    tiers: list[int | None],
    reasons: list[str | None],
    decision_refs: list[str | None],
) -> None:
    """One UPDATE for the whole wave (arrays unnested server-side)."""
    if not entry_ids:
        return
    session.execute(
        text(
            "UPDATE waves_entries AS e SET status = CASE WHEN v.ok THEN 'eligible' ELSE 'ineligible' END, "
            "tier = v.tier, ineligible_reason = v.reason, decision_ref = v.ref "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:oks AS boolean[]), CAST(:tiers AS integer[]), "
            "CAST(:reasons AS varchar[]), CAST(:refs AS varchar[])) AS v(id, ok, tier, reason, ref) "
            "WHERE e.id = v.id"
        ),
        {"ids": entry_ids, "oks": eligible, "tiers": tiers, "reasons": reasons, "refs": decision_refs},
    )


def count_status(session: Session, wave_id: uuid.UUID, status: EntryStatus) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Entry).where(Entry.wave_id == wave_id, Entry.status == status))
        or 0
    )


def eligible_rows(session: Session, wave_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """(entry_hash hex, stratum, tier) of the frozen eligible set (also after the announcement changed their
    status), sorted by entry_hash (bytea order = hex order). One text value built by the server: a wave may hold
    millions of entries, and one row per entry over the wire costs more than the sort."""
    session.execute(text("SET LOCAL work_mem = '256MB'"))  # the aggregate's sort stays in memory
    data = session.scalar(
        text(
            "SELECT string_agg(encode(entry_hash, 'hex') || ',' || stratum || ',' || tier, E'\\n' "
            "ORDER BY entry_hash) FROM waves_entries "
            "WHERE wave_id = :w AND status IN ('eligible', 'recipient', 'not_selected')"
        ),
        {"w": wave_id},
    )
    session.execute(text("SET LOCAL work_mem TO DEFAULT"))
    rows = []
    for line in (data or "").splitlines():
        entry_hash, stratum, tier = line.split(",")
        rows.append((entry_hash, stratum, int(tier)))
    return rows


def set_outcomes(session: Session, wave_id: uuid.UUID, recipient_hashes: list[bytes]) -> None:
    """At announcement: recipients marked, everyone else in the draw not selected, every entry inactive."""
    session.execute(
        text(
            "UPDATE waves_entries SET status = CASE "
            "WHEN entry_hash = ANY(:hashes) THEN 'recipient' "
            "WHEN status = 'eligible' THEN 'not_selected' ELSE status END, active = false "
            "WHERE wave_id = :w"
        ),
        {"w": wave_id, "hashes": recipient_hashes},
    )


# ---------------------------------------------------------------------------------------------- outcomes, region lists


def untold_ineligible(session: Session, wave_id: uuid.UUID, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry id, account id) of the next entries found ineligible at close and not told yet, locked (parallel
    workers skip each other's rows)."""
    rows = session.execute(
        select(Entry.id, Entry.account_id)
        .where(Entry.wave_id == wave_id, Entry.status == EntryStatus.ineligible, Entry.told_at.is_(None))
        .order_by(Entry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [(r[0], r[1]) for r in rows]


def mark_told(session: Session, entry_ids: Sequence[uuid.UUID], at: datetime) -> None:
    if entry_ids:
        session.execute(update(Entry).where(Entry.id.in_(list(entry_ids))).values(told_at=at))


def region_list(session: Session, name: str) -> RegionList | None:
    return session.scalars(select(RegionList).where(RegionList.name == name)).first()


def region_lists(session: Session) -> list[RegionList]:
    return list(session.scalars(select(RegionList).order_by(RegionList.name)))

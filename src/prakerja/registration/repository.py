"""Every query on the registration tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg
import psycopg
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.db import arguments, positional
from prakerja.jobs import INSERT_ONE_SQL
from prakerja.kit.ids import new_id
from prakerja.kit.pii import Encrypted, encrypt
from prakerja.registration.models import (
    AbilityAttempt,
    Applicant,
    IdentityCheck,
    IntegrityFlag,
    ListEntry,
    ListImport,
    PhoneOtp,
    Signal,
)

_CHUNK = 10_000


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


# --- applicants -------------------------------------------------------------------------------------------------


def applicant(session: Session, applicant_id: uuid.UUID, *, lock: bool = False) -> Applicant | None:
    query = select(Applicant).where(Applicant.id == applicant_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def full_name_sql(account: str) -> str:
    """An SQL expression: :func:`applicant_by_account`'s ``full_name`` (encrypted; NULL without a profile or a name)
    for the account given as an SQL expression, for a statement another domain composes (ADR 0031)."""
    return f"(SELECT full_name FROM registration_applicants WHERE account_id = {account})"


def applicant_by_account(session: Session, account_id: uuid.UUID, *, lock: bool = False) -> Applicant | None:
    query = select(Applicant).where(Applicant.account_id == account_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def applicant_by_nik_index(session: Session, nik_index: bytes) -> Applicant | None:
    return session.scalars(select(Applicant).where(Applicant.nik_index == nik_index)).first()


def applicants(session: Session, ids: Sequence[uuid.UUID]) -> list[Applicant]:
    found: list[Applicant] = []
    for start in range(0, len(ids), _CHUNK):
        found.extend(session.scalars(select(Applicant).where(Applicant.id.in_(ids[start : start + _CHUNK]))))
    return found


def applicant_and_nik_holder(
    session: Session, account_id: uuid.UUID, nik_index: bytes
) -> tuple[Applicant | None, bool]:
    """One round trip: the account's applicant (locked) and whether another applicant holds the NIK."""
    rows = session.scalars(
        select(Applicant)
        .where((Applicant.account_id == account_id) | (Applicant.nik_index == nik_index))
        .with_for_update()
    ).all()
    mine = next((a for a in rows if a.account_id == account_id), None)
    return mine, any(a.account_id != account_id for a in rows)


_CHECK_AND_DEVICE = """identity_check AS (
      INSERT INTO registration_identity_checks (id, applicant_id, attempts, created_at)
      SELECT %(check_id)s, id, 0, %(now)s FROM applicant
      RETURNING id
    ), device AS (
      INSERT INTO registration_signals (applicant_id, kind, value_index, created_at)
      SELECT id, 'device', %(device_index)s::bytea, %(now)s FROM applicant
      WHERE %(device_index)s::bytea IS NOT NULL
    )"""
"""The submission's identity check and device signal, written after ``applicant`` (a CTE answering the new
applicant's id, or nothing): the part both submission statements share."""

_INSERT_SUBMITTED_SQL = f"""
    WITH applicant AS (
      INSERT INTO registration_applicants (id, account_id, nik, nik_index, kk, kk_index, birth_date, sex, full_name,
        mother_maiden_name, identity_status, submitted_at, registration_ip_index, created_at, updated_at)
      VALUES (%(id)s, %(account_id)s, %(nik)s, %(nik_index)s, %(kk)s, %(kk_index)s, %(birth_date)s, %(sex)s,
        %(full_name)s, %(mother_maiden_name)s, %(status)s, %(now)s, %(ip_index)s, %(now)s, %(now)s)
      ON CONFLICT DO NOTHING
      RETURNING id
    ), {_CHECK_AND_DEVICE}
    SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%(queue)s, %(task)s, 0, NULL, NULL, %(job_args)s::jsonb,
             NULL)::procrastinate_job_to_defer_v1])
    FROM identity_check
"""
_ENCRYPTED_CONTEXT = {
    column.name: column.type.context for column in Applicant.__table__.columns if isinstance(column.type, Encrypted)
}
"""Each encrypted column's associated data, exactly what the ORM type uses (``kit.pii.Encrypted``)."""


def _submitted_params(
    values: dict[str, object], check_id: uuid.UUID, device_index: bytes | None, queue: str, task: str, job_args: str
) -> dict[str, object]:
    params = {name: encrypt(v, _ENCRYPTED_CONTEXT[name]) if name in _ENCRYPTED_CONTEXT and isinstance(v, str) else v
              for name, v in values.items()}  # fmt: skip
    params.update(check_id=check_id, device_index=device_index, queue=queue, task=task, job_args=job_args)
    return params


def insert_submitted_applicant(
    session: Session,
    *,
    values: dict[str, object],
    check_id: uuid.UUID,
    device_index: bytes | None,
    queue: str,
    task: str,
    job_args: str,
) -> bool:
    """The intake hot path in one statement: a new applicant with its identity, its civil-registry check, its
    device signal and the procrastinate job (``procrastinate_defer_jobs_v1``, what ``jobs.enqueue`` calls), all in
    the caller's transaction. Personal fields in ``values`` are encrypted here, with their columns' contexts.
    Executed on the session's psycopg connection as a prepared statement: this path is measured per microsecond
    (docs/benchmarks.md). False, with nothing written, when the account already has a profile or another profile
    holds the NIK (the caller then takes the general path). On a loop connection:
    ``insert_signed_in_submission_on_loop``."""
    params = _submitted_params(values, check_id, device_index, queue, task, job_args)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(_INSERT_SUBMITTED_SQL, params, prepare=True)
        return cur.fetchone() is not None


_SIGNED_IN_SUBMISSION_SQL = """
    WITH signed_in AS ({signed_in}),
    applicant AS (
      INSERT INTO registration_applicants (id, account_id, nik, nik_index, kk, kk_index, birth_date, sex, full_name,
        mother_maiden_name, identity_status, submitted_at, registration_ip_index, created_at, updated_at)
      SELECT %(id)s, signed_in.id, %(nik)s, %(nik_index)s, %(kk)s, %(kk_index)s, %(birth_date)s, %(sex)s,
        %(full_name)s, %(mother_maiden_name)s, %(status)s, %(now)s, %(ip_index)s, %(now)s, %(now)s
      FROM signed_in WHERE signed_in.role = '{role}'
      ON CONFLICT DO NOTHING
      RETURNING id
    ), {check_and_device}, job AS (
      {job}
    )
    SELECT signed_in.id, signed_in.role, signed_in.display_name, EXISTS (SELECT FROM job) AS written
    FROM (VALUES (1)) AS one LEFT JOIN signed_in ON true
"""
"""``_INSERT_SUBMITTED_SQL`` with who is signed in asked in the same statement (ADR 0035): ``signed_in`` is auth's
own SQL for a live session (``auth.service.SessionLookup.sql``, given by the caller), read here and never written;
the applicant is written only for an account of ``role`` behind that session; the job by ``jobs.INSERT_ONE_SQL``
(procrastinate's own INSERT, without its PL/pgSQL call). One row always: the account (NULLs when nobody is signed
in) and whether the submission was written."""


@lru_cache(maxsize=4)
def _signed_in_submission(signed_in_sql: str, role: str) -> tuple[str, tuple[str, ...]]:
    job = INSERT_ONE_SQL.format(rows="identity_check")
    return positional(
        _SIGNED_IN_SUBMISSION_SQL.format(
            signed_in=signed_in_sql, role=role, job=job, check_and_device=_CHECK_AND_DEVICE
        )
    )


async def insert_signed_in_submission_on_loop(
    conn: asyncpg.Connection,
    *,
    signed_in_sql: str,
    signed_in_params: dict[str, object],
    role: str,
    values: dict[str, object],
    check_id: uuid.UUID,
    device_index: bytes | None,
    queue: str,
    task: str,
    job_args: str,
) -> tuple[tuple[uuid.UUID, str, bytes] | None, bool]:
    """``insert_submitted_applicant`` as a whole transaction on a loop connection (``db.on_loop``, ADR 0014, 0028)
    for the account behind a session, checked in the same statement and round trip (ADR 0035): the account's row of
    ``signed_in_sql`` (None when nobody is signed in), and whether the applicant, its check, its device signal and
    its job were written, together, durably. Nothing is written when nobody is signed in, for an account of another
    role than ``role``, when the account already has a profile or when another profile holds the NIK.
    ``values["account_id"]`` is not used: the account is the session's."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    sql, names = _signed_in_submission(signed_in_sql, role)
    params = _submitted_params(values, check_id, device_index, queue, task, job_args)
    params.update(signed_in_params, job_queue=queue, job_task=task)
    row = await conn.fetchrow(sql, *arguments(names, params))
    assert row is not None  # one row always
    account_id, account_role, display_name, written = row
    if account_id is None:
        return None, False
    return (account_id, account_role, bytes(display_name)), bool(written)


def verified_phone_sql(account: str) -> str:
    """An SQL expression: the profile's phone (encrypted) when it is verified, NULL otherwise or without a profile,
    for the account given as an SQL expression, for a statement another domain composes (ADR 0031)."""
    return f"(SELECT phone FROM registration_applicants WHERE account_id = {account} AND phone_verified_at IS NOT NULL)"


def nik_taken(session: Session, nik_index: bytes, *, other_than: uuid.UUID) -> bool:
    query = select(Applicant.id).where(Applicant.nik_index == nik_index, Applicant.id != other_than)
    return session.scalars(query.limit(1)).first() is not None


def phone_taken(session: Session, phone_index: bytes, *, other_than: uuid.UUID) -> bool:
    query = select(Applicant.id).where(Applicant.phone_index == phone_index, Applicant.id != other_than)
    return session.scalars(query.limit(1)).first() is not None


# --- identity checks --------------------------------------------------------------------------------------------


def identity_check(session: Session, check_id: uuid.UUID, *, lock: bool = False) -> IdentityCheck | None:
    query = select(IdentityCheck).where(IdentityCheck.id == check_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def stalled_identity_checks(session: Session, limit: int = 1000) -> list[uuid.UUID]:
    """Unanswered checks whose last try failed (the registry was unreachable or answered badly)."""
    query = (
        select(IdentityCheck.id)
        .where(IdentityCheck.completed_at.is_(None), IdentityCheck.last_error.is_not(None))
        .order_by(IdentityCheck.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def identity_checks(session: Session, applicant_id: uuid.UUID) -> list[IdentityCheck]:
    query = select(IdentityCheck).where(IdentityCheck.applicant_id == applicant_id).order_by(IdentityCheck.created_at)
    return list(session.scalars(query))


# --- tokens, OTPs -----------------------------------------------------------------------------------------------


def latest_otp(session: Session, account_id: uuid.UUID) -> PhoneOtp | None:
    query = (
        select(PhoneOtp)
        .where(PhoneOtp.account_id == account_id, PhoneOtp.consumed_at.is_(None))
        .order_by(PhoneOtp.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(query).first()


# --- lists ------------------------------------------------------------------------------------------------------


def list_memberships(session: Session, kind: str, nik_indexes: Sequence[bytes]) -> list[tuple[bytes, str]]:
    rows: list[tuple[bytes, str]] = []
    for start in range(0, len(nik_indexes), _CHUNK):
        chunk = list(nik_indexes[start : start + _CHUNK])
        query = select(ListEntry.nik_index, ListEntry.list_type).where(
            ListEntry.kind == kind, ListEntry.nik_index.in_(chunk)
        )
        rows.extend((bytes(r[0]), r[1]) for r in session.execute(query))
    return rows


def lock_list(session: Session, list_type: str, source: str) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(7301004, hashtext(:t))"), {"t": f"{list_type}/{source}"})


def stage_list(session: Session, rows: Iterable[bytes]) -> int:
    """COPY the file's blind indexes into a temporary table (dropped at commit)."""
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS registration_list_stage (nik_index bytea) ON COMMIT DROP"))
    session.execute(text("TRUNCATE registration_list_stage"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    count = 0
    with raw.cursor() as cur, cur.copy("COPY registration_list_stage (nik_index) FROM STDIN") as copy:
        for value in rows:
            copy.write_row((value,))
            count += 1
    return count


def apply_staged_list(
    session: Session, *, list_type: str, source: str, kind: str, import_id: uuid.UUID, replace: bool
) -> tuple[int, int, int]:
    """Returns (added, removed, total)."""
    removed = 0
    if replace:
        result = session.execute(
            text(
                "DELETE FROM registration_list_entries e WHERE e.list_type = :t AND e.source = :s AND NOT EXISTS "
                "(SELECT 1 FROM registration_list_stage s WHERE s.nik_index = e.nik_index)"
            ),
            {"t": list_type, "s": source},
        )
        removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    added_result = session.execute(
        text(
            "INSERT INTO registration_list_entries (list_type, source, nik_index, kind, import_id) "
            "SELECT DISTINCT :t, :s, nik_index, :k, :i FROM registration_list_stage "
            "ON CONFLICT (list_type, source, nik_index) DO NOTHING"
        ),
        {"t": list_type, "s": source, "k": kind, "i": import_id},
    )
    added = int(added_result.rowcount or 0)  # type: ignore[attr-defined]
    total = int(
        session.scalar(
            select(func.count())
            .select_from(ListEntry)
            .where(ListEntry.list_type == list_type, ListEntry.source == source)
        )
        or 0
    )
    return added, removed, total


def list_imports(session: Session, limit: int = 50) -> list[ListImport]:
    return list(session.scalars(select(ListImport).order_by(ListImport.created_at.desc()).limit(limit)))


def list_types_of(session: Session, nik_index: bytes) -> list[tuple[str, str, str]]:
    query = select(ListEntry.kind, ListEntry.list_type, ListEntry.source).where(ListEntry.nik_index == nik_index)
    return [(r[0], r[1], r[2]) for r in session.execute(query.order_by(ListEntry.list_type))]


# --- integrity --------------------------------------------------------------------------------------------------


def add_signal(session: Session, *, applicant_id: uuid.UUID, kind: str, value_index: bytes) -> None:
    session.execute(
        insert(Signal)
        .values(applicant_id=applicant_id, kind=kind, value_index=value_index)
        .on_conflict_do_nothing(index_elements=["applicant_id", "kind", "value_index"])
    )


_SHARED_SQL = text(
    """
    WITH signals AS (
      SELECT applicant_id, kind, value_index FROM registration_signals
      UNION
      SELECT id, 'ip', registration_ip_index FROM registration_applicants WHERE registration_ip_index IS NOT NULL
      UNION
      SELECT a.id, s.kind, s.value_index
      FROM registration_account_signals s JOIN registration_applicants a ON a.account_id = s.account_id
    ), shared AS (
      SELECT kind, value_index, count(DISTINCT applicant_id) AS people
      FROM signals GROUP BY kind, value_index
      HAVING count(DISTINCT applicant_id) >= :threshold
    ), hits AS (
      SELECT s.applicant_id, 'shared_' || s.kind AS flag, max(sh.people) AS people
      FROM signals s JOIN shared sh USING (kind, value_index)
      GROUP BY s.applicant_id, s.kind
    )
    INSERT INTO registration_integrity_flags (id, applicant_id, kind, detail, created_at)
    SELECT gen_random_uuid(), applicant_id, flag, jsonb_build_object('people', people, 'threshold', :threshold), :now
    FROM hits
    ON CONFLICT (applicant_id, kind) DO UPDATE SET detail = EXCLUDED.detail
    WHERE registration_integrity_flags.detail IS DISTINCT FROM EXCLUDED.detail
    """
)

_BURST_SQL = text(
    """
    WITH bursts AS (
      SELECT a.id AS applicant_id, (
        SELECT count(*) FROM registration_applicants b
        WHERE b.registration_ip_index = a.registration_ip_index
          AND b.created_at BETWEEN a.created_at - make_interval(secs => :window) AND a.created_at
      ) AS in_window
      FROM registration_applicants a
      WHERE a.registration_ip_index IS NOT NULL AND a.created_at >= :since
    )
    INSERT INTO registration_integrity_flags (id, applicant_id, kind, detail, created_at)
    SELECT gen_random_uuid(), applicant_id, 'ip_burst',
           jsonb_build_object('registrations', in_window, 'window_seconds', :window), :now
    FROM bursts WHERE in_window >= :threshold
    ON CONFLICT (applicant_id, kind) DO NOTHING
    """
)


def flag_shared_signals(session: Session, *, threshold: int, now: datetime) -> int:
    return int(session.execute(_SHARED_SQL, {"threshold": threshold, "now": now}).rowcount or 0)  # type: ignore[attr-defined]


def flag_bursts(session: Session, *, window_seconds: int, threshold: int, since: datetime, now: datetime) -> int:
    result = session.execute(_BURST_SQL, {"window": window_seconds, "threshold": threshold, "since": since, "now": now})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def flags_for(session: Session, applicant_id: uuid.UUID) -> list[IntegrityFlag]:
    query = select(IntegrityFlag).where(IntegrityFlag.applicant_id == applicant_id).order_by(IntegrityFlag.kind)
    return list(session.scalars(query))


def open_flags(session: Session, limit: int = 100) -> list[IntegrityFlag]:
    query = (
        select(IntegrityFlag)
        .where(IntegrityFlag.reviewed_at.is_(None))
        .order_by(IntegrityFlag.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def flag(session: Session, flag_id: uuid.UUID) -> IntegrityFlag | None:
    return session.scalars(select(IntegrityFlag).where(IntegrityFlag.id == flag_id).with_for_update()).first()


# --- ability test -----------------------------------------------------------------------------------------------


def ability_attempt(
    session: Session, applicant_id: uuid.UUID, wave_ref: str, *, lock: bool = False
) -> AbilityAttempt | None:
    query = select(AbilityAttempt).where(
        AbilityAttempt.applicant_id == applicant_id, AbilityAttempt.wave_ref == wave_ref
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def insert_ability_attempt(session: Session, values: dict[str, object]) -> bool:
    """False when an attempt for this applicant and wave already exists (one attempt per wave)."""
    result = session.execute(
        insert(AbilityAttempt).values(**values).on_conflict_do_nothing(index_elements=["applicant_id", "wave_ref"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_applicant(session: Session, applicant_id: uuid.UUID, **values: object) -> None:
    session.execute(update(Applicant).where(Applicant.id == applicant_id).values(**values))


# --- bulk offline registrations ---------------------------------------------------------------------------------


def open_applicant_stage(session: Session, columns: Sequence[str]) -> None:
    """An empty temporary staging table for a bulk import, dropped at the end of the transaction."""
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS registration_applicant_stage ON COMMIT DROP AS "
            f"SELECT {', '.join(columns)} FROM registration_applicants WITH NO DATA"
        )
    )
    session.execute(text("TRUNCATE registration_applicant_stage"))


def _copy_raw(session: Session, table: str, columns: Sequence[str], data: Iterable[bytes]) -> int:
    with _raw(session).cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            for block in data:
                copy.write(block)
        return int(cur.rowcount)


def _raw(session: Session) -> psycopg.Connection[Any]:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw


def open_applicant_group(session: Session) -> None:
    """Open the savepoint that covers the next chunks of a bulk import (:func:`copy_applicants_in_group`)."""
    _raw(session).execute("SAVEPOINT bulk_group")


def copy_applicants_in_group(session: Session, columns: Sequence[str], data: Iterable[bytes]) -> int | None:
    """COPY ready-made binary COPY data (header, rows, trailer) straight into ``registration_applicants`` under the
    group's open savepoint; returns the rows copied, or None when a row's value was already in a unique index (a
    NIK registered before, or twice in the data): then everything since :func:`open_applicant_group` is undone and
    the savepoint closed (the transaction usable)."""
    try:
        return _copy_raw(session, "registration_applicants", columns, data)
    except psycopg.errors.UniqueViolation:
        raw = _raw(session)
        raw.execute("ROLLBACK TO SAVEPOINT bulk_group")
        raw.execute("RELEASE SAVEPOINT bulk_group")
        return None


def close_applicant_group(session: Session) -> None:
    """Keep what the group's chunks COPYed: release its savepoint."""
    _raw(session).execute("RELEASE SAVEPOINT bulk_group")


def stage_applicants_raw(session: Session, columns: Sequence[str], data: Iterable[bytes]) -> int:
    """COPY ready-made binary COPY data (header, rows, trailer) into the staging table; returns rows staged."""
    return _copy_raw(session, "registration_applicant_stage", columns, data)


def insert_staged_applicants(session: Session, columns: Sequence[str]) -> int:
    """Move the staged rows into ``registration_applicants``, skipping NIKs already there (also repeats inside the
    file, or in an earlier batch of the same import), and empty the stage; returns rows inserted."""
    names = ", ".join(columns)
    result = session.execute(
        text(
            f"INSERT INTO registration_applicants ({names}) SELECT {names} FROM registration_applicant_stage "
            "ON CONFLICT (nik_index) DO NOTHING"
        )
    )
    # created in this transaction, so emptied in place (no new file per batch)
    session.execute(text("TRUNCATE registration_applicant_stage"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def photo_keys_in_use(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these storage keys a committed applicant row points to (the upload sweeper)."""
    return set(session.scalars(select(Applicant.ktp_photo_path).where(Applicant.ktp_photo_path.in_(list(keys)))))


def raise_flag(
    session: Session, applicant_id: uuid.UUID, kind: str, *, detail: dict[str, object], now: datetime
) -> None:
    """Insert a flag or refresh its details (a reviewed flag keeps its review)."""
    statement = insert(IntegrityFlag).values(
        id=new_id(), applicant_id=applicant_id, kind=kind, detail=detail, created_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[IntegrityFlag.applicant_id, IntegrityFlag.kind], set_={"detail": statement.excluded.detail}
        )
    )


def withdraw_open_flag(session: Session, applicant_id: uuid.UUID, kind: str) -> None:
    """Remove a flag nobody has reviewed yet (its cause is gone); reviewed flags stay as history."""
    session.execute(
        delete(IntegrityFlag).where(
            IntegrityFlag.applicant_id == applicant_id, IntegrityFlag.kind == kind, IntegrityFlag.reviewed_at.is_(None)
        )
    )

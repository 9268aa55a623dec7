"""Every query on the selection tables (and the set-based reads over wave entries the draw needs)."""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.kit import pgcopy
from prakerja.selection.models import Draw, Result, ResultStatus


def add(session: Session, obj: Draw) -> None:
    session.add(obj)
    session.flush()


def draw(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Draw | None:
    query = select(Draw).where(Draw.wave_id == wave_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def draws(session: Session, wave_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Draw]:
    return {d.wave_id: d for d in session.scalars(select(Draw).where(Draw.wave_id.in_(wave_ids)))}


class TierRows(NamedTuple):
    """One priority tier of one stratum of a draw, as persisted: ``keys[i]`` is the ticket followed by the entry
    hash (32 raw bytes each) of the entry ranked ``first_rank + i``; the first ``selected`` were selected."""

    stratum: str
    tier: int
    first_rank: int
    selected: int
    probability_num: int
    probability_den: int
    keys: list[bytes]


_RESULT_COLUMNS = "ticket, entry_hash, wave_id, stratum, tier, outcome, probability_num, probability_den, status, rank"
_int4 = struct.Struct(">ii").pack  # a binary COPY int4 field: length 4, value
_LENGTH_32 = (32).to_bytes(4, "big")
_LENGTH_32_ARRAY = np.frombuffer(_LENGTH_32, dtype=np.uint8)
_LENGTH_4 = np.frombuffer((4).to_bytes(4, "big"), dtype=np.uint8)
_ROW_HEAD = np.frombuffer((10).to_bytes(2, "big") + _LENGTH_32, dtype=np.uint8)


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


PARTITION_SCHEMA = "selection_results_by_wave"


def results_partition(wave_id: uuid.UUID) -> str:
    """The qualified name of a wave's partition of ``selection_results`` (hex digits only: safe in SQL)."""
    return f'{PARTITION_SCHEMA}."w{wave_id.hex}"'


class _ResultsCopy:
    """Streams a draw's results into PostgreSQL with one binary COPY, started at the first tier.

    Rows are built from byte pieces: per row only the ticket, the entry hash and the rank differ from the tier's
    constant fields, so each tier's rows are one ``b"".join`` in C rather than a Python call per value (binary
    also spares the server the hex and UUID parsing). A queued writer sends them from a thread, so the server
    stores one tier while the caller draws the next.

    The rows go into a new table that is then attached as the wave's partition: PostgreSQL builds its primary
    key in one sorted pass and checks the foreign key to the wave and the partition bound with one query each,
    where rows COPied into ``selection_results`` itself each cost a foreign-key lookup and a random insertion
    into the primary key. All in the caller's transaction: a failure leaves no partition and no row behind.
    When the wave already has a partition (a draw run again on purpose after its results were deleted), the
    rows go in through the parent table. There is no default partition (attaching next to one would lock it
    against every reader until the draw commits): results are written only here."""

    def __init__(self, session: Session, wave_id: uuid.UUID) -> None:
        self.session = session
        self.wave_id = wave_id
        self.count = 0
        self._stack = contextlib.ExitStack()
        self._copy: Any = None
        self._fresh = False
        self._closing: threading.Thread | None = None
        self._failure: BaseException | None = None

    def _start(self) -> None:
        connection = self.session.connection().connection.driver_connection
        assert connection is not None
        partition = results_partition(self.wave_id)
        self._fresh = bool(self.session.scalar(text("SELECT to_regclass(:p) IS NULL"), {"p": partition}))
        if self._fresh:
            self.session.execute(
                text(f"CREATE TABLE {partition} (LIKE selection_results INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            )
        table = partition if self._fresh else "selection_results"
        cursor = self._stack.enter_context(connection.cursor())
        self._copy = self._stack.enter_context(
            cursor.copy(
                f"COPY {table} ({_RESULT_COLUMNS}) FROM STDIN (FORMAT BINARY)", writer=QueuedLibpqWriter(cursor)
            )
        )
        self._copy.write(pgcopy.SIGNATURE)

    def __call__(self, t: TierRows) -> None:
        if self._copy is None:
            self._start()
        count = len(t.keys)
        if not count:
            return
        # every row of a tier's selected (or waiting) part has one layout: the row count, the ticket, the entry
        # hash, the tier's constant fields and the rank, each at a fixed offset, filled column by column by numpy
        keys = np.frombuffer(b"".join(t.keys), dtype=np.uint8).reshape(count, 64)
        ranks = np.empty((count, 8), dtype=np.uint8)
        ranks[:, :4] = _LENGTH_4
        ranks[:, 4:] = np.arange(t.first_rank, t.first_rank + count, dtype=">i4").view(np.uint8).reshape(count, 4)
        for low, high, outcome in ((0, t.selected, b"selected"), (t.selected, count, b"waitlist")):
            if high <= low:
                continue
            constant = np.frombuffer(
                b"".join(
                    [
                        _field(self.wave_id.bytes),
                        _field(t.stratum.encode()),
                        _int4(4, t.tier),
                        _field(outcome),
                        _int4(4, t.probability_num),
                        _int4(4, t.probability_den),
                        _field(outcome),
                    ]
                ),
                dtype=np.uint8,
            )
            width = 74 + len(constant) + 8
            rows = np.empty((high - low, width), dtype=np.uint8)
            rows[:, 0:6] = _ROW_HEAD  # 10 fields; the ticket's length
            rows[:, 6:38] = keys[low:high, :32]
            rows[:, 38:42] = _LENGTH_32_ARRAY
            rows[:, 42:74] = keys[low:high, 32:]
            rows[:, 74 : 74 + len(constant)] = constant
            rows[:, 74 + len(constant) :] = ranks[low:high]
            self._copy.write(rows.tobytes())
        self.count += count

    def finish_meanwhile(self) -> None:
        """End the COPY and attach the partition on a thread of its own (PostgreSQL then builds the partition's
        primary key) while the caller goes on with work that does not touch the session, such as writing the
        published files; :meth:`close` waits for it and raises what it raised."""
        if self._copy is None or self._closing is not None:
            return

        def finish() -> None:
            try:
                self._finish()
            except BaseException as error:  # handed to close() or abort() in the caller's thread
                self._failure = error

        self._closing = threading.Thread(target=finish, name="selection-results-attach")
        self._closing.start()

    def _wait(self) -> bool:
        """Wait for :meth:`finish_meanwhile`'s thread; True when there was one."""
        if self._closing is None:
            return False
        self._closing.join()
        return True

    def abort(self, error: BaseException) -> None:
        self._wait()
        self._stack.__exit__(type(error), error, error.__traceback__)  # nothing left to undo when it finished

    def close(self) -> None:
        if self._wait():
            if self._failure is not None:
                raise self._failure
            return
        self._finish()

    def _finish(self) -> None:
        if self._copy is None:
            return
        self._copy.write(pgcopy.TRAILER)
        self._stack.close()
        if self._fresh:
            partition = results_partition(self.wave_id)
            self.session.execute(
                text(f"ALTER TABLE selection_results ATTACH PARTITION {partition} FOR VALUES IN ('{self.wave_id}')")
            )


@contextlib.contextmanager
def results_writer(session: Session, wave_id: uuid.UUID) -> Iterator[_ResultsCopy]:
    """A callable that persists one :class:`TierRows` at a time; everything is stored when the block ends
    (on an exception the COPY is abandoned and the caller's transaction must roll back)."""
    writer = _ResultsCopy(session, wave_id)
    try:
        yield writer
    except BaseException as error:
        writer.abort(error)
        raise
    writer.close()


def eligible_blocks_query(wave_id: uuid.UUID) -> str:
    """The statement :func:`eligible_csv_rows` streams: the eligible set's rows in 256 blocks by first byte."""
    return (
        "SELECT convert_to(string_agg(encode(entry_hash, 'hex') || ',' || stratum || ',' || tier || E'\\n', ''), "
        "'UTF8') FROM waves_entries "
        f"WHERE wave_id = '{uuid.UUID(str(wave_id))}' AND status IN {_IN_DRAW} "
        "AND entry_hash IS NOT NULL AND stratum IS NOT NULL AND tier IS NOT NULL "
        "GROUP BY get_byte(entry_hash, 0) ORDER BY get_byte(entry_hash, 0)"
    )


def eligible_csv_rows(session: Session, wave_id: uuid.UUID) -> bytes:
    """The body of ``eligible.csv`` (``entry_hash,stratum,tier`` rows, LF-terminated, sorted by entry_hash: bytea
    order is hex order) for the wave's frozen eligible set, also after the announcement changed statuses.

    PostgreSQL joins the lines into 256 blocks, one per first byte of the hash, sent in that byte's order (one
    message per block: a ``COPY ... TO STDOUT`` sent one message per line, and reading a million of them cost
    more of our CPU than anything else in the commitment); each block is sorted here as byte strings (faster than
    PostgreSQL's sort of the whole set, measured 1.6 s against 3.4-3.9 s for the whole read at a million). Each line
    starts with its hash in hex followed by a comma, which sorts below every hex digit, so the lines' byte order is
    the hashes' bytea order, and blocks in first-byte order keep it across blocks. Rows with an empty stratum or
    tier are left out."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    query = eligible_blocks_query(wave_id)
    out: list[bytes] = []
    # The scan, the sort by first byte and the partial aggregates run on a parallel worker beside this session's
    # backend (one per core beyond the first): PostgreSQL's parallel workers read with the leader's snapshot, so
    # the two halves are one consistent read of the frozen set, as from one backend. The planner's default costs
    # never choose it for this query (it counts every row as a group).
    workers = max(1, min(4, _cores() - 1))
    session.execute(text("SET LOCAL parallel_setup_cost = 0"))
    session.execute(text("SET LOCAL parallel_tuple_cost = 0"))
    session.execute(text(f"SET LOCAL max_parallel_workers_per_gather = {workers}"))
    with connection.cursor(binary=True) as cursor:
        # Streamed (a row at a time as PostgreSQL sends it): each block is sorted here while the server is still
        # aggregating the next ones, instead of after the whole result has arrived.
        for (block,) in cursor.stream(query):
            lines = bytes(block).split(b"\n")
            lines.pop()  # after the block's last LF
            lines.sort()
            lines.append(b"")
            out.append(b"\n".join(lines))
    for setting in ("parallel_setup_cost", "parallel_tuple_cost", "max_parallel_workers_per_gather"):
        session.execute(text(f"SET LOCAL {setting} TO DEFAULT"))
    return b"".join(out)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def time_groups(session: Session, wave_id: uuid.UUID, buckets: int) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """For the independence test: per (stratum, tier), registration-time buckets with (entries, selected)."""
    # The window's sort stays in memory. Right after the draw's COPY the planner has no statistics for this wave's
    # results and expects a handful of rows: it would probe the entries' index once per result (a million times);
    # a hash join reads both sides once. The window partitions by the code's bytes (COLLATE "C": the same
    # partitions, without the locale's comparison); the output keeps the column's own order.
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text("SET LOCAL enable_nestloop = off"))
    rows = session.execute(
        text(
            "SELECT stratum, tier, bucket, count(*), count(*) FILTER (WHERE selected) FROM ("
            "  SELECT r.stratum, r.tier, r.outcome = 'selected' AS selected, "
            '         ntile(:k) OVER (PARTITION BY r.stratum COLLATE "C", r.tier '
            "                         ORDER BY e.joined_at, e.entry_hash) AS bucket "
            "  FROM selection_results r JOIN waves_entries e ON e.wave_id = r.wave_id AND e.entry_hash = r.entry_hash "
            "  WHERE r.wave_id = :w) t GROUP BY stratum, tier, bucket ORDER BY stratum, tier, bucket"
        ),
        {"w": wave_id, "k": buckets},
    ).all()
    session.execute(text("SET LOCAL enable_nestloop TO DEFAULT"))
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
    """People in this draw who already are (or were) recipients from another wave. A set-based read over the
    recipient register's table (``selection_recipients``, owned by :mod:`prakerja.recipients`), as the draw's other
    reads go over the waves' entries: selection sits above both."""
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

"""The eligible set read with PostgreSQL's parallel workers (the scan, the sort by first byte and the partial
aggregates split between the session's backend and a worker, on one snapshot) is the same bytes as the read by
one backend, and leaves the session's settings as they were."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.selection import repository
from tests.selection.factories import add_entries, create_wave


def test_the_parallel_read_is_the_single_backend_read(session: Session) -> None:
    wave = create_wave(session, quotas={"3201": 3, "3273": 2})
    add_entries(session, wave, [("3201", 0), ("3201", 1), ("3273", 1), ("3273", 0)] * 60)
    other = create_wave(session, quotas={"3201": 1})  # another wave's entries are not read
    add_entries(session, other, [("3201", 0)] * 5)
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    alone = repository.eligible_csv_rows(session, wave.id)
    # a table this small is read by its index and never in parallel unless told so: here the plan is the
    # parallel scan's, as for a large wave
    session.execute(text("ANALYZE waves_entries"))
    for setting in ("min_parallel_table_scan_size = 0", "enable_indexscan = off", "enable_bitmapscan = off"):
        session.execute(text(f"SET LOCAL {setting}"))
    session.execute(text("SET LOCAL parallel_setup_cost = 0"))
    session.execute(text("SET LOCAL parallel_tuple_cost = 0"))
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 1"))
    explained = "\n".join(
        row[0] for row in session.execute(text("EXPLAIN " + repository.eligible_blocks_query(wave.id))).all()
    )
    assert "Gather" in explained and "Parallel Seq Scan" in explained
    session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))
    parallel = repository.eligible_csv_rows(session, wave.id)
    assert parallel == alone
    lines = alone.split(b"\n")[:-1]
    assert len(lines) == 240 and lines == sorted(lines)
    assert session.execute(text("SHOW parallel_setup_cost")).scalar_one() == "1000"

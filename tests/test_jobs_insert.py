"""``jobs.INSERT_ONE_SQL`` (a job written by procrastinate's own INSERT inside a statement's CTE, ADR 0035) writes the
same job, with the same event, as ``jobs.DEFER_ONE_SQL`` (procrastinate's ``procrastinate_defer_jobs_v1``)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from prakerja.jobs import DEFER_ONE_SQL, INSERT_ONE_SQL, job_params


def _cursor(session: Session):  # type: ignore[no-untyped-def]
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return raw.cursor()


def test_the_same_job_and_event_as_procrastinates_defer_function(session: Session) -> None:
    params = job_params("registration.verify_identity", check_id="c-1")
    with _cursor(session) as cur:
        deferred = cur.execute(f"SELECT ({DEFER_ONE_SQL})[1]", params).fetchone()[0]
        inserted = cur.execute(
            f"WITH source AS (SELECT 1), job AS ({INSERT_ONE_SQL.format(rows='source')}) SELECT id FROM job", params
        ).fetchone()[0]
        rows = cur.execute(
            "SELECT id, to_jsonb(j) - 'id' FROM procrastinate_jobs j WHERE id IN (%s, %s) ORDER BY id",
            (deferred, inserted),
        ).fetchall()
        events = cur.execute(
            "SELECT job_id, type::text FROM procrastinate_events WHERE job_id IN (%s, %s) ORDER BY job_id",
            (deferred, inserted),
        ).fetchall()
    assert [r[0] for r in rows] == sorted([deferred, inserted])
    assert rows[0][1] == rows[1][1]
    assert rows[0][1]["args"] == {"check_id": "c-1"} and rows[0][1]["status"] == "todo"
    assert [e[1] for e in events] == ["deferred", "deferred"]


def test_no_row_no_job(session: Session) -> None:
    params = job_params("registration.verify_identity", check_id="c-2")
    with _cursor(session) as cur:
        cur.execute(
            f"WITH source AS (SELECT 1 WHERE false), job AS ({INSERT_ONE_SQL.format(rows='source')}) "
            "SELECT count(*) FROM job",
            params,
        )
        assert cur.fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()[0] == 0


def test_procrastinates_function_still_runs_that_insert(session: Session) -> None:
    """A procrastinate upgrade that changes how its defer function writes a job fails here: ``INSERT_ONE_SQL`` must
    then follow it."""
    with _cursor(session) as cur:
        body = cur.execute("SELECT pg_get_functiondef('procrastinate_defer_jobs_v1'::regproc)").fetchone()[0]
    ours = re.match(r"INSERT INTO procrastinate_jobs \(([^)]*)\)", INSERT_ONE_SQL)
    assert ours is not None
    theirs = re.search(r"INSERT INTO procrastinate_jobs\s*\(([^)]*)\)", body)
    assert theirs is not None
    assert [c.strip() for c in theirs.group(1).split(",")] == [c.strip() for c in ours.group(1).split(",")]
    assert body.count("INSERT INTO") == 1

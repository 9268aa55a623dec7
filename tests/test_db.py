"""The engine's connection handling: live connections without a round trip per checkout, and the request
session's boundary (commit on success, rollback on error)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.kit.errors import DomainError
from prakerja.web import errors
from prakerja.web.deps import DbSession


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    time.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket


@pytest.fixture
def one_connection(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    watched = create_engine(database_url, pool_size=1, max_overflow=0)
    db.watch_connections(watched)
    plain = create_engine(database_url, pool_size=1, max_overflow=0)
    yield watched, plain
    watched.dispose()
    plain.dispose()


class TestWatchedPool:
    def test_a_connection_the_server_closed_is_replaced_at_checkout(
        self, one_connection: tuple[Engine, Engine], engine: Engine
    ) -> None:
        watched, _ = one_connection
        first = _backend_pid(watched)
        _terminate(engine, first)
        with Session(watched) as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert _backend_pid(watched) != first

    def test_without_the_watch_the_same_checkout_fails(
        self, one_connection: tuple[Engine, Engine], engine: Engine
    ) -> None:
        _, plain = one_connection
        _terminate(engine, _backend_pid(plain))
        with pytest.raises(OperationalError), Session(plain) as session:
            session.execute(text("SELECT 1"))

    def test_a_long_idle_connection_is_pinged_and_kept_when_alive(self, database_url: str) -> None:
        watched = create_engine(database_url, pool_size=1, max_overflow=0)
        db.watch_connections(watched, idle_ping_seconds=0.0)
        try:
            first = _backend_pid(watched)
            assert _backend_pid(watched) == first
        finally:
            watched.dispose()


class TestConnectionAlive:
    def test_live_and_idle(self, engine: Engine) -> None:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            conn.rollback()
            assert db.connection_alive(dbapi)
            assert db.connection_alive(dbapi, ping=True)

    def test_inside_a_transaction_it_is_not_handed_out(self, engine: Engine) -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert not db.connection_alive(conn.connection.dbapi_connection)

    def test_terminated(self, one_connection: tuple[Engine, Engine], engine: Engine) -> None:
        _, plain = one_connection
        with plain.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.rollback()
            _terminate(engine, pid)
            assert not db.connection_alive(conn.connection.dbapi_connection)
            conn.invalidate()


class Refused(DomainError):
    status_code = 409
    code = "refused"
    message = "Ditolak."
    message_en = "Refused."


@pytest.fixture
def notes_app(clean_db: Engine) -> Iterator[TestClient]:
    with clean_db.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS test_notes (body text NOT NULL)"))
        conn.execute(text("TRUNCATE test_notes"))
    app = FastAPI()
    errors.install(app)

    @app.post("/api/v1/notes/{body}")
    def write(body: str, session: DbSession) -> dict[str, str]:
        session.execute(text("INSERT INTO test_notes (body) VALUES (:b)"), {"b": body})
        if body == "refuse":
            raise Refused()
        return {"status": "ok"}

    @app.get("/api/v1/nothing")
    def nothing(session: DbSession) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    with TestClient(app) as client:
        yield client
    with clean_db.begin() as conn:
        conn.execute(text("DROP TABLE test_notes"))


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT body FROM test_notes ORDER BY body"))]


class TestRequestSession:
    def test_committed_when_the_route_returns(self, notes_app: TestClient, clean_db: Engine) -> None:
        assert notes_app.post("/api/v1/notes/kept").status_code == 200
        assert _notes(clean_db) == ["kept"]

    def test_rolled_back_when_the_route_raises(self, notes_app: TestClient, clean_db: Engine) -> None:
        response = notes_app.post("/api/v1/notes/refuse")
        assert response.status_code == 409
        assert response.json()["code"] == "refused"
        assert _notes(clean_db) == []

    def test_a_route_without_statements_opens_no_transaction(self, notes_app: TestClient) -> None:
        assert notes_app.get("/api/v1/nothing").json() == {"in_transaction": False}


def _run(coroutine):  # type: ignore[no-untyped-def]
    """The coroutine on a loop of its own in a thread of its own: an earlier test of the same worker (a browser
    test's client) may have left a loop running in this thread, where ``asyncio.run`` refuses to start."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


class TestLoopConnections:
    """``db.on_loop`` (ADR 0014, 0028): asyncpg connections outside any transaction block, on the event loop."""

    def test_a_statement_commits_by_itself(self, clean_db: Engine) -> None:
        with clean_db.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS loop_probe (n int)"))
            conn.execute(text("TRUNCATE loop_probe"))

        async def insert() -> None:
            async with db.on_loop() as conn:
                await conn.execute("INSERT INTO loop_probe (n) VALUES ($1)", 7)

        try:
            _run(insert())
            with clean_db.connect() as conn:  # another connection sees it: committed, not pending
                assert conn.execute(text("SELECT n FROM loop_probe")).scalars().all() == [7]
        finally:
            with clean_db.begin() as conn:
                conn.execute(text("DROP TABLE loop_probe"))

    def test_a_connection_the_server_closed_is_replaced_at_checkout(self, clean_db: Engine) -> None:
        async def pid() -> int:
            async with db.on_loop() as conn:
                return int(await conn.fetchval("SELECT pg_backend_pid()"))

        async def scenario() -> tuple[int, int, int]:
            first = await pid()
            again = await pid()  # the idle one is reused
            await asyncio.to_thread(_terminate, clean_db, first)
            await asyncio.sleep(0.2)  # the loop reads the server's goodbye
            return first, again, await pid()

        first, again, after = _run(scenario())
        assert again == first
        assert after != first

    def test_connections_of_a_closed_loop_are_closed_by_the_next_loop(self, clean_db: Engine) -> None:
        async def pid() -> int:
            async with db.on_loop() as conn:
                return int(await conn.fetchval("SELECT pg_backend_pid()"))

        first = _run(pid())  # left idle on a loop that asyncio.run then closed
        second = _run(pid())  # another loop: a connection of its own, and the closed loop's one goes
        assert second != first
        time.sleep(0.2)
        with clean_db.connect() as conn:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            alive = conn.execute(query, {"p": first}).scalar_one()
        assert alive == 0

    def test_a_connection_left_in_a_transaction_is_not_reused(self, clean_db: Engine) -> None:
        async def leave_open() -> int:
            async with db.on_loop() as conn:
                await conn.execute("BEGIN")
                return int(await conn.fetchval("SELECT pg_backend_pid()"))

        async def pid() -> int:
            async with db.on_loop() as conn:
                return int(await conn.fetchval("SELECT pg_backend_pid()"))

        async def scenario() -> tuple[int, int]:
            return await leave_open(), await pid()

        left, other = _run(scenario())
        assert other != left
        time.sleep(0.2)
        with clean_db.connect() as conn:  # closed, so its transaction is gone with it
            alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": left}).scalar_one()
        assert alive == 0

    def test_a_failed_statement_writes_nothing_and_the_connection_stays_usable(self, clean_db: Engine) -> None:
        import asyncpg

        async def fail_then_read() -> tuple[int, int, int]:
            async with db.on_loop() as conn:
                first = int(await conn.fetchval("SELECT pg_backend_pid()"))
                with pytest.raises(asyncpg.DivisionByZeroError):
                    await conn.execute("SELECT 1 / 0")
            async with db.on_loop() as conn:
                return first, int(await conn.fetchval("SELECT pg_backend_pid()")), int(await conn.fetchval("SELECT 2"))

        first, again, two = _run(fail_then_read())
        assert (again, two) == (first, 2)

    def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
        self, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def pid() -> int:
            async with db.on_loop() as conn:
                return int(await conn.fetchval("SELECT pg_backend_pid()"))

        async def scenario() -> tuple[int, int, int]:
            first = await pid()
            monkeypatch.setattr(db._loop_connections, "idle_ping_seconds", 0.0)
            again = await pid()  # idle "too long": pinged, alive, reused
            await asyncio.to_thread(_terminate, clean_db, again)
            return first, again, await pid()

        first, again, after = _run(scenario())
        assert again == first
        assert after != first


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", ("SELECT 1", ())),
        ("SELECT %(a)s, %(b)s, %(a)s::text", ("SELECT $1, $2, $1::text", ("a", "b"))),
        ("INSERT INTO t VALUES (%(x_1)s)", ("INSERT INTO t VALUES ($1)", ("x_1",))),
        ("SELECT %s, %s::uuid", ("SELECT $1, $2::uuid", ())),
        ("SELECT %(a)s LIKE 'x%%'", ("SELECT $1 LIKE 'x%'", ("a",))),
    ],
)
def test_positional_numbers_each_name_once_in_order(sql: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert db.positional(sql) == expected


def test_positional_refuses_named_and_positional_parameters_together() -> None:
    with pytest.raises(ValueError, match="not both"):
        db.positional("SELECT %(a)s, %s")


def test_loop_connections_read_and_write_json_as_psycopg_does(clean_db: Engine) -> None:
    """``jsonb`` comes back as Python values, and goes in as JSON text or as values (one codec, in db.py), and rows
    read by name come back as named tuples."""

    async def ask() -> tuple[Any, Any, Any, list[Any]]:
        async with db.on_loop() as conn:
            text_in = await conn.fetchval("SELECT $1::jsonb", '{"a": [1, 2]}')
            value_in = await conn.fetchval("SELECT $1::jsonb", {"b": None})
            plain = await conn.fetchval("SELECT '[1, \"x\"]'::json")
            rows = db.named_rows(await conn.fetch("SELECT 1 AS one, 'two' AS two"))
            return text_in, value_in, plain, rows

    text_in, value_in, plain, rows = _run(ask())
    assert text_in == {"a": [1, 2]}
    assert value_in == {"b": None}
    assert plain == [1, "x"]
    assert [(row.one, row.two) for row in rows] == [(1, "two")]


def test_threads_starting_at_once_all_get_the_one_session_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first requests of a new web worker arrive together: every thread gets the one engine's factory, never an
    AssertionError from seeing the engine before its factory (found under load by the marketplace benchmark)."""
    import threading
    import time as _time

    from prakerja import db

    real_watch = db.watch_connections

    def slow_watch(engine: Engine) -> None:  # widens the window between the engine and its factory
        _time.sleep(0.3)
        real_watch(engine)

    saved = (db._engine, db._factory)
    assert saved[0] is not None
    url = saved[0].url.render_as_string(hide_password=False)
    monkeypatch.setattr(db, "database_url", lambda: url)  # the test database: no other server is started
    monkeypatch.setattr(db, "watch_connections", slow_watch)
    db._engine, db._factory = None, None
    results: list[object] = []
    start = threading.Barrier(4)

    def first_request() -> None:
        start.wait()
        try:
            results.append(db.session_factory())
        except BaseException as error:
            results.append(error)

    try:
        threads = [threading.Thread(target=first_request) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert all(not isinstance(r, BaseException) for r in results), results
        assert len({id(r) for r in results}) == 1
    finally:
        if db._engine is not None and db._engine is not saved[0]:
            db._engine.dispose()
        db._engine, db._factory = saved


def test_composed_parts_may_not_name_the_same_parameter() -> None:
    """``db.with_parts`` (ADR 0032): a part naming a parameter the statement or another part names is refused, not
    silently given the other's value."""
    from prakerja.db import SqlPart, with_parts

    first = SqlPart("a AS (SELECT %(a_x)s)", {"a_x": 1})
    assert with_parts({"id": 7}, [first]) == {"id": 7, "a_x": 1}
    with pytest.raises(ValueError, match="a_x"):
        with_parts({"id": 7}, [first, SqlPart("b AS (SELECT %(a_x)s)", {"a_x": 2})])
    with pytest.raises(ValueError, match="id"):
        with_parts({"id": 7}, [SqlPart("c AS (SELECT %(id)s)", {"id": 8})])


def test_emptying_the_database_leaves_no_row_and_restarts_used_identities(clean_db: Engine) -> None:
    """The per-test clean-up (``conftest.empty_database``) truncates only the tables written since their last
    truncation: a table written, another written and emptied again (its identity advanced, its dead row on disk),
    both come back empty, with fresh files and their identity restarted, and a third never written whose identity
    was drawn has it restarted, as ``TRUNCATE`` of every table did."""
    from tests.conftest import empty_database

    with clean_db.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS clean_probe_a (id bigserial PRIMARY KEY, v text)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS clean_probe_b (id bigserial PRIMARY KEY, v text)"))
        # never written, its identity drawn once: only the restart of used owned sequences brings it back to 1
        conn.execute(text("CREATE TABLE IF NOT EXISTS clean_probe_c (id bigserial PRIMARY KEY, v text)"))
        conn.execute(text("SELECT nextval(pg_get_serial_sequence('clean_probe_c', 'id'))"))
        conn.execute(text("INSERT INTO clean_probe_a (v) VALUES ('x'), ('y')"))
        conn.execute(text("INSERT INTO clean_probe_b (v) VALUES ('z')"))
        conn.execute(text("DELETE FROM clean_probe_b"))
        conn.execute(
            text("INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('default', 'probe.job', '{}')")
        )
    try:
        empty_database(clean_db)
        with clean_db.begin() as conn:
            counts = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM clean_probe_a), (SELECT count(*) FROM clean_probe_b),"
                    " (SELECT count(*) FROM procrastinate_jobs)"
                )
            ).one()
            assert tuple(counts) == (0, 0, 0)
            # emptied by DELETE, its dead row and index entry still on disk: truncated too (a fresh file), as tests
            # that count index entries expect
            assert conn.scalar(text("SELECT pg_relation_size('clean_probe_b')")) == 0
            ids = [
                conn.execute(text(f"INSERT INTO clean_probe_{t} (v) VALUES ('n') RETURNING id")).scalar_one()
                for t in ("a", "b", "c")
            ]
            assert ids == [1, 1, 1]
    finally:
        with clean_db.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS clean_probe_a, clean_probe_b, clean_probe_c"))

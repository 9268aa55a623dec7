"""Engine and sessions. One commit per request or job, at the boundary: services never commit.

Two ways to the database:

- the SQLAlchemy :class:`Session` (``unit_of_work``, the request's ``DbSession``): any number of statements, ORM
  or Core, one transaction committed at the boundary, in a worker thread;
- the **loop connections** (``on_loop``, ADR 0014 and 0028): pooled ``asyncpg`` connections outside any
  transaction block, used on the event loop with no thread hop and no ``Session``. Each statement is its own
  transaction, committed durably when the server answers, so this path is only for a unit of work that is *one
  statement* (a read, or a write whose every row, job and signal is in that statement: the intake's insert) or an
  explicit ``async with conn.transaction():`` block.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import select
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from prakerja.config import get_settings
from prakerja.pgembed import embedded_url

if TYPE_CHECKING:
    import asyncpg


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@lru_cache(maxsize=1)
def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return normalise_url(settings.database_url)
    return embedded_url(settings.home)


_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None
_starting = threading.Lock()
"""The first requests of a process arrive together: one of them makes the engine, the others wait for it."""


def get_engine() -> Engine:
    global _engine, _factory
    import prakerja.models  # noqa: F401  (every mapper known before the first flush; models.py sits above db)

    engine = _engine
    if engine is None:
        with _starting:
            if _engine is None:
                settings = get_settings()
                made = create_engine(database_url(), pool_size=settings.pool_size, max_overflow=settings.pool_size)
                watch_connections(made)
                # the factory before the engine: whoever sees the engine (without the lock) sees its factory too
                _factory = sessionmaker(bind=made, expire_on_commit=False)
                _engine = made
            engine = _engine
    return engine


IDLE_PING_SECONDS = 30.0
"""A pooled connection idle for longer than this is pinged (one round trip) before it is handed out."""


def watch_connections(engine: Engine, idle_ping_seconds: float = IDLE_PING_SECONDS) -> None:
    """Hand out only live connections, without ``pool_pre_ping``'s round trip on every checkout (docs/benchmarks.md).

    A server that ends a connection (restart, ``pg_terminate_backend``, idle timeout) sends an error and closes the
    socket, so an idle pooled connection whose socket is readable is suspect: it gets a real ping, and a failed ping
    makes the pool discard it and connect again (SQLAlchemy retries the checkout). A connection idle for longer than
    ``idle_ping_seconds`` is pinged as well (a silent network drop leaves nothing to read). A connection used a
    moment ago costs one ``poll()`` with a zero timeout instead of a round trip."""

    @event.listens_for(engine.pool, "checkin")
    def _stamp(dbapi_connection: Any, record: Any) -> None:
        record.info["prakerja_checked_in"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        checked_in = record.info.get("prakerja_checked_in")
        if checked_in is None:
            return  # connected just now
        if not connection_alive(dbapi_connection, ping=time.monotonic() - checked_in > idle_ping_seconds):
            raise DisconnectionError("the pooled connection was closed by the server")


def connection_alive(dbapi_connection: Any, *, ping: bool = False) -> bool:
    """Whether an idle psycopg connection can be used: not closed, nothing unexpected waiting on its socket, and,
    with ``ping`` or when something was waiting, an empty query answered (it does not open a transaction)."""
    import psycopg

    pgconn = dbapi_connection.pgconn
    if dbapi_connection.closed or pgconn.status != psycopg.pq.ConnStatus.OK:
        return False
    if pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    if not ping:
        try:
            waiting = select.poll()  # poll, not select: no limit on the descriptor's number
            waiting.register(pgconn.socket, select.POLLIN | select.POLLPRI)
            ping = bool(waiting.poll(0))
        except (OSError, ValueError, psycopg.OperationalError):
            return False
    if not ping:
        return True
    try:
        result = pgconn.exec_(b"")
    except psycopg.Error:
        return False
    return result.status == psycopg.pq.ExecStatus.EMPTY_QUERY and pgconn.status == psycopg.pq.ConnStatus.OK


def use_engine(engine: Engine) -> None:
    """Point the process at another engine (tests)."""
    global _engine, _factory
    import prakerja.models  # noqa: F401  (as in get_engine)

    _engine = engine
    _factory = sessionmaker(bind=engine, expire_on_commit=False)
    _loop_connections.close_all()


def ready() -> bool:
    """Whether the engine exists already (creating it may start the embedded server: blocking work)."""
    return _factory is not None


def session_factory() -> sessionmaker[Session]:
    get_engine()
    assert _factory is not None
    return _factory


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The boundary: commit once on success, roll back on any error."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose() -> None:
    global _engine, _factory
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _factory = None
    _loop_connections.close_all()
    database_url.cache_clear()


# --- loop connections (ADR 0014, asyncpg since ADR 0028) ----------------------------------------------------------


_PARAMETER = re.compile(r"%\((\w+)\)s|%s|%%")


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """A statement written for psycopg (``%(name)s`` or ``%s`` parameters, ``%%`` for a percent sign) as asyncpg
    wants it (``$1``, ``$2``, ..., ``%``), and the names in their order (empty for ``%s`` parameters, which keep
    theirs): one SQL text serves a ``Session`` and a loop connection alike. A name used twice is one parameter.
    Call it once, at import (:func:`positional_cached` for a statement built at run time)."""
    order: dict[str, int] = {}
    anonymous = 0

    def number(match: re.Match[str]) -> str:
        nonlocal anonymous
        name = match.group(1)
        if name is not None:
            return f"${order.setdefault(name, len(order) + 1)}"
        if match.group(0) == "%%":
            return "%"
        anonymous += 1
        return f"${anonymous}"

    converted = _PARAMETER.sub(number, sql)
    if order and anonymous:
        raise ValueError("a statement takes named or positional parameters, not both")
    return converted, tuple(order)


positional_cached = lru_cache(maxsize=512)(positional)
""":func:`positional` for statements built at run time from a few shapes (the catalogue search's filters)."""


def arguments(names: tuple[str, ...], params: Mapping[str, Any]) -> list[Any]:
    """The values of ``params`` in the order :func:`positional` gave its names."""
    return [params[name] for name in names]


@dataclass(frozen=True)
class SqlPart:
    """A domain's share of a statement another domain's repository composes (ADR 0032): ``sql``, its common table
    expressions (``name AS (...)``, comma-separated; names and ``%(name)s`` parameters prefixed by the domain so
    parts never clash), ``params`` their values, and ``touch``, scalar expressions the composed statement's final
    SELECT must evaluate (a CTE that writes through a function call runs only when read). Each domain's repository
    writes its own part on its own tables; the composer only places the parts and gates them."""

    sql: str
    params: dict[str, Any]
    touch: tuple[str, ...] = ()


def with_parts(params: Mapping[str, Any], parts: Sequence[SqlPart]) -> dict[str, Any]:
    """The composing statement's own ``params`` and every part's, refusing a name given twice (one name, one value:
    a clash would silently give one part another's value)."""
    merged = dict(params)
    for part in parts:
        clash = merged.keys() & part.params.keys()
        if clash:
            raise ValueError(f"parameters named by two parts: {sorted(clash)}")
        merged.update(part.params)
    return merged


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> Any:
    return collections.namedtuple("Row", names)


def named_rows(records: list[Any]) -> list[Any]:
    """asyncpg's records as the named tuples psycopg's ``namedtuple_row`` gives (``row.r_error``), for a loop twin
    whose callers read the ``Session`` twin's rows by attribute."""
    if not records:
        return []
    make = _row_type(tuple(records[0].keys()))
    return [make(*record.values()) for record in records]


def _json_text(value: Any) -> str:
    """A ``json``/``jsonb`` parameter: text already JSON (what the repositories pass) as it is, anything else
    encoded, as psycopg's ``Jsonb`` would."""
    return value if isinstance(value, str) else json.dumps(value)


async def _prepare_connection(conn: asyncpg.Connection) -> None:
    """What every loop connection needs before its first statement, so that no call site handles driver types:
    ``json``/``jsonb`` come back as Python values and go in as JSON text or values (psycopg's behaviour, which the
    ``Session`` twins keep)."""
    for name in ("jsonb", "json"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=_json_text, decoder=json.loads, format="text")


@dataclass
class _LoopPool:
    """One event loop's idle connections (an asyncpg connection belongs to the loop it was opened on) and the gate
    that bounds how many are checked out at once."""

    idle: collections.deque[tuple[asyncpg.Connection, float]]
    gate: asyncio.Semaphore


class LoopConnections:
    """Idle ``asyncpg`` connections outside any transaction block (so every statement is its own transaction,
    committed by the server before it answers), one idle stack per event loop.

    A connection is used by one coroutine at a time (checked out, then back). How many are checked out at once is
    bounded per loop (``limit``); idle ones beyond ``limit`` are closed. A checkout costs no round trip: asyncpg
    reads a connection's socket whenever the loop runs, so one the server closed (restart,
    ``pg_terminate_backend``, idle timeout) already reports ``is_closed()``; a connection idle for longer than
    ``idle_ping_seconds`` is pinged (a silent network drop leaves nothing to read). Connecting happens only when
    the loop's stack is empty. Connections left on a loop that has been closed (a test's ``asyncio.run``) are
    dropped when the next new loop takes its first connection."""

    def __init__(self, limit: int = 10, idle_ping_seconds: float = IDLE_PING_SECONDS) -> None:
        self.limit = limit
        self.idle_ping_seconds = idle_ping_seconds
        self.conninfo: str | None = None
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}

    def pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        found = self._pools.get(loop)
        if found is None:
            # a copy: the loops of other threads (a test's server thread) come and go meanwhile
            for old in [old for old in list(self._pools) if old.is_closed()]:
                gone = self._pools.pop(old, None)
                if gone is not None:
                    _terminate_all(gone.idle)
            found = self._pools[loop] = _LoopPool(collections.deque(), asyncio.Semaphore(self.limit))
        return found

    async def checkout(self, pool: _LoopPool) -> asyncpg.Connection:
        import asyncpg

        idle = pool.idle
        while idle:
            conn, checked_in = idle.pop()
            if not conn.is_closed() and not conn.is_in_transaction():
                if time.monotonic() - checked_in <= self.idle_ping_seconds:
                    return conn
                try:
                    await conn.execute("SELECT 1")  # outside a transaction block: commits nothing
                    return conn
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    pass
            _terminate(conn)
        if self.conninfo is None:
            raise RuntimeError("loop connections used before the database was chosen")
        conn = await asyncpg.connect(self.conninfo)
        await _prepare_connection(conn)
        return conn

    def checkin(self, pool: _LoopPool, conn: asyncpg.Connection) -> None:
        """Back on the loop's idle stack if it is usable as it is (open, no transaction block left), else closed."""
        if conn.is_closed() or conn.is_in_transaction() or len(pool.idle) >= self.limit:
            _terminate(conn)
            return
        pool.idle.append((conn, time.monotonic()))

    def close_all(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            _terminate_all(pool.idle)
        self.conninfo = None


def _terminate(conn: asyncpg.Connection) -> None:
    """Close at once, without a goodbye round trip. On a closed loop the transport is already gone (uvloop) or is
    closed here all the same (asyncio), and asyncpg says so with a RuntimeError."""
    with suppress(RuntimeError):
        conn.terminate()


def _terminate_all(idle: collections.deque[tuple[asyncpg.Connection, float]]) -> None:
    while idle:
        _terminate(idle.pop()[0])


_loop_connections = LoopConnections()


def _choose_loop_database() -> None:
    """The loop connections go where the engine goes (tests point the engine elsewhere with ``use_engine``)."""
    engine = get_engine()
    _loop_connections.limit = get_settings().pool_size
    _loop_connections.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class LoopLease:
    """A loop connection checked out by :func:`lease_on_loop` until :meth:`release` (ADR 0033): for a unit of work
    whose check-out and check-in are in different places of one request (the signed call's frame: admission, then
    the work, on one connection). It counts against the loop's gate like :func:`on_loop`'s."""

    conn: asyncpg.Connection
    pool: _LoopPool
    released: bool = False

    def release(self) -> None:
        """Back to the idle stack (or closed, as :func:`on_loop` does at its end); a second call does nothing."""
        if not self.released:
            self.released = True
            try:
                _loop_connections.checkin(self.pool, self.conn)
            finally:
                self.pool.gate.release()


async def lease_on_loop() -> LoopLease:
    """A loop connection as :func:`on_loop` gives it (outside any transaction block, every statement its own
    transaction), held until the lease's :meth:`LoopLease.release`: whoever takes one releases it in a ``finally``."""
    if _loop_connections.conninfo is None:
        await asyncio.to_thread(_choose_loop_database)  # it may start the embedded server: blocking work
    pool = _loop_connections.pool()
    await pool.gate.acquire()
    try:
        conn = await _loop_connections.checkout(pool)
    except BaseException:
        pool.gate.release()
        raise
    return LoopLease(conn, pool)


@asynccontextmanager
async def on_loop() -> AsyncIterator[asyncpg.Connection]:
    """A connection for the event loop (ADR 0014, 0028), outside any transaction block: every statement on it
    commits by itself (durably: the server answers after its WAL flush), so use it only for a unit of work that is
    one statement, or open ``async with conn.transaction():`` on it. Statements take positional parameters
    (``$1``; ``positional`` turns a ``%(name)s`` statement into one) and are prepared once per connection
    (asyncpg's statement cache). An error leaves nothing half-done: a failed statement rolled itself back, and a
    connection left inside a transaction block is closed, not reused."""
    lease = await lease_on_loop()
    try:
        yield lease.conn
    finally:
        lease.release()

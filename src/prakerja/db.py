"""Engine and sessions. One commit per request or job, at the boundary: services never commit.

Two ways to the database:

- the SQLAlchemy :class:`Session` (``unit_of_work``, the request's ``DbSession``): any number of statements, ORM
  or Core, one transaction committed at the boundary, in a worker thread;
- the **loop connections** (``on_loop``, ADR 0014): pooled psycopg ``AsyncConnection`` objects in autocommit mode,
  used on the event loop with no thread hop and no ``Session``. Each statement is its own transaction, committed
  durably when the server answers, so this path is only for a unit of work that is *one statement* (a read, or a
  write whose every row, job and signal is in that statement: the intake's insert) or an explicit
  ``async with conn.transaction():`` block.
"""

from __future__ import annotations

import asyncio
import collections
import select
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from prakerja.config import get_settings
from prakerja.pgembed import embedded_url

if TYPE_CHECKING:
    import psycopg


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


# --- loop connections (ADR 0014) --------------------------------------------------------------------------------


class LoopConnections:
    """Idle autocommit ``psycopg.AsyncConnection`` objects shared by the process's event loops.

    A connection is used by one coroutine at a time (checked out, then back), so it never waits on its own lock and
    is not tied to one loop: the test client's loops and uvicorn's loop can all take from the same idle stack. How
    many are checked out at once is bounded per loop (``limit``); idle ones beyond ``limit`` are closed. A checkout
    costs a ``poll()`` with a zero timeout (``connection_alive``; a real ping after ``idle_ping_seconds`` idle), as
    for the engine's pool, and connecting happens only when the stack is empty."""

    def __init__(self, limit: int = 10, idle_ping_seconds: float = IDLE_PING_SECONDS) -> None:
        self.limit = limit
        self.idle_ping_seconds = idle_ping_seconds
        self.conninfo: str | None = None
        self._idle: collections.deque[tuple[psycopg.AsyncConnection[Any], float]] = collections.deque()
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def checkout(self) -> psycopg.AsyncConnection[Any]:
        import psycopg

        while self._idle:
            conn, checked_in = self._idle.pop()
            if connection_alive(conn, ping=time.monotonic() - checked_in > self.idle_ping_seconds):
                return conn
            conn.pgconn.finish()
        if self.conninfo is None:
            raise RuntimeError("loop connections used before the database was chosen")
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)

    def checkin(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Back on the idle stack if it is usable as it is (idle, not closed), else closed."""
        import psycopg

        idle = psycopg.pq.TransactionStatus.IDLE
        if conn.closed or conn.pgconn.transaction_status != idle or len(self._idle) >= self.limit:
            conn.pgconn.finish()
            return
        self._idle.append((conn, time.monotonic()))

    def gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self._gates.get(loop)
        if found is None:
            found = self._gates[loop] = asyncio.Semaphore(self.limit)
        return found

    def close_all(self) -> None:
        while self._idle:
            self._idle.pop()[0].pgconn.finish()
        self.conninfo = None


_loop_connections = LoopConnections()


def _choose_loop_database() -> None:
    """The loop connections go where the engine goes (tests point the engine elsewhere with ``use_engine``)."""
    engine = get_engine()
    _loop_connections.limit = get_settings().pool_size
    _loop_connections.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def on_loop() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """An autocommit connection for the event loop (ADR 0014): every statement on it commits by itself (durably:
    the server answers after its WAL flush), so use it only for a unit of work that is one statement, or open
    ``async with conn.transaction():`` on it. An error leaves nothing half-done: a failed statement rolled itself
    back, and a connection that is not idle afterwards (a broken transaction block) is closed, not reused."""
    if _loop_connections.conninfo is None:
        await asyncio.to_thread(_choose_loop_database)  # it may start the embedded server: blocking work
    async with _loop_connections.gate():
        conn = await _loop_connections.checkout()
        try:
            yield conn
        finally:
            _loop_connections.checkin(conn)

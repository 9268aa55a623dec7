"""Engine and sessions. One commit per request or job, at the boundary: services never commit."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from prakerja.config import get_settings
from prakerja.pgembed import embedded_url


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


def get_engine() -> Engine:
    global _engine, _factory
    import prakerja.models  # noqa: F401  (every mapper known before the first flush; models.py sits above db)

    if _engine is None:
        settings = get_settings()
        _engine = create_engine(
            database_url(),
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
        )
        watch_connections(_engine)
        _factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


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
    database_url.cache_clear()

"""Engine and sessions. One commit per request or job, at the boundary: services never commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from prakerja.config import get_settings


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
    from prakerja.pgembed import embedded_url

    return embedded_url(settings.home)


_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None


def get_engine() -> Engine:
    global _engine, _factory
    import prakerja.models  # noqa: F401  (every mapper known before the first flush)

    if _engine is None:
        settings = get_settings()
        _engine = create_engine(
            database_url(),
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_pre_ping=True,
        )
        _factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


def use_engine(engine: Engine) -> None:
    """Point the process at another engine (tests)."""
    global _engine, _factory
    import prakerja.models  # noqa: F401

    _engine = engine
    _factory = sessionmaker(bind=engine, expire_on_commit=False)


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

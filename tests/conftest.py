"""Test harness: real PostgreSQL (embedded unless PRAKERJA_TEST_DATABASE_URL), migrated once per run into a
database of its own; each test that touches the database starts from empty tables."""

from __future__ import annotations

import asyncio
import contextvars
import os
import shutil
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` on a loop of its own in a thread of its own, in this test's context (the injected
    clock): an earlier test of the same worker (a browser test's Playwright) may have left a loop running in this
    thread, where ``asyncio.run`` refuses to start."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(context.run, asyncio.run, coroutine).result()


ROOT = Path(__file__).resolve().parents[1]
TEST_HOME = Path(os.environ.get("PRAKERJA_TEST_HOME", ROOT / ".prakerja-test"))

os.environ["PRAKERJA_ENV"] = "test"
os.environ["PRAKERJA_HOME"] = str(TEST_HOME)
os.environ.pop("PRAKERJA_DATABASE_URL", None)


def _admin_url() -> str:
    external = os.environ.get("PRAKERJA_TEST_DATABASE_URL")
    if external:
        from prakerja.db import normalise_url

        return normalise_url(external)
    from prakerja.pgembed import embedded_url

    TEST_HOME.mkdir(parents=True, exist_ok=True)
    return embedded_url(TEST_HOME)


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    """A fresh database for this test process, migrated to head with Alembic."""
    from prakerja import db, migrate
    from prakerja.config import reset_settings

    admin_url = _admin_url()
    name = f"prakerja_test_{worker_id}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    os.environ["PRAKERJA_DATABASE_URL"] = url
    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    yield url
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    from prakerja import db

    eng = create_engine(database_url, pool_size=10, max_overflow=20)
    db.use_engine(eng)
    yield eng
    eng.dispose()


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        )
        return [r[0] for r in rows]


_WRITTEN_TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
    " WHERE c.relkind = 'r' AND c.relname = ANY(:tables) AND pg_relation_size(c.oid) > 0"
)
_OWNED_SEQUENCES_USED = text(
    """
    SELECT quote_ident(s.relname) FROM pg_class s
    JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = 'public'
    JOIN pg_sequences q ON q.schemaname = n.nspname AND q.sequencename = s.relname
    WHERE s.relkind = 'S' AND q.last_value IS NOT NULL
      AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
    """
)


def empty_database(engine: Engine) -> None:
    """Empty every table as ``TRUNCATE <every table> RESTART IDENTITY CASCADE`` did, at a fraction of its cost
    (~0.15-0.45 s a test: a new file for each of ~80 tables and their indexes, against ~0.01 s).

    Every table is locked as TRUNCATE locks it (a transaction of an earlier test still in flight is waited for, as
    before), then only the tables written since they were last truncated (a heap of one page or more: rows, or only
    dead ones, whose index entries tests that count entries would see) are truncated, and only the used sequences
    owned by a column are restarted."""
    tables = _tables(engine)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        written = conn.scalars(_WRITTEN_TABLES, {"tables": tables}).all()
        if written:
            conn.execute(text(f"TRUNCATE {', '.join(written)} RESTART IDENTITY CASCADE"))
        for sequence in conn.execute(_OWNED_SEQUENCES_USED).scalars().all():
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """Empty tables before the test (committed data of earlier tests never leaks)."""
    empty_database(engine)
    yield engine


@pytest.fixture
def session(clean_db: Engine) -> Iterator[Session]:
    """A session on the test database. Tests commit when the code under test would."""
    with Session(clean_db, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def app(clean_db: Engine):  # type: ignore[no-untyped-def]
    from prakerja.app import create_app

    return create_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def frozen_clock() -> Iterator[object]:
    from datetime import UTC, datetime

    from prakerja.kit.clock import clock

    clock.freeze(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    yield clock
    clock.unfreeze()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(clean_db: Engine) -> Iterator[str]:
    """The real app on a loopback port (uvicorn in a thread), for browsers and HTTP clients."""
    import uvicorn

    from prakerja.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """xdist's worker name, or "main" without xdist."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (apt-get install -y chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    yield pg
    context.close()

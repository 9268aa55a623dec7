"""The embedded database: clear one-line errors for unusable folders; a second process reuses a running server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prakerja.pgembed import SETTINGS_FILE, EmbeddedDatabaseError, _check_pgdata, server_settings


def test_other_major_version_refused(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")
    with pytest.raises(EmbeddedDatabaseError, match="PostgreSQL 15 database but the embedded server is 18"):
        _check_pgdata(pgdata)


def test_foreign_folder_refused(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "holiday-photos.jpg").write_bytes(b"x")
    with pytest.raises(EmbeddedDatabaseError, match="not a PostgreSQL data folder"):
        _check_pgdata(pgdata)


def test_file_in_the_way_refused(tmp_path: Path) -> None:
    (tmp_path / "pgdata").write_text("x")
    with pytest.raises(EmbeddedDatabaseError, match="not a folder"):
        _check_pgdata(tmp_path / "pgdata")


def test_locked_by_a_live_foreign_process(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    (pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{pgdata}\n")
    with pytest.raises(EmbeddedDatabaseError, match="locked by process"):
        _check_pgdata(pgdata)


HOLD = """
import sys, time
from pathlib import Path
from sqlalchemy import create_engine, text
from prakerja.pgembed import embedded_url
url = embedded_url(Path(sys.argv[1]))
with create_engine(url).connect() as c:
    c.execute(text("SELECT 1"))
print(url, flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
def test_second_process_reuses_the_running_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "PRAKERJA_DATABASE_URL"}
    first = subprocess.Popen([sys.executable, "-c", HOLD, str(home), "8"], stdout=subprocess.PIPE, env=env, text=True)
    assert first.stdout is not None
    url_first = first.stdout.readline().strip()
    pid_file = home / "pgdata" / "postmaster.pid"
    server_pid = pid_file.read_text().splitlines()[0]
    second = subprocess.run([sys.executable, "-c", HOLD, str(home), "0"], capture_output=True, text=True, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == url_first
    assert pid_file.read_text().splitlines()[0] == server_pid, "the second process started its own server"
    assert first.poll() is None
    first.wait(timeout=60)
    deadline = time.monotonic() + 20
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_file.exists(), "the last process to exit should stop the server"


def test_settings_are_sized_to_the_machine() -> None:
    gib = 1024**3
    assert server_settings(2 * gib)["shared_buffers"] == "512MB"  # a quarter
    assert server_settings(256 * 1024**2)["shared_buffers"] == "128MB"  # never below PostgreSQL's default
    assert server_settings(64 * gib)["shared_buffers"] == "4096MB"  # the operating system's cache does the rest
    assert server_settings(8 * gib)["max_wal_size"] == "4GB"


SHOW = """
import sys
from pathlib import Path
from sqlalchemy import create_engine, text
from prakerja.pgembed import embedded_url
with create_engine(embedded_url(Path(sys.argv[1]))).connect() as c:
    names = "'shared_buffers', 'max_wal_size', 'checkpoint_timeout'"
    rows = c.execute(text(f"SELECT name, setting, unit FROM pg_settings WHERE name IN ({names})")).all()
print(";".join(f"{n}={s}{u or ''}" for n, s, u in sorted(rows)), flush=True)
"""


@pytest.mark.slow
def test_server_runs_with_our_settings_new_and_existing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "PRAKERJA_DATABASE_URL"}
    shared_mb = int(server_settings()["shared_buffers"].removesuffix("MB"))
    expected = f"checkpoint_timeout=900s;max_wal_size=4096MB;shared_buffers={shared_mb * 128}8kB"

    def show() -> str:
        done = subprocess.run([sys.executable, "-c", SHOW, str(home)], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert show() == expected  # a new folder: applied by a restart right after its first start
    settings = home / "pgdata" / SETTINGS_FILE
    settings.write_text("shared_buffers = '128MB'\n")  # an edit (or an older prakerja's file) is replaced
    pid_file = home / "pgdata" / "postmaster.pid"
    deadline = time.monotonic() + 20
    while pid_file.exists() and time.monotonic() < deadline:  # the server stops with its last process
        time.sleep(0.2)
    assert not pid_file.exists(), "the server should have stopped with its last process"
    assert show() == expected  # an existing folder: written before its server starts
    assert settings.read_text().startswith("# written by prakerja")  # the edit was replaced
    assert "include_if_exists = 'prakerja.conf'" in (home / "pgdata" / "postgresql.conf").read_text()

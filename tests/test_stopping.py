"""One SIGTERM or Ctrl+C stops `prakerja serve` (web server and in-process worker) within ten seconds, and the
job in progress is finished, not lost (issue "house", point 6). Real subprocesses on real ports."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import free_port

STOP_WITHIN = 10.0

# `prakerja` with one extra task registered: it waits for a go file, sleeps a little, then writes a done file
# (the job is "in progress" when the signal arrives, and finishing it takes a visible moment).
_WITH_SLOW_TASK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from prakerja.jobs import app

    @app.task(name="tests.slow")
    def slow(folder: str) -> None:
        folder_path = Path(folder)
        (folder_path / "started").write_text("")
        while not (folder_path / "go").exists():
            time.sleep(0.05)
        time.sleep(1.0)
        (folder_path / "done").write_text("")

    from prakerja.cli import main
    sys.argv = ["prakerja", *sys.argv[1:]]
    main()
    """
)


def _start(
    args: list[str], database_url: str, *, with_slow_task: bool = False, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    command = ["-c", _WITH_SLOW_TASK] if with_slow_task else ["-m", "prakerja"]
    proc = subprocess.Popen(
        [sys.executable, *command, *args, "--port", str(port)],
        env={**os.environ, "PRAKERJA_DATABASE_URL": database_url, "PRAKERJA_LOG_FORMAT": "json", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, port
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            _, stderr = proc.communicate()
            raise AssertionError(f"server did not start: {stderr[-2000:]}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str], signum: int | None) -> str:
    """Send one signal (None: it was sent already) and wait for the process to end; returns its stderr."""
    if signum is not None:
        proc.send_signal(signum)
    try:
        _, stderr = proc.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        raise AssertionError(f"still running {STOP_WITHIN} s after one signal: {stderr[-2000:]}") from None
    return stderr


def _port_closed(port: int, path: str = "/healthz") -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
    except httpx.TransportError:
        return True
    return False


_SLOW_STATUS = text("SELECT status FROM procrastinate_jobs WHERE task_name = 'tests.slow'")


def _defer_slow(engine: Engine, folder: Path) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'tests.slow', 0, NULL, NULL, "
                "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
            ),
            {"args": json.dumps({"folder": str(folder)})},
        )


def _wait_for(path: Path, proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline and proc.poll() is None, what
        time.sleep(0.05)


def _retry_stalled(database_url: str) -> int:
    import procrastinate

    from prakerja.jobs import app, libpq_conninfo, retry_stalled_jobs

    async def run() -> int:
        connector = procrastinate.PsycopgConnector(conninfo=libpq_conninfo(database_url))
        with app.replace_connector(connector):
            async with app.open_async():
                return await retry_stalled_jobs(app.job_manager)

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: a browser test may have left a loop in this one
        return pool.submit(asyncio.run, run()).result(timeout=60)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_one_signal_stops_serve_with_its_worker(database_url: str, clean_db: Engine, signum: int) -> None:
    proc, port = _start(["serve"], database_url)
    stderr = _stop(proc, signum)
    assert proc.returncode == 0, stderr[-2000:]
    assert _port_closed(port)
    assert "Traceback" not in stderr
    assert "Stopped worker" in stderr  # the in-process worker stopped too, not only the web server


def test_one_signal_stops_serve_without_worker(database_url: str, clean_db: Engine) -> None:
    proc, port = _start(["serve", "--no-worker"], database_url)
    _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    assert _port_closed(port)


def test_the_job_in_progress_is_finished(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    proc, _ = _start(["serve"], database_url, with_slow_task=True)
    try:
        _defer_slow(clean_db, tmp_path)
        _wait_for(tmp_path / "started", proc, "the worker never started the job")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the signal is being handled while the job still runs
        (tmp_path / "go").write_text("")
        stderr = _stop(proc, None)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    assert (tmp_path / "done").exists(), stderr[-2000:]
    with clean_db.connect() as conn:
        assert conn.execute(_SLOW_STATUS).scalar_one() == "succeeded"


def test_one_signal_stops_the_demo(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    """With the simulators it started next to it (journeys issue: the demo runs the civil registry's)."""
    registry, gateway, payments = free_port(), free_port(), free_port()
    settings = {
        "PRAKERJA_HOME": str(tmp_path),
        "PRAKERJA_DUKCAPIL_URL": f"http://127.0.0.1:{registry}",
        "PRAKERJA_PAYMENTS_SIM_URL": f"http://127.0.0.1:{payments}",
        "PRAKERJA_SMS_SENDER": "http",
        "PRAKERJA_SMS_GATEWAY_URL": f"http://127.0.0.1:{gateway}",
    }
    proc, port = _start(["demo"], database_url, env=settings)
    try:
        assert httpx.get(f"http://127.0.0.1:{registry}/_health", timeout=5).json()["people"] > 0
        assert httpx.get(f"http://127.0.0.1:{gateway}/_health", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{payments}/_health", timeout=5).json()["partners"] == ["bni", "ovo"]
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    stderr = _stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, stderr[-2000:]
    assert _port_closed(port)
    assert _port_closed(registry, "/_health") and _port_closed(gateway, "/_health")
    assert _port_closed(payments, "/_health")
    assert "Traceback" not in stderr, stderr[stderr.find("Traceback") - 2000 :][:4000]
    assert "Stopped worker" in stderr


def test_the_demo_says_which_simulator_port_is_taken(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "prakerja", "demo", "--port", str(free_port())],
            env={
                **os.environ,
                "PRAKERJA_DATABASE_URL": database_url,
                "PRAKERJA_HOME": str(tmp_path),
                "PRAKERJA_DUKCAPIL_URL": f"http://127.0.0.1:{busy}",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr[-2000:]
    message = " ".join(result.stderr.split())
    assert f"port {busy}" in message and "Dukcapil simulator" in message and "PRAKERJA_DUKCAPIL_URL" in message
    assert "Traceback" not in result.stderr


def test_a_job_of_a_killed_server_runs_again(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    """SIGKILL (a process manager's last resort) leaves the job running in the table; once its worker's heartbeat
    is stale, the periodic `jobs.retry_stalled` puts it back, and the next server runs it to the end."""
    proc, _ = _start(["serve"], database_url, with_slow_task=True)
    try:
        _defer_slow(clean_db, tmp_path)
        _wait_for(tmp_path / "started", proc, "the worker never started the job")
    finally:
        proc.kill()
        proc.communicate()
    with clean_db.begin() as conn:
        assert conn.execute(_SLOW_STATUS).scalar_one() == "doing"
        assert _retry_stalled(database_url) == 0  # its worker may still be alive: not touched yet
        conn.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 minutes'"))
    assert _retry_stalled(database_url) >= 1  # (with any periodic job the kill interrupted)
    with clean_db.connect() as conn:
        assert conn.execute(_SLOW_STATUS).scalar_one() == "todo"
    (tmp_path / "started").unlink()
    (tmp_path / "go").write_text("")
    again, _ = _start(["serve"], database_url, with_slow_task=True)
    try:
        _wait_for(tmp_path / "done", again, "the job was not run again")
        deadline = time.monotonic() + 10
        while True:
            with clean_db.connect() as conn:
                status = conn.execute(_SLOW_STATUS).scalar_one()
            if status == "succeeded" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == "succeeded"
    finally:
        _stop(again, signal.SIGTERM)

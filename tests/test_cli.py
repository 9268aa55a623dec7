from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prakerja", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_invalid_setting_is_one_line() -> None:
    result = _run("db", "current", env={"PRAKERJA_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "PRAKERJA_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_production_requires_secrets() -> None:
    result = _run("db", "current", env={"PRAKERJA_ENV": "production", "PRAKERJA_DATABASE_URL": "postgresql://x/y"})
    assert result.returncode == 2 and "PRAKERJA_SECRET_KEY: required" in result.stderr


def test_unusable_home_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = {"PRAKERJA_HOME": str(blocker / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "prakerja", "db", "current"],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "PRAKERJA_DATABASE_URL"},
    )
    assert result.returncode == 2 and "PRAKERJA_HOME" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use(database_url: str) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = _run("serve", "--port", str(port), env={"PRAKERJA_DATABASE_URL": database_url})
    assert result.returncode == 2 and f"port {port}" in result.stderr and "in use" in result.stderr


def test_serve_answers_healthz_and_home(database_url: str, clean_db) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "prakerja", "serve", "--port", str(port), "--no-worker"],
        env={**os.environ, "PRAKERJA_DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "no output") from None
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        assert '<html lang="id">' in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        proc.terminate()
        proc.wait(timeout=20)

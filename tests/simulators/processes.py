"""Simulators as separate processes (``python -m prakerja sim ...``), the way an operator starts them, and the
program's webhook deliveries run the way the worker would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.partners import tasks
from tests.conftest import free_port
from tests.partners.conftest import Partner


def credentials_file(folder: Path, partner: Partner) -> Path:
    """What the program office hands over, as ``prakerja partner key-issue`` prints it."""
    path = folder / f"{partner.client_code}.txt"
    path.write_text(
        f"client_code  {partner.client_code}\nkey_id       {partner.key_id}\nkey          {partner.secret}\n"
    )
    return path


def clock_offset() -> str:
    """Seconds from the system clock to the program's (frozen in tests)."""
    return str((utcnow() - datetime.now(UTC)).total_seconds())


@contextmanager
def simulator(kind: str, api_url: str, partner: Partner, folder: Path, *more: str, port: int = 0) -> Iterator[str]:
    """``prakerja sim <kind>`` on ``port`` (default: a free one), signing as ``partner`` with its credentials file;
    yields its URL."""
    port = port or free_port()
    command = [sys.executable, "-m", "prakerja", "sim", kind, "--api-url", api_url, "--port", str(port)]
    command += ["--key", str(credentials_file(folder, partner)), "--clock-offset", clock_offset(), *more]
    proc = subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/_clock", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                _, stderr = proc.communicate()
                raise AssertionError(f"sim {kind} did not start: {stderr[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


class WebhookJobs:
    """Runs queued ``partners.deliver_webhook`` jobs once each, as ``prakerja worker`` would."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.done: set[int] = set()

    def run(self) -> list[Any]:
        self.session.commit()
        rows = self.session.execute(
            text("SELECT id, args FROM procrastinate_jobs WHERE task_name = 'partners.deliver_webhook' ORDER BY id")
        ).all()
        results = []
        for job_id, args in rows:
            if job_id not in self.done:
                self.done.add(job_id)
                results.append(tasks.deliver_webhook(**args))
        return results


def events(url: str, type_: str | None = None) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/_events", params={"type": type_} if type_ else None, timeout=10)
    return list(answer.json()["events"])


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)

"""Helpers for the senders' tests: settings for one test, the app built under them, sign-up over HTTP, the job
worker, and the SMS gateway simulator served over real HTTP."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.config import reset_settings
from prakerja.simulators import sms
from prakerja.worker import run_worker
from tests.conftest import free_port

PASSWORD = "kata-sandi-rahasia"


def run_jobs() -> None:
    """Run the queued jobs to the end, in a thread of its own (as tests/notifications/test_jobs.py does)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(run_worker, concurrency=1, wait=False).result(timeout=120)


def csrf(client: TestClient, path: str) -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_up(client: TestClient, email: str, name: str = "Siti Rahmawati") -> None:
    """Sign up, then sign in: sign-up itself signs nobody in (its answer is the same for a taken e-mail)."""
    response = client.post(
        "/daftar",
        data={"email": email, "name": name, "password": PASSWORD, "csrf_token": csrf(client, "/daftar")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    sign_in(client, email)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/masuk",
        data={"email": email, "password": password, "csrf_token": csrf(client, "/masuk")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def create_officer(session: Session, email: str, role: Role = Role.pmo_officer) -> None:
    auth.create_account(
        session, email=email, password=PASSWORD, role=role, display_name="Petugas", created_by=Actor.system()
    )
    session.commit()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``settings_env(EMAIL_SENDER="smtp", ...)`` sets ``PRAKERJA_*`` for this test only."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"PRAKERJA_{name}", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def make_client(clean_db: object) -> Iterator[Callable[[], TestClient]]:
    """Clients of an app built under the settings in force when it is called (each its own cookie jar)."""
    from prakerja.app import create_app

    opened: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(create_app(), base_url="http://testserver")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@contextmanager
def serve(app: object) -> Iterator[str]:
    """An ASGI app on a free loopback port (uvicorn in a thread): real HTTP."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Gateway:
    def __init__(self, url: str, state: sms.Gateway) -> None:
        self.url, self.state = url, state

    def received(self) -> list[dict[str, str]]:
        return list(httpx.get(f"{self.url}/_messages", timeout=5).json()["messages"])

    def set(self, mode: str) -> None:
        httpx.post(f"{self.url}/_faults", json={"mode": mode}, timeout=5).raise_for_status()


GATEWAY_TOKEN = "gateway-token-for-tests"


@pytest.fixture
def sms_gateway() -> Iterator[Gateway]:
    """The SMS gateway simulator, a separate ASGI app, on a loopback port."""
    state = sms.Gateway(token=GATEWAY_TOKEN)
    with serve(sms.create_app(state)) as url:
        yield Gateway(url, state)

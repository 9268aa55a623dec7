"""Registration fixtures: a signed-in applicant client, and the Dukcapil simulator on a loopback port."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.simulators import dukcapil
from tests.conftest import free_port

PASSWORD = "kata-sandi-rahasia"


def csrf(client: TestClient, path: str) -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_up(client: TestClient, email: str = "siti@example.org", name: str = "Siti Rahmawati"):  # type: ignore[no-untyped-def]
    """Sign up, then sign in: sign-up itself signs nobody in (its answer is the same for a taken e-mail)."""
    response = client.post(
        "/daftar",
        data={"email": email, "name": name, "password": PASSWORD, "csrf_token": csrf(client, "/daftar")},
        follow_redirects=False,
    )
    if response.status_code == 303:
        signed_in = client.post(
            "/masuk",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf(client, "/masuk")},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
    return response


@pytest.fixture
def applicant_client(client: TestClient, session: Session) -> TestClient:
    response = sign_up(client)
    assert response.status_code == 303, response.text
    return client


def person(index: int) -> dict[str, object]:
    """A living person of the synthetic population (index chosen so they are not deceased)."""
    return dukcapil.person(index)


@dataclass
class Simulator:
    url: str
    faults: dukcapil.Faults

    def set(self, mode: str, delay_seconds: float = 3.0) -> None:
        httpx.post(
            f"{self.url}/_faults", json={"mode": mode, "delay_seconds": delay_seconds}, timeout=5
        ).raise_for_status()


@pytest.fixture(scope="session")
def population_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dukcapil.generate_population(tmp_path_factory.mktemp("dukcapil") / "population.jsonl", 300)


@pytest.fixture
def dukcapil_sim(population_file: Path) -> Iterator[Simulator]:
    """The simulator as a separate ASGI app served by uvicorn on 127.0.0.1 (real HTTP)."""
    import uvicorn

    faults = dukcapil.Faults()
    app = dukcapil.create_app(dukcapil.load_population(population_file), faults)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.02)
    yield Simulator(url=f"http://127.0.0.1:{port}", faults=faults)
    server.should_exit = True
    thread.join(timeout=10)

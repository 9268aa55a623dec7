"""The payment partners simulator served on a loopback port (uvicorn in a thread), with a bank and an e-wallet."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from prakerja.payouts.providers import signing
from prakerja.simulators.payments.app import create_app
from prakerja.simulators.payments.state import Partner, Simulator
from tests.conftest import free_port


@dataclass
class PaymentsSim:
    url: str
    simulator: Simulator
    secrets: dict[str, str]

    def base(self, code: str) -> str:
        return f"{self.url}/{code}"


@pytest.fixture
def payments_sim() -> Iterator[PaymentsSim]:
    import uvicorn

    secrets = {"bni": signing.new_secret(), "ovo": signing.new_secret()}
    simulator = Simulator(
        partners={
            "bni": Partner(code="bni", kind="bank", secret=secrets["bni"]),
            "ovo": Partner(code="ovo", kind="ewallet", secret=secrets["ovo"]),
        }
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(simulator), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("payments simulator did not start")
        time.sleep(0.05)
    yield PaymentsSim(url=f"http://127.0.0.1:{port}", simulator=simulator, secrets=secrets)
    server.should_exit = True
    thread.join(timeout=10)

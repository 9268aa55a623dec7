"""Partner API fixtures: a partner with a key, and a client that signs requests the way the contract says."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.clock import utcnow
from prakerja.partners import rules
from prakerja.partners import service as credentials


@dataclass
class Partner:
    partner_id: Any
    client_code: str
    key_id: Any
    secret: str


def create_partner(
    session: Session,
    *,
    name: str = "Badan Kepegawaian Negara",
    role: str = "ministry",
    list_types: tuple[str, ...] | None = None,
    source: str = "BKN",
) -> Partner:
    """A partner with one credential; a ministry's may import ``list_types`` (default ``asn``) under ``source``."""
    org = credentials.create_partner(session, name=name, role=role, actor=Actor.system())
    if list_types is None:
        list_types = ("asn",) if role == "ministry" else ()
    issued = credentials.issue_key(
        session,
        partner_id=org.id,
        actor=Actor.system(),
        label="production",
        list_types=list_types,
        list_source=source if list_types else "",
    )
    session.commit()
    return Partner(org.id, issued.client_code, issued.key_id, issued.secret)


@dataclass
class SignedClient:
    """Builds each request, signs its exact bytes (path with query, body) and sends it over real HTTP."""

    http: httpx.Client

    def request(
        self,
        method: str,
        path: str,
        partner: Partner | None,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        idempotency_key: str | None = None,
        omit: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> tuple[httpx.Response, httpx.Request]:
        request = self.http.build_request(method, path, **kwargs)
        request.read()
        if partner is not None:
            stamp = str(int(utcnow().timestamp()) if timestamp is None else timestamp)
            signature = rules.sign(
                (secret or partner.secret).encode(),
                partner.client_code,
                stamp,
                method,
                request.url.raw_path,
                request.content,
            )
            headers = {"client_code": partner.client_code, "timestamp": stamp, "signature": signature}
            for name, value in headers.items():
                if name not in omit:
                    request.headers[name] = value
        if idempotency_key is not None:
            request.headers["Idempotency-Key"] = idempotency_key
        return self.http.send(request), request

    def send(self, request: httpx.Request) -> httpx.Response:
        return self.http.send(request)


@pytest.fixture
def signed_client(live_server: str, frozen_clock: object) -> Iterator[SignedClient]:
    """The app served by uvicorn on loopback (tests/conftest.py ``live_server``), clock frozen."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield SignedClient(http)


@pytest.fixture
def ministry(session: Session) -> Partner:
    return create_partner(session)


def wait_until(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False

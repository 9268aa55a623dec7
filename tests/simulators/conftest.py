"""Simulator fixtures: a shared frozen clock, the fake program side (fake_program.py) with a platform, two
institutions and some cards, and the platform and institution simulators wired to it in process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from prakerja.simulators import institution, platform
from prakerja.simulators.partner_client import Credentials, PartnerClient, SimClock
from prakerja.simulators.webhook_receiver import Inbox
from tests.simulators import fake_program

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SESSIONS = [START + timedelta(days=14 + n) for n in range(3)]
PLATFORM = Credentials("plt_shop", "platform-key")
INSTITUTION = Credentials("ins_home", "institution-key")
OTHER_INSTITUTION = Credentials("ins_other", "other-key")
WEBHOOK_SECRET = "whsec_" + "c2ltdWxhdG9yLXdlYmhvb2stc2VjcmV0LTEyMw=="
CARD = "1234567890123456"


@pytest.fixture
def clock() -> SimClock:
    found = SimClock()
    found.set(now=START)
    return found


@pytest.fixture
def fake(clock: SimClock) -> fake_program.Fake:
    found = fake_program.Fake(now=clock.now)
    for credentials, role in ((PLATFORM, "platform"), (INSTITUTION, "institution"), (OTHER_INSTITUTION, "institution")):
        found.keys[credentials.client_code] = (credentials.key, role)
    found.cards[CARD] = fake_program.Card(name="Siti Rahmawati", balance=3_500_000)
    found.courses["crs_webinar"] = fake_program.Course(institution="ins_home", price=1_000_000, sessions=SESSIONS)
    found.courses["crs_other"] = fake_program.Course(institution="ins_other", price=500_000, sessions=SESSIONS[:1])
    found.courses["crs_pending"] = fake_program.Course(institution="ins_home", price=700_000, approved=False)
    return found


@pytest.fixture
def program(fake: fake_program.Fake) -> Iterator[TestClient]:
    with TestClient(fake_program.create_app(fake), base_url="http://program.test") as http:
        yield http


def client_for(credentials: Credentials, program: TestClient, clock: SimClock) -> PartnerClient:
    return PartnerClient(credentials=credentials, http=program, clock=clock)


@pytest.fixture
def shop(program: TestClient, clock: SimClock) -> platform.Shop:
    return platform.Shop(client=client_for(PLATFORM, program, clock))


@pytest.fixture
def shop_http(shop: platform.Shop, clock: SimClock) -> Iterator[TestClient]:
    app = platform.create_app(shop, Inbox(WEBHOOK_SECRET, clock))
    with TestClient(app, base_url="http://shop.test") as http:
        yield http


@pytest.fixture
def desk(program: TestClient, clock: SimClock) -> institution.Desk:
    return institution.Desk(client=client_for(INSTITUTION, program, clock))


@pytest.fixture
def desk_http(desk: institution.Desk, clock: SimClock) -> Iterator[TestClient]:
    app = institution.create_app(desk, Inbox(WEBHOOK_SECRET, clock))
    with TestClient(app, base_url="http://institution.test") as http:
        yield http

"""``demo_marketplace.buy_attend_complete``: one purchase -> attendance -> completion through both simulators served
on loopback, against the fake program side (the real one: test_journey.py), with the program's clock moved by the
caller and the simulators' clocks following it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from prakerja.simulators import demo_marketplace
from prakerja.simulators.partner_client import SimClock
from tests.simulators import fake_program
from tests.simulators.conftest import CARD, INSTITUTION, PLATFORM, SESSIONS, START, WEBHOOK_SECRET


@pytest.fixture
def fake_url(fake: fake_program.Fake) -> Iterator[str]:
    running = demo_marketplace.serve_in_thread(fake_program.create_app(fake))
    yield running.url
    running.stop()


def at_start() -> SimClock:
    """A simulator's own clock, set where the program's is (they are moved together by the journey)."""
    found = SimClock()
    found.set(now=START)
    return found


def test_one_journey_through_both_simulators(fake: fake_program.Fake, fake_url: str, clock: SimClock) -> None:
    shop = demo_marketplace.start_platform(
        api_url=fake_url,
        credentials=PLATFORM,
        webhook_secret=WEBHOOK_SECRET,
        listings=(("crs_webinar", 950_000, "Pemasaran Digital"),),
        clock=at_start(),
    )
    desk = demo_marketplace.start_institution(api_url=fake_url, credentials=INSTITUTION, clock=at_start())
    moved = []
    try:

        def set_time(at):  # type: ignore[no-untyped-def]
            moved.append(at)
            clock.set(now=at)

        journey = demo_marketplace.buy_attend_complete(
            platform_url=shop.url,
            institution_url=desk.url,
            course_id="crs_webinar",
            card_number=CARD,
            account="siti@contoh.id",
            read_otp=lambda purchase_id: fake.purchases[purchase_id].otp,
            redeem_codes=lambda purchase_id: fake.purchases[purchase_id].codes,
            set_time=set_time,
            score=91,
        )
    finally:
        shop.stop()
        desk.stop()
    assert moved == [*SESSIONS, SESSIONS[-1] + timedelta(days=1)]
    assert journey.voucher_code == fake.purchases[journey.purchase_id].voucher_code
    assert [step["commit"]["session_id"] for step in journey.attendance] == [f"crs_webinar-s{n}" for n in range(3)]
    assert journey.completion == fake.completions[journey.purchase_id]
    assert journey.certificate_id == f"crt_{journey.purchase_id}"
    assert fake.purchases[journey.purchase_id].status == "completed"


def test_a_refused_step_names_itself(fake: fake_program.Fake, fake_url: str) -> None:
    shop = demo_marketplace.start_platform(api_url=fake_url, credentials=PLATFORM, clock=at_start())
    desk = demo_marketplace.start_institution(api_url=fake_url, credentials=INSTITUTION, clock=at_start())
    try:
        with pytest.raises(demo_marketplace.JourneyError) as refused:
            demo_marketplace.buy_attend_complete(
                platform_url=shop.url,
                institution_url=desk.url,
                course_id="crs_webinar",
                card_number=CARD,
                account="siti@contoh.id",
                read_otp=lambda purchase_id: "x",
                redeem_codes=lambda purchase_id: {},
            )
    finally:
        shop.stop()
        desk.stop()
    assert (refused.value.step, refused.value.status, refused.value.code) == ("checkout", 404, "unknown_course")

"""One participant's purchase -> attendance -> completion through the platform and institution simulators, over
HTTP, for the demo and the journey test (instead of writing to the ledger directly).

:func:`start_platform` and :func:`start_institution` run the simulators on loopback in threads of this process
(each still speaks to the program only over HTTP, signed); :func:`buy_attend_complete` drives them through their
JSON routes, :func:`buy` the platform's part alone (up to the voucher). What only the participant sees (the SMS
code, the redeem codes on their dashboard) and the time the program lives in are handed in by the caller, since a
partner cannot read them:

- ``read_otp(purchase_id) -> str``: the one-time code the program texted (the demo reads its development sender);
- ``redeem_codes(purchase_id) -> {session_id: redeem_code}``: the codes the participant would type in;
- ``set_time(at)``: optional, move the program's (frozen) clock; the simulators' clocks are moved with it through
  their ``POST /_clock``, so their signatures stay inside the program's replay window.

Nothing here imports the program."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from prakerja.simulators.partner_client import Credentials, PartnerClient, SimClock, parse_time, rfc3339
from prakerja.simulators.webhook_receiver import Inbox


class JourneyError(Exception):
    """A step was refused: which step, and the simulator's answer (``code``, ``message``)."""

    def __init__(self, step: str, status: int, answer: Any) -> None:
        code = answer.get("code") if isinstance(answer, dict) else None
        super().__init__(f"{step}: {status} {code or answer}")
        self.step, self.status, self.answer, self.code = step, status, answer, code


@dataclass
class Running:
    """A simulator served on loopback in a thread."""

    url: str
    app: Any
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Serve an ASGI app with uvicorn in a daemon thread; ``port`` 0 picks a free one."""
    import socket

    import uvicorn

    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True, name=f"simulator-{port}")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"simulator on {host}:{port} did not start")
        time.sleep(0.02)
    return Running(url=f"http://{host}:{port}", app=app, server=server, thread=thread)


def start_platform(
    *,
    api_url: str,
    credentials: Credentials,
    webhook_secret: str | None = None,
    listings: tuple[tuple[str, int, str], ...] = (),
    clock: SimClock | None = None,
    port: int = 0,
    public_url: str | None = None,
) -> Running:
    """``public_url``: the shop's address in its listings' URLs (default: the simulator's own example address)."""
    from prakerja.simulators import platform

    clock = clock or SimClock()
    shop = platform.Shop(client=PartnerClient.connect(api_url, credentials, clock))
    if public_url is not None:
        shop.public_url = public_url
    for course_id, price, title in listings:
        shop.list_course(course_id, price, title)
    return serve_in_thread(platform.create_app(shop, Inbox(webhook_secret, clock)), port=port)


def start_institution(
    *,
    api_url: str,
    credentials: Credentials,
    webhook_secret: str | None = None,
    clock: SimClock | None = None,
    port: int = 0,
) -> Running:
    from prakerja.simulators import institution

    clock = clock or SimClock()
    desk = institution.Desk(client=PartnerClient.connect(api_url, credentials, clock))
    return serve_in_thread(institution.create_app(desk, Inbox(webhook_secret, clock)), port=port)


@dataclass
class Journey:
    """What each step answered."""

    order: dict[str, Any] = field(default_factory=dict)
    voucher_code: str = ""
    enrolment: dict[str, Any] = field(default_factory=dict)
    attendance: list[dict[str, Any]] = field(default_factory=list)
    completion: dict[str, Any] = field(default_factory=dict)

    @property
    def purchase_id(self) -> str:
        return str(self.order.get("purchase_id", ""))

    @property
    def certificate_id(self) -> str | None:
        value = self.completion.get("certificate_id")
        return None if value is None else str(value)


def _post(http: httpx.Client, step: str, url: str, body: Mapping[str, Any], expected: tuple[int, ...]) -> Any:
    response = http.post(url, json=dict(body))
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    if response.status_code not in expected:
        raise JourneyError(step, response.status_code, answer)
    return answer


def buy(
    *,
    platform_url: str,
    course_id: str,
    card_number: str,
    account: str,
    read_otp: Callable[[str], str],
    http: httpx.Client,
) -> Journey:
    """Buy ``course_id`` on the platform with the card: inquiry and purchase (the program texts a code), then the
    code. The journey stops at the voucher (a purchase awaiting redemption)."""
    journey = Journey()
    journey.order = _post(
        http,
        "checkout",
        f"{platform_url}/api/checkout",
        {"course_id": course_id, "card_number": card_number, "account": account},
        (201,),
    )
    otp = read_otp(journey.purchase_id)
    confirmed = _post(http, "otp", f"{platform_url}/api/orders/{journey.order['order_id']}/otp", {"otp": otp}, (200,))
    journey.order, journey.voucher_code = confirmed, str(confirmed["voucher_code"])
    return journey


def buy_attend_complete(
    *,
    platform_url: str,
    institution_url: str,
    course_id: str,
    card_number: str,
    account: str,
    read_otp: Callable[[str], str],
    redeem_codes: Callable[[str], Mapping[str, str]],
    set_time: Callable[[datetime], None] | None = None,
    completed_at: datetime | None = None,
    score: int = 85,
    passed: bool = True,
    http: httpx.Client | None = None,
) -> Journey:
    """Buy ``course_id`` on the platform with the card (inquiry, purchase, SMS code), redeem the voucher at the
    institution, commit each session's redeem code at the session's start (with ``set_time``, the program's and
    the simulators' clocks are moved there first), then report the completion at ``completed_at`` (default: a day
    after the last session starts, or a week after redemption for a course without sessions)."""
    own = http is None
    client = http or httpx.Client(timeout=60)

    def move(at: datetime) -> None:
        if set_time is None:
            return
        set_time(at)
        for base in (platform_url, institution_url):
            _post(client, "clock", f"{base}/_clock", {"now": rfc3339(at)}, (200,))

    try:
        journey = buy(
            platform_url=platform_url,
            course_id=course_id,
            card_number=card_number,
            account=account,
            read_otp=read_otp,
            http=client,
        )
        journey.enrolment = _post(
            client, "redeem", f"{institution_url}/api/vouchers/redeem", {"voucher_code": journey.voucher_code}, (200,)
        )
        codes = redeem_codes(journey.purchase_id)
        sessions = sorted(journey.enrolment["sessions"], key=lambda s: str(s["starts_at"]))
        for session in sessions:
            move(parse_time(str(session["starts_at"])))
            code = codes[str(session["session_id"])]
            journey.attendance.append(
                _post(client, "attend", f"{institution_url}/api/attendance", {"redeem_code": code}, (200,))
            )
        if completed_at is None:
            if sessions:
                completed_at = parse_time(str(sessions[-1]["starts_at"])) + timedelta(days=1)
            else:
                clock = client.get(f"{institution_url}/_clock").json()
                completed_at = parse_time(clock["now"]) + timedelta(days=7)
        move(completed_at)
        journey.completion = _post(
            client,
            "complete",
            f"{institution_url}/api/completions",
            {
                "purchase_id": journey.purchase_id,
                "score": score,
                "passed": passed,
                "completed_at": rfc3339(completed_at),
            },
            (201,),
        )
        return journey
    finally:
        if own:
            client.close()

"""``prakerja demo``: a small program to click through. Grows with each capability."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from prakerja import migrate
from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Account, Role
from prakerja.auth.rules import hash_password
from prakerja.catalog import service as catalog_service
from prakerja.catalog.service.demo import INSTITUTIONS as CATALOG_INSTITUTIONS
from prakerja.catalog.service.demo import PLATFORMS as CATALOG_PLATFORMS
from prakerja.catalog.service.demo import DemoCatalog, seed_demo_catalog
from prakerja.config import get_settings
from prakerja.db import session_factory, unit_of_work
from prakerja.kit.clock import JAKARTA, clock, utcnow
from prakerja.notifications.models import Message
from prakerja.partners import service as partners
from prakerja.payouts import service as payouts
from prakerja.payouts.models import RunKind
from prakerja.payouts.service.demo import secrets_of as payouts_demo_secrets
from prakerja.payouts.service.demo import seed as seed_payment_providers
from prakerja.portals.service.demo import seed as seed_portals
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient
from prakerja.registration.service.demo import DEMO_PERSON, population_path
from prakerja.registration.service.demo import give_phone as seed_phone
from prakerja.registration.service.demo import seed_for_email as seed_registration
from prakerja.selection.service.demo import seed as seed_selection
from prakerja.simulators import demo_marketplace, dukcapil, sms
from prakerja.simulators.background import Background, loopback_address
from prakerja.simulators.partner_client import Credentials, SimClock, rfc3339
from prakerja.simulators.payments import app as payments_app
from prakerja.simulators.payments import state as payments_sim
from prakerja.training.service import ratings as trainings

DEMO_PASSWORD = "prakerja-demo"  # noqa: S105  (printed to the operator on purpose)

DEMO_ACCOUNTS = [
    (Role.applicant, "peserta@demo.prakerja.id", "Siti Rahmawati"),
    (Role.pmo_admin, "admin@demo.prakerja.id", "Admin PMO"),
    (Role.pmo_officer, "petugas@demo.prakerja.id", "Petugas PMO"),
    (Role.institution, "lembaga@demo.prakerja.id", "Lembaga Pelatihan Demo"),
    (Role.platform, "platform@demo.prakerja.id", "Platform Digital Demo"),
    (Role.payment_partner, "mitra@demo.prakerja.id", "Mitra Pembayaran Demo"),
    (Role.auditor, "auditor@demo.prakerja.id", "Auditor Demo"),
    (Role.researcher, "peneliti@demo.prakerja.id", "Peneliti Demo"),
]


HISTORY = timedelta(days=10)
"""The demo's story starts this long before the moment it is prepared: the wave was announced then, and the demo
applicant has since bought a course, attended its sessions and completed it (a completion is never in the future)."""
CLASS_STARTS = timedelta(days=2)
"""The demo courses' first session, after the story's start (one session a day from then)."""
PLATFORM_PUBLIC_URL = "https://platform-1.example"
"""Where the demo platform's course pages are (the catalogue seed lists them there)."""
SHOP_ACCOUNT = "peserta@demo.prakerja.id"
"""The demo applicant's account at the platform simulator's shop."""


@dataclass(frozen=True)
class Prepared:
    logins: list[tuple[str, str, str]]
    """(role, e-mail, password) for each demo login."""
    orders: list[dict[str, Any]]
    """The platform simulator's orders (its ``GET /api/orders``) of the purchases this run made: none once made."""
    paid: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """What the payment simulator was asked to pay and paid, per partner (its ``GET /{code}/sim/paid``), when this
    run paid the demo applicant's incentive; empty when it did not (paid before, or no simulator)."""
    payments: Background | None = None
    """The payment partners' simulator, still serving (``keep_payments``): the caller stops it."""


def prepare(
    *,
    program: Callable[[], ASGIApp],
    reset: bool = False,
    payments_url: str | None = None,
    keep_payments: bool = False,
    pay: bool = True,
) -> Prepared:
    """Migrate and seed (idempotent). ``program`` builds the web application: the demo serves it on loopback while
    the platform and institution simulators buy, attend and complete through its partner API, and while the demo
    applicant links her bank account (the payment simulator's inquiry and OTP), rates and reviews her course and is
    paid her incentive through the payment simulator at ``payments_url`` (default: the ``payments_sim_url``
    setting; a non-loopback address names a real partner: then nothing is paid). ``keep_payments`` leaves that
    simulator serving (``Prepared.payments``) for the participants who still have to link an account."""
    if reset:
        migrate.downgrade("base")
    migrate.upgrade()
    now = clock.now()
    with clock.frozen(now - HISTORY):
        with unit_of_work() as session:
            if session.scalars(select(Account.id).limit(1)).first() is None:
                for role, email, name in DEMO_ACCOUNTS:
                    created = auth.create_account(
                        session,
                        email=email,
                        password=DEMO_PASSWORD,
                        role=role,
                        display_name=name,
                        created_by=Actor.system(),
                    )
                    created.email_verified_at = utcnow()  # demo people verified their e-mail (joining a wave needs it)
        with unit_of_work() as session:
            seed_registration(session, DEMO_ACCOUNTS[0][1])  # a verified applicant profile + Dukcapil population
        with unit_of_work() as session:
            seed_selection(session, demo_applicant_email=DEMO_ACCOUNTS[0][1])  # an announced wave + an open one
        with unit_of_work() as session:  # courses, listings, a conflict of interest; the partner logins' organisations
            first_day = (clock.today_jakarta() + CLASS_STARTS).date()
            catalog = seed_demo_catalog(session, first_session=datetime.combine(first_day, time(9, 0), JAKARTA))
            seed_portals(
                session,
                institution_id=catalog.institutions[CATALOG_INSTITUTIONS[0]],
                platform_id=catalog.platforms[CATALOG_PLATFORMS[0]],
                institution_email=DEMO_ACCOUNTS[3][1],
                platform_email=DEMO_ACCOUNTS[4][1],
            )
        orders = _buy_through_simulators(program, catalog, DEMO_ACCOUNTS[0][1], until=now)
    with unit_of_work() as session:  # her incentive's timeline says what is still missing (rating, review, account)
        person = auth.account_by_email(session, DEMO_ACCOUNTS[0][1])
        recipient = recipients.recipient_by_account(session, person.id) if person is not None else None
        if recipient is not None:
            payouts.refresh(session, recipient.id)
        second = _second_applicant(session)
    logins = [(role.value, email, DEMO_PASSWORD) for role, email, _ in DEMO_ACCOUNTS]
    if second is not None:
        logins.append((Role.applicant.value, second.email, DEMO_PASSWORD))
    simulator = _start_payments(payments_url or get_settings().payments_sim_url) if pay else None
    if simulator is None:
        return Prepared(logins, orders)
    try:
        paid = _pay_through_simulator(program, simulator, second)
    except BaseException:
        simulator.running.join()
        raise
    if not keep_payments:
        simulator.running.join()
    return Prepared(logins, orders, paid, simulator.running if keep_payments else None)


# --- purchases through the platform and institution simulators --------------------------------------------------


_DEMO_PURCHASES = ("Strategi Pemasaran Digital untuk UMKM", "Dasar Pemrograman Web untuk Pemula")
"""The demo institution's webinar (bought, attended, completed) and self-paced course (bought: a voucher)."""


@dataclass(frozen=True)
class _Shopping:
    account_id: uuid.UUID
    card_number: str
    platform: Credentials
    institution: Credentials
    listings: tuple[tuple[str, int, str], ...]
    """(course id, price, title): the course attended (with sessions), then the one bought last (self-paced)."""


def _shopping(catalog: DemoCatalog, applicant_email: str) -> _Shopping | None:
    """What the simulators need, with a signing key for each demo partner (issued to the demo's simulators only);
    None when the applicant is no recipient or has bought already (the demo ran before)."""
    with unit_of_work() as session:
        account = auth.account_by_email(session, applicant_email)
        recipient = None if account is None else recipients.recipient_by_account(session, account.id)
        if account is None or recipient is None or recipient.funded_at is None:
            return None
        if trainings.my_trainings(session, account.id):
            return None
        keys = [
            partners.issue_key(session, partner_id=partner_id, actor=Actor.system(), label=label)
            for partner_id, label in (
                (catalog.platforms[CATALOG_PLATFORMS[0]], "Simulator platform (demo)"),
                (catalog.institutions[CATALOG_INSTITUTIONS[0]], "Simulator lembaga (demo)"),
            )
        ]
        courses = [catalog_service.get_course(session, catalog.courses[title]) for title in _DEMO_PURCHASES]
        return _Shopping(
            account_id=account.id,
            card_number=recipient.card_number,
            platform=Credentials(keys[0].client_code, keys[0].secret),
            institution=Credentials(keys[1].client_code, keys[1].secret),
            listings=tuple((str(c.id), c.price, c.title) for c in courses),
        )


def _latest_otp(account_id: uuid.UUID) -> str:
    """The one-time code in the participant's latest message (what their phone shows)."""
    with unit_of_work() as session:
        body = session.scalars(
            select(Message.body)
            .where(Message.account_id == account_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        ).first()
    found = re.search(r"\b(\d{6})\b", body or "")
    if found is None:
        raise RuntimeError("the demo applicant received no one-time code")
    return found.group(1)


def _redeem_codes(account_id: uuid.UUID, purchase_id: str) -> dict[str, str]:
    """The redeem codes on the participant's dashboard, which they type in at the institution."""
    with unit_of_work() as session:
        found = [t for t in trainings.my_trainings(session, account_id) if str(t.purchase_id) == purchase_id]
        return {str(code.session_id): code.code for training in found for code in training.codes}


def _buy_through_simulators(
    program: Callable[[], ASGIApp], catalog: DemoCatalog, applicant_email: str, *, until: datetime
) -> list[dict[str, Any]]:
    """The demo applicant buys the webinar on the platform simulator (card, SMS code), the institution simulator
    redeems the voucher, commits each session's redeem code at the session's time and reports the completion (the
    certificate is issued); then, the day before ``until``, the applicant buys the self-paced course (a voucher not
    redeemed yet). Everything over HTTP through the signed partner API of ``program``, served on loopback meanwhile;
    the injected clock walks through the story and the simulators' clocks follow it. Returns the platform
    simulator's orders."""
    shopping = _shopping(catalog, applicant_email)
    if shopping is None:
        return []
    server = demo_marketplace.serve_in_thread(program())
    started: list[demo_marketplace.Running] = [server]
    try:
        shop = demo_marketplace.start_platform(
            api_url=server.url,
            credentials=shopping.platform,
            listings=shopping.listings,  # as the catalogue seed listed them: the same prices and pages
            clock=_following(),
            public_url=PLATFORM_PUBLIC_URL,
        )
        started.append(shop)
        desk = demo_marketplace.start_institution(
            api_url=server.url, credentials=shopping.institution, clock=_following()
        )
        started.append(desk)
        with httpx.Client(timeout=60) as http:
            demo_marketplace.buy_attend_complete(
                platform_url=shop.url,
                institution_url=desk.url,
                course_id=shopping.listings[0][0],
                card_number=shopping.card_number,
                account=SHOP_ACCOUNT,
                read_otp=lambda _purchase: _latest_otp(shopping.account_id),
                redeem_codes=lambda purchase_id: _redeem_codes(shopping.account_id, purchase_id),
                set_time=clock.freeze,
                score=86,
                http=http,
            )
            clock.freeze(until - timedelta(days=1))
            for url in (shop.url, desk.url):
                http.post(f"{url}/_clock", json={"now": rfc3339(clock.now())}).raise_for_status()
            demo_marketplace.buy(
                platform_url=shop.url,
                course_id=shopping.listings[1][0],
                card_number=shopping.card_number,
                account=SHOP_ACCOUNT,
                read_otp=lambda _purchase: _latest_otp(shopping.account_id),
                http=http,
            )
            orders = http.get(f"{shop.url}/api/orders").raise_for_status().json()["orders"]
    finally:
        for running in reversed(started):
            running.stop()
    return list(orders)


def _following() -> SimClock:
    """A simulator's clock, frozen where the program's is (the demo moves both)."""
    found = SimClock()
    found.set(now=clock.now())
    return found


@dataclass(frozen=True)
class Simulator:
    """An outside system the demo stands in for, on the loopback address its setting names."""

    name: str
    setting: str
    """The environment variable that moves it (its URL)."""
    url: str
    host: str
    port: int
    build: Callable[[], ASGIApp]

    def start(self) -> Background:
        running = Background(self.name, self.build(), host=self.host, port=self.port)
        running.start()
        return running


def simulators() -> list[Simulator]:
    """The simulators the demo relies on with the current settings: the civil registry (every new applicant's
    identity check), and the SMS gateway when SMS go out over HTTP (the development sender needs none). A setting
    pointing away from this machine names a real system: the demo leaves it alone."""
    settings = get_settings()
    found: list[Simulator] = []
    address = loopback_address(settings.dukcapil_url)
    if address is not None:
        found.append(
            Simulator(
                "Dukcapil",
                "PRAKERJA_DUKCAPIL_URL",
                settings.dukcapil_url,
                *address,
                lambda: dukcapil.create_app(dukcapil.load_population(population_path())),
            )
        )
    address = loopback_address(settings.sms_gateway_url) if settings.sms_sender == "http" else None
    if address is not None:
        token = settings.sms_gateway_token
        found.append(
            Simulator(
                "SMS gateway",
                "PRAKERJA_SMS_GATEWAY_URL",
                settings.sms_gateway_url,
                *address,
                lambda: sms.create_app(sms.Gateway(token=token)),
            )
        )
    return found


# --- the incentive paid through the payment partners' simulator --------------------------------------------------

DEMO_BANK_ACCOUNT = "0123456789"
"""The demo applicant's account at the simulated BNI (she opened it at the bank; she links it in the demo)."""
SECOND_PHONE = "+6281200000002"
"""The second demo applicant's registered phone, also her OVO e-wallet (not linked yet: that is hers to do)."""
REVIEW = "Materinya jelas dan langsung bisa saya pakai untuk memasarkan dagangan saya di media sosial."


@dataclass(frozen=True)
class SecondApplicant:
    """Another recipient of the demo wave who can sign in: trained nothing yet, no payout account linked (her
    e-wallet is open at the simulated OVO), so the journey pages have something to do for her."""

    account_id: uuid.UUID
    email: str
    nik: str
    full_name: str


@dataclass(frozen=True)
class PaymentsRunning:
    running: Background
    state: payments_sim.Simulator
    url: str


def simulator_address(url: str) -> tuple[str, int] | None:
    """``(host, port)`` where the demo serves a simulator of ``url``; None for an address not on this machine."""
    return loopback_address(url)


def payments_url() -> str | None:
    """Where the demo serves the payment partners' simulator, or None when the setting names a real system."""
    url = get_settings().payments_sim_url
    return url if loopback_address(url) is not None else None


def _second_applicant(session: Session) -> SecondApplicant | None:
    """The first other recipient of the demo wave (by id: the same one each run), given the demo password, a verified
    e-mail and a verified phone (the synthetic people of the wave have neither)."""
    demo = auth.account_by_email(session, DEMO_ACCOUNTS[0][1])
    found = session.scalars(
        select(Account)
        .join(Recipient, Recipient.account_id == Account.id)
        .where(Account.id != (demo.id if demo else None))
        .order_by(Recipient.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    if found.password_hash.startswith("!"):
        found.password_hash = hash_password(DEMO_PASSWORD)
        found.email_verified_at = utcnow()
    person = seed_phone(session, account_id=found.id, phone=SECOND_PHONE)
    if person is None:
        return None
    session.flush()
    return SecondApplicant(found.id, found.email, person.nik or "", person.full_name or "")


def _start_payments(url: str) -> PaymentsRunning | None:
    """The payment simulator on ``url`` with the demo's providers (seeded first: the simulator signs with their
    secrets), the payment partner login a member of BNI and the year's cash budget; None for a non-loopback URL."""
    address = loopback_address(url)
    if address is None:
        return None
    with unit_of_work() as session:
        seed_payment_providers(
            session,
            sim_url=url,
            member_email=DEMO_ACCOUNTS[5][1],
            scheme="2023-normal",
            year=clock.today_jakarta().year,
        )
        partners_at = payouts_demo_secrets(session)
    state = payments_sim.Simulator(
        partners={
            code: payments_sim.Partner(code=code, kind=kind, secret=secret)
            for code, (kind, secret) in partners_at.items()
        },
        program_url=get_settings().public_base_url,
    )
    running = Background("Payments", payments_app.create_app(state), host=address[0], port=address[1])
    running.start()
    return PaymentsRunning(running, state, url.rstrip("/"))


def _open_accounts(http: httpx.Client, simulator: PaymentsRunning, second: SecondApplicant | None) -> None:
    """What the demo's people did at their bank and e-wallet before the demo: the simulator's customers (it keeps
    them in memory, so every start opens them again)."""
    siti = dukcapil.person(DEMO_PERSON)
    opened = [
        ("bni", {"number": DEMO_BANK_ACCOUNT, "holder_name": siti["full_name"], "nik": siti["nik"]}),
    ]
    if second is not None:
        opened.append(("ovo", {"number": SECOND_PHONE, "holder_name": second.full_name, "nik": second.nik}))
    for code, customer in opened:
        http.post(
            f"{simulator.url}/{code}/sim/accounts", json={"phone": customer["number"], **customer}
        ).raise_for_status()


def _form(http: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """A form sent from its page, as a browser does (the page's CSRF field)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', http.get(page).text)
    if found is None:
        raise RuntimeError(f"no form on {page}")
    answer = http.post(action, data={**data, "csrf_token": found.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"{action}: {answer.status_code}")
    return answer


def _pay_through_simulator(
    program: Callable[[], ASGIApp], simulator: PaymentsRunning, second: SecondApplicant | None
) -> dict[str, list[dict[str, Any]]]:
    """The demo applicant, signed in on the program served on loopback, rates and reviews her course and links
    her BNI account (the partner's inquiry, then the code it texted her); her incentive is due: today's payout run
    pays it through the simulator (a pain.001 file, answered by a pain.002), and BNI's statement of the day is
    reconciled. Returns what the simulator paid; nothing when she was paid before."""
    with httpx.Client(timeout=60) as http:
        _open_accounts(http, simulator, second)
    with unit_of_work() as session:
        person = auth.account_by_email(session, DEMO_ACCOUNTS[0][1])
        recipient = recipients.recipient_by_account(session, person.id) if person is not None else None
        if recipient is None or payouts.entitlements.paid_total(session, recipient.id) > 0:
            return {}
        bought = trainings.my_trainings(session, recipient.account_id)
        completed = next((t for t in bought if t.status == "completed"), None)
        linked = payouts.accounts.active_account(session, recipient.id) is not None
        bank = next(p for p in payouts.accounts.providers(session) if p.code == "bni")
        recipient_id, bank_id = recipient.id, bank.id
    if completed is None:
        return {}
    server = demo_marketplace.serve_in_thread(program())
    try:
        with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as web:
            _form(web, "/masuk", "/masuk", {"email": DEMO_ACCOUNTS[0][1], "password": DEMO_PASSWORD})
            if not completed.rated:
                page = f"/pelatihan-saya/{completed.purchase_id}/nilai"
                _form(web, page, page, {"stars": "5", "review": REVIEW})
            if not linked:
                started = _form(
                    web, "/rekening-saya", "/rekening-saya", {"provider": str(bank_id), "number": DEMO_BANK_ACCOUNT}
                )
                otp_page = started.headers["location"]
                texted = web.get(f"{simulator.url}/bni/sim/outbox", params={"number": DEMO_BANK_ACCOUNT}).json()
                _form(web, otp_page, otp_page, {"otp": str(texted[-1]["otp"])})
    finally:
        server.stop()
    with unit_of_work() as session:
        payouts.refresh(session, recipient_id)
        run = payouts.runs.start(
            session, kind=RunKind.incentives, run_date=clock.today_jakarta().date(), actor=Actor.system()
        )
        run_id = run.id
    for _ in range(50):  # the pain.002 answers at once; a pass asks for it
        payouts.runs.execute(session_factory(), run_id, check_after=timedelta(0))
        with unit_of_work() as session:
            view = payouts.runs.get_run(session, run_id)
            if view is not None and view.status == "completed":
                break
    with unit_of_work() as session:
        payouts.reconciliation.fetch_and_ingest(
            session, provider_code="bni", day=clock.today_jakarta().date(), actor=Actor.system()
        )
    with httpx.Client(timeout=60) as http:
        return {
            code: http.get(f"{simulator.url}/{code}/sim/paid").raise_for_status().json()
            for code in simulator.state.partners
        }

"""``prakerja demo``: a small program to click through. Grows with each capability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from starlette.types import ASGIApp

from prakerja import migrate
from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Account, Role
from prakerja.catalog.service.demo import INSTITUTIONS as CATALOG_INSTITUTIONS
from prakerja.catalog.service.demo import PLATFORMS as CATALOG_PLATFORMS
from prakerja.catalog.service.demo import seed_demo_catalog
from prakerja.config import get_settings
from prakerja.db import unit_of_work
from prakerja.kit.clock import utcnow
from prakerja.ledger.service.demo import seed as seed_ledger
from prakerja.portals.service.demo import seed as seed_portals
from prakerja.registration.service.demo import population_path
from prakerja.registration.service.demo import seed_for_email as seed_registration
from prakerja.selection.service.demo import seed as seed_selection
from prakerja.simulators import dukcapil, sms
from prakerja.simulators.background import Background, loopback_address

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


def prepare(*, reset: bool = False) -> list[tuple[str, str, str]]:
    """Migrate and seed (idempotent). Returns (role, e-mail, password) for each demo login."""
    if reset:
        migrate.downgrade("base")
    migrate.upgrade()
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
    with unit_of_work() as session:
        seed_ledger(session, DEMO_ACCOUNTS[0][1])  # a funded training wallet with two purchases
    with unit_of_work() as session:  # courses, listings, a conflict of interest; the partner logins' organisations
        catalog = seed_demo_catalog(session)
        seed_portals(
            session,
            institution_id=catalog.institutions[CATALOG_INSTITUTIONS[0]],
            platform_id=catalog.platforms[CATALOG_PLATFORMS[0]],
            institution_email=DEMO_ACCOUNTS[3][1],
            platform_email=DEMO_ACCOUNTS[4][1],
        )
    return [(role.value, email, DEMO_PASSWORD) for role, email, _ in DEMO_ACCOUNTS]


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

"""Keyword-only helpers for provider settlement: an institution and a platform (with a 7.5% commission agreement)
whose courses were bought, delivered and completed through the marketplace's own services in March 2026, so the
ledger owes them what their settlement statements say; and their bank accounts opened at the simulated bank."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.clock import clock
from prakerja.payouts.models import SettlementAccount, SettlementAccountStatus
from prakerja.payouts.service import settlements
from prakerja.simulators.payments.state import Customer
from prakerja.training import service as training
from tests.partners.conftest import Partner, create_partner
from tests.payouts.conftest import PaymentsSim
from tests.training.conftest import PRICE, make_course, make_participant
from tests.training.test_service import buy, complete_self_paced, confirm

COMMISSION_BPS = 750
PERIOD = "2026-03"
INSTITUTION_NAME = "Lembaga Pelatihan Uji"
PLATFORM_NAME = "Platform Belajar Uji"
INSTITUTION_NUMBER = "1234500001"
PLATFORM_NUMBER = "1234500002"


@dataclass(frozen=True)
class Marketplace:
    institution: Partner
    platform: Partner
    completions: int

    @property
    def gross(self) -> int:
        return self.completions * PRICE

    @property
    def commission(self) -> int:
        return self.completions * (PRICE * COMMISSION_BPS // 10_000)

    @property
    def net(self) -> int:
        return self.gross - self.commission


def accepted_completions(session: Session, *, count: int = 2) -> Marketplace:
    """``count`` completions accepted in March 2026 (the clock must be frozen at 2 March)."""
    institution = create_partner(session, name=INSTITUTION_NAME, role="institution")
    platform = create_partner(session, name=PLATFORM_NAME, role="platform")
    training.completions.set_commission(
        session, platform_id=platform.partner_id, bps=COMMISSION_BPS, actor=Actor.system()
    )
    session.commit()
    course = make_course(session, institution, platform, format="self_paced", sessions=[], title="Mandiri")
    for n in range(count):
        person = make_participant(session)
        purchase_id = buy(session, platform, person, course, account=f"akun-{n}")
        complete_self_paced(session, institution, course, purchase_id, confirm(session, platform, person, purchase_id))
    return Marketplace(institution, platform, count)


def open_bank_account(
    sim: PaymentsSim, *, number: str, holder_name: str, active: bool = True, code: str = "bni"
) -> None:
    """The organisation's account at the simulated bank (what it does at the bank before telling the program)."""
    sim.simulator.partners[code].customers[number] = Customer(
        number=number, holder_name=holder_name, nik="", phone="", active=active
    )


def after_march() -> None:
    """Back to the real clock, well past March 2026: the simulated bank checks our signatures' timestamps against its
    own clock, as a real partner would, so no request to it can carry a frozen time."""
    clock.unfreeze()


def more_completions(session: Session, market: Marketplace, *, count: int, title: str) -> int:
    """``count`` more completions accepted for the same institution and platform, at the clock's time (frozen by
    the caller inside the month wanted); returns their gross."""
    course = make_course(session, market.institution, market.platform, format="self_paced", sessions=[], title=title)
    for n in range(count):
        person = make_participant(session)
        purchase_id = buy(session, market.platform, person, course, account=f"akun-{title}-{n}")
        complete_self_paced(
            session, market.institution, course, purchase_id, confirm(session, market.platform, person, purchase_id)
        )
    return count * PRICE


def bank_otp(sim: PaymentsSim, number: str, *, code: str = "bni") -> str:
    """The OTP the simulated bank last sent to the holder of ``number``."""
    sent = [m for m in sim.simulator.partners[code].outbox if m["number"] == number]
    assert sent, "the bank sent no OTP"
    return str(sent[-1]["otp"])


def record_confirmed(
    session: Session, sim: PaymentsSim, *, organisation_id: object, provider_id: object, number: str
) -> SettlementAccount:
    """Record an organisation's settlement account and, when the bank's inquiry passed, enter the OTP the bank sent
    to its holder (as the organisation's user does on its portal)."""
    account = settlements.record_account(
        session,
        organisation_id=organisation_id,  # type: ignore[arg-type]
        provider_id=provider_id,  # type: ignore[arg-type]
        number=number,
        actor=Actor.system(),
    )
    session.commit()
    if account.status is SettlementAccountStatus.otp_sent:
        settlements.confirm_account(
            session, organisation_id=account.organisation_id, otp=bank_otp(sim, number), actor=Actor.system()
        )
        session.commit()
        session.refresh(account)
    return account

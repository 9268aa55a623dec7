"""What the institution and platform portals show of the marketplace, against what the training tables and the
ledger hold: participants (masked names only), attendance per session (codes committed / expected), completions
with their state and reasons, settlement periods and statements (page and CSV, equal to the ledger), a platform's
sales by state and commissions; and the pages, in Indonesian, for each role's own organisation only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.catalog.models import Course
from prakerja.kit.clock import clock
from prakerja.ledger import service as ledger
from prakerja.partners import service as partners
from prakerja.training import rules, service
from prakerja.training.models import CodeState, Completion, CompletionStatus, Purchase, RedeemCode
from prakerja.training.schemas import CompletionCreate
from tests.partners.conftest import create_partner
from tests.training.conftest import NAME, PRICE, Participant, Partner, make_course, make_participant
from tests.training.test_service import INSTITUTION, PLATFORM, buy, confirm
from tests.web.test_shell import create_account, login

pytestmark = pytest.mark.usefixtures("frozen_clock")

OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000a2"), role="pmo_officer")
BPS = 750


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name="Lembaga Pelatihan Uji", role="institution")


@pytest.fixture
def other_institution(session: Session) -> Partner:
    return create_partner(session, name="Balai Kursus Lain", role="institution")


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Belajar Uji", role="platform")


@dataclass
class Marketplace:
    self_paced: Course
    webinar: Course
    people: list[Participant]
    vouchers: list[str]
    refused_note: str = "pola mencurigakan"


def report(session: Session, institution: Partner, purchase_id: str) -> str:
    out = service.completions.report(
        session,
        institution_id=institution.partner_id,
        data=CompletionCreate(purchase_id=purchase_id, completed_at=clock.now(), score=80, passed=True),
        actor=INSTITUTION,
    )
    session.commit()
    return out.status


def marketplace(
    session: Session, platform: Partner, institution: Partner, monkeypatch: pytest.MonkeyPatch
) -> Marketplace:
    """Three self-paced completions (accepted, in review, refused by an officer), one webinar participant who
    attended the first session, one purchase cancelled by the platform and one waiting for its one-time code."""
    service.completions.set_commission(session, platform_id=platform.partner_id, bps=BPS, actor=Actor.system())
    session.commit()
    spl = make_course(session, institution, platform, format="self_paced", sessions=[], title="Excel Mandiri")
    webinar = make_course(session, institution, platform, title="Pemasaran Digital Webinar")
    people = [make_participant(session) for _ in range(6)]
    purchases, vouchers = [], []
    for n, person in enumerate(people[:3]):
        purchase_id = buy(session, platform, person, spl, account=f"akun-{n}")
        voucher = confirm(session, platform, person, purchase_id)
        service.delivery.redeem_voucher(
            session, institution_id=institution.partner_id, voucher_code=voucher, actor=INSTITUTION
        )
        session.commit()
        purchases.append(purchase_id)
        vouchers.append(voucher)
    clock.advance(timedelta(hours=spl.hours))
    assert report(session, institution, purchases[0]) == "accepted"
    monkeypatch.setattr(rules, "BURST_COUNT", 2)  # the next reports within minutes are a burst
    assert report(session, institution, purchases[1]) == "in_review"
    assert report(session, institution, purchases[2]) == "in_review"
    refused = session.scalars(select(Completion).where(Completion.purchase_id == uuid.UUID(purchases[2]))).one()
    service.completions.decide(
        session, completion_id=refused.id, accept_it=False, note="pola mencurigakan", officer=OFFICER
    )
    session.commit()

    attending = buy(session, platform, people[3], webinar, account="akun-3")
    vouchers.append(confirm(session, platform, people[3], attending))
    service.delivery.redeem_voucher(
        session, institution_id=institution.partner_id, voucher_code=vouchers[-1], actor=INSTITUTION
    )
    session.commit()
    cancelled = buy(session, platform, people[4], webinar, account="akun-4")
    confirm(session, platform, people[4], cancelled)
    service.purchases.cancel(
        session, purchase_id=cancelled, platform_id=platform.partner_id, reason="pembeli membatalkan", actor=PLATFORM
    )
    session.commit()
    buy(session, platform, people[5], webinar, account="akun-5")  # waits for its one-time code

    first = session.scalars(
        select(RedeemCode)
        .where(RedeemCode.purchase_id == uuid.UUID(attending))
        .order_by(RedeemCode.valid_from)
        .limit(1)
    ).one()
    clock.freeze(first.valid_from + timedelta(minutes=30))
    service.delivery.commit_code(
        session, institution_id=institution.partner_id, redeem_code=first.code, actor=INSTITUTION
    )
    session.commit()
    return Marketplace(spl, webinar, people, vouchers)


class TestInstitutionOverview:
    def test_the_numbers_are_the_tables_and_the_ledgers(
        self, session: Session, platform: Partner, institution: Partner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        marketplace(session, platform, institution, monkeypatch)
        found = service.overview.institution(session, institution.partner_id)

        bought = session.scalar(
            select(func.count())
            .select_from(Purchase)
            .where(Purchase.institution_id == institution.partner_id, Purchase.confirmed_at.is_not(None))
            .where(Purchase.cancelled_at.is_(None))
        )
        assert len(found.participants) == bought == 4
        assert {p.name_masked for p in found.participants} == {"Ni M**e D**i"}

        expected = dict(
            session.execute(
                select(RedeemCode.session_id, func.count())
                .where(RedeemCode.state != CodeState.cancelled)
                .group_by(RedeemCode.session_id)
            ).all()
        )
        used = dict(
            session.execute(
                select(RedeemCode.session_id, func.count())
                .where(RedeemCode.state == CodeState.used)
                .group_by(RedeemCode.session_id)
            ).all()
        )
        assert len(found.attendance) == 5
        assert {a.session_id: (a.committed, a.expected) for a in found.attendance} == {
            s: (used.get(s, 0), n) for s, n in expected.items()
        }
        assert sorted((a.committed, a.expected) for a in found.attendance) == [(0, 1)] * 4 + [(1, 1)]
        assert found.attendance[-1].starts_local == "16-03-2026 09:00 WIB"

        states = sorted(c.status.value for c in found.completions)
        assert states == ["accepted", "in_review", "refused"]
        refused = next(c for c in found.completions if c.status is CompletionStatus.refused)
        assert refused.note == "pola mencurigakan" and refused.review_reasons == ["burst"]
        assert refused.reason_words[0][0].startswith("Banyak laporan")

        payable = ledger.institution_payable(session, institution.partner_id)
        [period] = found.periods
        assert (period.start, period.end) == (date(2026, 3, 1), date(2026, 3, 31))
        assert period.gross == payable.credits_posted == PRICE
        assert period.payable == payable.balance == found.ledger_balance == PRICE - PRICE * BPS // 10_000
        statement = service.settlement.statement(
            session, partner_id=institution.partner_id, start=period.start, end=period.end
        )
        assert (statement.gross, statement.commission, statement.payable) == (
            period.gross,
            period.commission,
            period.payable,
        )

    def test_an_organisation_without_trainings_reads_empty_lists(self, session: Session, institution: Partner) -> None:
        found = service.overview.institution(session, institution.partner_id)
        assert (found.participants, found.attendance, found.completions, found.periods) == ([], [], [], [])
        assert found.ledger_balance == 0


class TestPlatformOverview:
    def test_sales_by_state_and_commission_equal_the_ledger(
        self, session: Session, platform: Partner, institution: Partner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        marketplace(session, platform, institution, monkeypatch)
        found = service.overview.platform(session, platform.partner_id)
        by_state = {
            status.value: (count, amount)
            for status, count, amount in session.execute(
                select(Purchase.status, func.count(), func.sum(Purchase.amount))
                .where(Purchase.platform_id == platform.partner_id)
                .group_by(Purchase.status)
            )
        }
        assert {t.status.value: (t.purchases, t.amount) for t in found.by_state} == by_state
        assert by_state == {
            "completed": (1, PRICE),
            "redeemed": (3, 3 * PRICE),
            "cancelled": (1, PRICE),
            "otp_sent": (1, PRICE),
        }
        assert found.sold_amount == 4 * PRICE
        commission = ledger.platform_commission(session, platform.partner_id)
        assert found.commission_total == commission.credits_posted == found.ledger_balance == PRICE * BPS // 10_000
        assert len(found.sales) == 6
        assert sum(s.commission for s in found.sales) == found.commission_total
        [period] = found.periods
        assert period.payable == found.commission_total


def member(session: Session, partner: Partner, email: str, role: Role) -> None:
    create_account(session, email=email, role=role, name="Staf " + email.split("@")[0])
    partners.add_member(session, partner_id=partner.partner_id, email=email, role="admin", actor=OFFICER)
    session.commit()


class TestPages:
    def test_the_institution_sees_its_participants_attendance_completions_and_statements(
        self,
        client: TestClient,
        session: Session,
        platform: Partner,
        institution: Partner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        built = marketplace(session, platform, institution, monkeypatch)
        member(session, institution, "staf@lembaga.example", Role.institution)
        assert login(client, "staf@lembaga.example").status_code == 303
        page = client.get("/portal/lembaga")
        assert page.status_code == 200
        text = page.text
        assert text.count('data-testid="participant"') == 4 and "Ni M**e D**i" in text
        assert NAME not in text
        for person in built.people:
            assert person.card_number not in text
        for voucher in built.vouchers:
            assert voucher not in text
        assert "1 / 1" in text and "16-03-2026 09:00 WIB" in text
        assert "Diterima" in text and "Dalam tinjauan" in text and "Ditolak" in text
        assert "pola mencurigakan" in text and "Banyak laporan dari lembaga" in text
        net = PRICE - PRICE * BPS // 10_000
        assert f"Rp{net:,}".replace(",", ".") == "Rp878.750"
        assert text.count("Rp878.750") >= 2  # the period and the ledger's balance

        statement = client.get("/portal/lembaga/penyelesaian/2026-03")
        assert statement.status_code == 200 and "Rp878.750" in statement.text
        assert statement.text.count('data-testid="statement-line"') == 1
        csv_text = client.get("/portal/lembaga/penyelesaian/2026-03?format=csv")
        assert csv_text.headers["content-type"].startswith("text/csv")
        assert csv_text.text.splitlines()[-1] == f"total,,,,{PRICE},{PRICE * BPS // 10_000},{net}"
        for bad in ("2026-13", "26-03", "2026-3a"):
            assert client.get(f"/portal/lembaga/penyelesaian/{bad}").status_code == 422
        english = client.get("/portal/lembaga?lang=en")
        assert english.status_code == 200 and "Accepted" in english.text and "In review" in english.text
        assert client.get("/portal/platform").status_code == 403

    def test_the_platform_sees_its_sales_and_commission(
        self,
        client: TestClient,
        session: Session,
        platform: Partner,
        institution: Partner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        marketplace(session, platform, institution, monkeypatch)
        member(session, platform, "staf@platform.example", Role.platform)
        assert login(client, "staf@platform.example").status_code == 303
        text = client.get("/portal/platform").text
        assert text.count('data-testid="sale"') == 6 and text.count('data-testid="sales-state"') == 4
        assert "Rp3.800.000" in text  # sold: four vouchers
        assert "Rp71.250" in text  # the commission, in the period and in the ledger
        assert NAME not in text
        statement = client.get("/portal/platform/penyelesaian/2026-03")
        assert statement.status_code == 200 and "Rp71.250" in statement.text
        csv_text = client.get("/portal/platform/penyelesaian/2026-03?format=csv").text
        assert csv_text.splitlines()[-1].startswith(f"total,,,,{PRICE},71250,")
        assert client.get("/portal/lembaga/penyelesaian/2026-03").status_code == 403

    def test_another_institution_sees_none_of_it(
        self,
        client: TestClient,
        session: Session,
        platform: Partner,
        institution: Partner,
        other_institution: Partner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        marketplace(session, platform, institution, monkeypatch)
        member(session, other_institution, "staf@lain.example", Role.institution)
        login(client, "staf@lain.example")
        text = client.get("/portal/lembaga").text
        assert 'data-testid="participant"' not in text and "Ni M**e D**i" not in text
        statement = client.get("/portal/lembaga/penyelesaian/2026-03")
        assert statement.status_code == 200 and 'data-testid="statement-line"' not in statement.text

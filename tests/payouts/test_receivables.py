"""Clawback from institutions and platforms (ADR 0026): a purchase refunded after the settlement for its month was
paid gives the participant the money back and makes a receivable from the institution for its share and one from
the platform for its commission's share (the training ledger), which their next settlements deduct (shown with the
reason); each partner is paid the rest. Before, the ledger refused the refund (the payable was empty) and there was
no claim; then the whole refund was claimed from the institution, which had been paid the price less the platform's
commission, and the platform kept its commission on money the participant got back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.ledger.errors import LedgerError
from prakerja.payouts import rules
from prakerja.payouts.errors import AlreadyClaimed, RefundAmountInvalid, SettlementNotPaid
from prakerja.payouts.models import Receivable, ReceivableStatus, Settlement, SettlementStatus
from prakerja.payouts.service import receivables, settlements
from prakerja.training.models import Purchase
from tests.payouts.conftest import PaymentsSim
from tests.payouts.settle_factories import (
    COMMISSION_BPS,
    INSTITUTION_NUMBER,
    PERIOD,
    PLATFORM_NUMBER,
    Marketplace,
    more_completions,
)
from tests.payouts.test_run_paying import factory, paid_at_sim, until_settled  # noqa: F401
from tests.payouts.test_settlement import OFFICER, start, verified_market
from tests.portals.test_settlement_pages import member
from tests.training.conftest import PRICE
from tests.web.test_shell import create_account, csrf, login

REFUND = 100_000

INSTITUTION_SHARE, PLATFORM_SHARE = rules.refund_shares(
    REFUND, gross=PRICE, commission=PRICE * COMMISSION_BPS // 10_000
)


def march_paid(session: Session, factory: sessionmaker[Session], sim: PaymentsSim) -> tuple[Marketplace, Purchase]:  # noqa: F811
    market = verified_market(session, sim)
    run = start(session)
    assert run is not None
    until_settled(factory, run.id)
    session.expire_all()
    assert {s.status for s in session.scalars(select(Settlement))} == {SettlementStatus.paid}
    purchase = session.scalars(select(Purchase).order_by(Purchase.id)).first()
    assert purchase is not None
    return market, purchase


def april_owed(session: Session, market: Marketplace) -> int:
    clock.freeze(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    try:
        gross = more_completions(session, market, count=2, title="April")
    finally:
        clock.unfreeze()
    return gross - gross * COMMISSION_BPS // 10_000


def wallet(session: Session, participant_id: object) -> int:
    found = ledger.wallet(session, participant_id)  # type: ignore[arg-type]
    assert found is not None
    return found.balance


class TestClawback:
    def test_a_refund_after_the_month_was_paid_is_owed_back_and_deducted_from_the_next_settlement(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market, purchase = march_paid(session, factory, payments_sim)
        before = wallet(session, purchase.participant_id)
        # what happened before: the ledger refuses the refund, the institution's payable was paid out
        with pytest.raises(LedgerError):
            ledger.refund_purchase(
                session,
                transfer_id=new_id(),
                participant_id=purchase.participant_id,
                institution_id=market.institution.partner_id,
                amount=REFUND,
                purchase_ref=str(purchase.id),
                actor=OFFICER,
            )
        session.rollback()

        receivable = receivables.refund_after_settlement(
            session, purchase_id=purchase.id, amount=REFUND, reason="Pelatihan fiktif", actor=OFFICER
        )
        session.commit()
        assert (receivable.period, receivable.status, receivable.amount) == (
            PERIOD,
            ReceivableStatus.open,
            INSTITUTION_SHARE,
        )
        assert (INSTITUTION_SHARE, PLATFORM_SHARE) == (92_500, 7_500)
        assert wallet(session, purchase.participant_id) == before + REFUND
        assert ledger.institution_receivable(session, market.institution.partner_id).balance == INSTITUTION_SHARE
        assert ledger.platform_receivable(session, market.platform.partner_id).balance == PLATFORM_SHARE
        assert ledger.institution_payable(session, market.institution.partner_id).balance == 0
        assert ledger.platform_commission(session, market.platform.partner_id).balance == 0
        assert ledger.check(session).ok
        for action in ("payouts.institution_clawback", "payouts.platform_clawback"):
            assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) == 1

        # April: two more completions; the institution's settlement deducts what it owes back
        april_net = april_owed(session, market)
        _prepared, run = settlements.start_run(session, period="2026-04", run_date=date(2026, 5, 1), actor=OFFICER)
        session.commit()
        assert run is not None
        until_settled(factory, run.id)
        session.expire_all()
        april = session.scalars(
            select(Settlement).where(
                Settlement.organisation_id == market.institution.partner_id, Settlement.period == "2026-04"
            )
        ).one()
        assert (april.status, april.deducted, april.amount) == (
            SettlementStatus.paid,
            INSTITUTION_SHARE,
            april_net - INSTITUTION_SHARE,
        )
        assert [d["purchase_id"] for d in april.deductions] == [str(purchase.id)]
        april_commission = 2 * PRICE - april_net
        platform_april = session.scalars(
            select(Settlement).where(
                Settlement.organisation_id == market.platform.partner_id, Settlement.period == "2026-04"
            )
        ).one()
        assert (platform_april.status, platform_april.deducted, platform_april.amount) == (
            SettlementStatus.paid,
            PLATFORM_SHARE,
            april_commission - PLATFORM_SHARE,
        )
        paid = payments_sim.simulator.partners["bni"].payments.values()
        assert sorted((p.number, p.amount, p.times_paid) for p in paid) == sorted(
            [
                (INSTITUTION_NUMBER, market.net, 1),
                (PLATFORM_NUMBER, market.commission, 1),
                (INSTITUTION_NUMBER, april_net - INSTITUTION_SHARE, 1),
                (PLATFORM_NUMBER, april_commission - PLATFORM_SHARE, 1),
            ]
        )
        assert ledger.institution_receivable(session, market.institution.partner_id).balance == 0
        assert ledger.platform_receivable(session, market.platform.partner_id).balance == 0
        assert ledger.institution_payable(session, market.institution.partner_id).balance == 0
        assert ledger.platform_commission(session, market.platform.partner_id).balance == 0
        assert ledger.settled(session).balance == market.gross + 2 * PRICE - REFUND
        assert ledger.check(session).ok
        session.refresh(receivable)
        assert {(r.organisation_id, r.amount, r.recovered, r.status) for r in session.scalars(select(Receivable))} == {
            (market.institution.partner_id, INSTITUTION_SHARE, INSTITUTION_SHARE, ReceivableStatus.recovered),
            (market.platform.partner_id, PLATFORM_SHARE, PLATFORM_SHARE, ReceivableStatus.recovered),
        }
        view = settlements.settlement_of_period(session, market.institution.partner_id, "2026-04")
        assert view is not None and view.payable == april_net and view.deducted == INSTITUTION_SHARE
        assert view.deductions[0].reason[0].startswith("Pengembalian dana pembelian")
        assert view.deductions[0].reason[0].endswith("setelah penyelesaian 2026-03 dibayar: Pelatihan fiktif")

    def test_refused_claims_write_nothing(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market = verified_market(session, payments_sim)
        purchase = session.scalars(select(Purchase).order_by(Purchase.id)).first()
        assert purchase is not None
        with pytest.raises(SettlementNotPaid):  # March not paid yet: the payable still holds it
            receivables.refund_after_settlement(
                session, purchase_id=purchase.id, amount=REFUND, reason="x", actor=OFFICER
            )
        session.rollback()
        run = start(session)
        assert run is not None
        until_settled(factory, run.id)
        for amount in (0, PRICE + 1):
            with pytest.raises(RefundAmountInvalid):
                receivables.refund_after_settlement(
                    session, purchase_id=purchase.id, amount=amount, reason="x", actor=OFFICER
                )
            session.rollback()
        receivables.refund_after_settlement(session, purchase_id=purchase.id, amount=REFUND, reason="x", actor=OFFICER)
        session.commit()
        with pytest.raises(AlreadyClaimed):
            receivables.refund_after_settlement(
                session, purchase_id=purchase.id, amount=REFUND, reason="x", actor=OFFICER
            )
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Receivable)) == 2  # the institution's, the platform's
        assert ledger.institution_receivable(session, market.institution.partner_id).balance == INSTITUTION_SHARE
        assert ledger.platform_receivable(session, market.platform.partner_id).balance == PLATFORM_SHARE


def test_the_deduction_takes_the_oldest_first_and_never_more_than_owed_or_available() -> None:
    a, b = new_id(), new_id()
    assert rules.deduction_plan([(a, 300), (b, 500)], 600) == [(a, 300), (b, 300)]
    assert rules.deduction_plan([(a, 300), (b, 500)], 10_000) == [(a, 300), (b, 500)]
    assert rules.deduction_plan([(a, 300)], 0) == []


@given(
    gross=st.integers(min_value=1, max_value=50_000_000),
    bps=st.integers(min_value=0, max_value=5_000),
    data=st.data(),
)
def test_refund_shares_add_up_and_never_take_back_more_than_each_was_paid(
    gross: int, bps: int, data: st.DataObject
) -> None:
    commission = gross * bps // 10_000
    amount = data.draw(st.integers(min_value=1, max_value=gross))
    institution, platform = rules.refund_shares(amount, gross=gross, commission=commission)
    assert institution + platform == amount
    assert 0 <= platform <= commission and 0 <= institution <= gross - commission
    assert rules.refund_shares(gross, gross=gross, commission=commission) == (gross - commission, commission)


def test_officers_claim_back_on_the_page_and_the_institution_sees_it_and_the_deduction(
    client: TestClient,
    session: Session,
    factory: sessionmaker[Session],  # noqa: F811
    frozen_clock: object,
    payments_sim: PaymentsSim,
) -> None:
    market, purchase = march_paid(session, factory, payments_sim)
    create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin PMO")
    assert login(client, "admin@pmo.example").status_code == 303
    page = "/pmo/pembayaran/penyelesaian"
    bad = client.post(
        page + "/tagihan",
        data={"purchase_id": "bukan-id", "amount": "1000", "reason": "x", "csrf_token": csrf(client, page)},
    )
    assert bad.status_code == 404 and "Pembelian ini tidak ditemukan" in bad.text
    done = client.post(
        page + "/tagihan",
        data={
            "purchase_id": str(purchase.id),
            "amount": str(REFUND),
            "reason": "Pelatihan fiktif",
            "csrf_token": csrf(client, page),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    officer_view = client.get(page).text
    assert 'data-testid="receivable"' in officer_view and "Pelatihan fiktif" in officer_view
    # the page's title is words only, and the claim form and the list are on the page once (they were also pasted
    # into the title block: the browser's tab showed raw HTML and the form came twice)
    title = officer_view.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and title.startswith("Pembayaran lembaga")
    assert officer_view.count('data-testid="clawback-form"') == 1
    assert officer_view.count('data-testid="receivable"') == 2  # the institution's share, the platform's
    assert officer_view.count("Pelatihan fiktif") == 2
    assert ledger.institution_receivable(session, market.institution.partner_id).balance == INSTITUTION_SHARE
    april_net = april_owed(session, market)
    settlements.start_run(session, period="2026-04", run_date=date(2026, 5, 1), actor=OFFICER)
    session.commit()
    client.post("/keluar", data={"csrf_token": csrf(client, "/")})
    client.cookies.clear()
    member(session, market.institution, "staf@lembaga.example", Role.institution)
    assert login(client, "staf@lembaga.example").status_code == 303
    mine = client.get("/portal/lembaga/pembayaran").text
    assert "Tagihan pengembalian dana" in mine and "Pelatihan fiktif" in mine
    assert 'data-testid="deduction"' in mine and "Pengembalian dana pembelian" in mine
    assert f"Rp{april_net - INSTITUTION_SHARE:,}".replace(",", ".") in mine
    statement = client.get("/portal/lembaga/penyelesaian/2026-04").text
    assert 'data-testid="deduction"' in statement
    english = client.get("/portal/lembaga/pembayaran?lang=en").text
    assert "Refunds owed back" in english and "Refund of purchase" in english
    client.post("/keluar", data={"csrf_token": csrf(client, "/")})
    client.cookies.clear()
    member(session, market.platform, "staf@platform.example", Role.platform)
    assert login(client, "staf@platform.example").status_code == 303
    theirs = client.get("/portal/platform/pembayaran").text
    assert "Tagihan pengembalian dana" in theirs and "Pelatihan fiktif" in theirs
    assert f"Rp{PLATFORM_SHARE:,}".replace(",", ".") in theirs

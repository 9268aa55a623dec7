"""``prakerja payouts run`` and the year-end job: outcomes at the simulator, on the ledger and in the states."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.cli import app
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.payouts.models import Entitlement, EntitlementStatus, PayoutRun, RunStatus
from prakerja.payouts.service import runs
from tests.payouts.conftest import PaymentsSim
from tests.payouts.run_factories import AMOUNT, DUE, create_participant, create_provider, fund_cash_budget
from tests.payouts.test_run_paying import participants


def test_the_run_command_sends_the_days_run_and_a_second_call_pays_nothing_more(
    session: Session, payments_sim: PaymentsSim
) -> None:
    participants(session, payments_sim, {"bni": 2, "ovo": 1})
    first = CliRunner().invoke(app, ["payouts", "run", "--date", DUE.isoformat()])
    assert first.exit_code == 0, first.output
    assert "bni" in first.output and "ovo" in first.output
    again = CliRunner().invoke(app, ["payouts", "run", "--date", DUE.isoformat()])
    assert again.exit_code == 0, again.output
    assert session.scalars(select(PayoutRun.status)).all() in (
        [RunStatus.sending],
        [RunStatus.awaiting_results],
        [RunStatus.completed],
    )
    paid = [p.times_paid for partner in payments_sim.simulator.partners.values() for p in partner.payments.values()]
    assert len(paid) == 3 and max(paid) <= 1


def test_the_run_command_refuses_a_bad_date(session: Session) -> None:
    result = CliRunner().invoke(app, ["payouts", "run", "--date", "kemarin"])
    assert result.exit_code == 2
    assert session.scalars(select(PayoutRun)).all() == []


def test_unclaimed_money_of_a_past_year_returns_to_the_treasury(session: Session, payments_sim: PaymentsSim) -> None:
    from prakerja.payouts.models import ProviderKind

    fund_cash_budget(session, amount=3 * AMOUNT)
    provider = create_provider(
        session, code="bni", base_url=payments_sim.base("bni"), secret="whsec_AAAA", kind=ProviderKind.bank
    )
    waiting = create_participant(session, provider)
    treasury_before = ledger.treasury(session, LedgerCode.cash).balance
    session.commit()
    assert runs.expire_unclaimed(session, now=datetime(2026, 12, 31, 12, tzinfo=UTC)) == 0  # still 2026 in Jakarta
    done = runs.expire_unclaimed(session, now=datetime(2026, 12, 31, 18, tzinfo=UTC))  # 1 January 2027 in Jakarta
    assert done == 1
    session.commit()
    entitlement = session.get(Entitlement, waiting.entitlement_id)
    assert entitlement is not None and entitlement.status is EntitlementStatus.expired
    assert ledger.incentive_payable(session, waiting.participant_id, scheme="2023-normal", year=2026).balance == 0
    assert ledger.treasury(session, LedgerCode.cash).balance == treasury_before + AMOUNT
    assert runs.expire_unclaimed(session, now=datetime(2027, 1, 2, tzinfo=UTC)) == 0
    assert ledger.check(session).ok

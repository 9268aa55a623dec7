"""Provider settlement (ADR 0016) against the payment simulator over HTTP: institutions' and platforms' payables
from accepted completions prepared per month, paid once by the same run machinery as incentives (API and pain.001),
the ledger balanced, the statement named as remittance information; held back with a reason when no verified
account exists; nothing created for a month with nothing owed; running the same month twice pays nothing twice."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.cli import app
from prakerja.kit.clock import clock
from prakerja.kit.ids import new_id
from prakerja.ledger import service as ledger
from prakerja.payouts.errors import PeriodInvalid, PeriodNotOver
from prakerja.payouts.models import (
    Channel,
    InstructionStatus,
    PayoutBatch,
    PayoutInstruction,
    PayoutRun,
    RunKind,
    Settlement,
    SettlementAccountStatus,
    SettlementStatus,
    StatementFormat,
)
from prakerja.payouts.service import reconciliation, runs, settlements
from prakerja.payouts.tasks import monthly_settlement, settlement_again
from prakerja.training import service as training
from prakerja.training.models import Purchase
from tests.payouts.conftest import PaymentsSim
from tests.payouts.settle_factories import (
    INSTITUTION_NUMBER,
    PERIOD,
    PLATFORM_NUMBER,
    Marketplace,
    accepted_completions,
    after_march,
    open_bank_account,
    record_confirmed,
)
from tests.payouts.test_run_paying import NOW, factory, paid_at_sim, provider_at, until_settled  # noqa: F401

OFFICER = Actor(id=None, role="pmo_admin")
RUN_DAY = date(2026, 4, 1)


def record(session: Session, sim: PaymentsSim, market_partner_id: object, provider_id: object, number: str) -> object:
    """Record the account and enter the bank's OTP when the inquiry passed."""
    return record_confirmed(session, sim, organisation_id=market_partner_id, provider_id=provider_id, number=number)


def verified_market(session: Session, sim: PaymentsSim, channel: Channel = Channel.api) -> Marketplace:
    market = accepted_completions(session)
    after_march()
    bank = provider_at(session, sim, "bni", channel=channel)
    session.commit()
    open_bank_account(sim, number=INSTITUTION_NUMBER, holder_name="LEMBAGA PELATIHAN UJI")
    open_bank_account(sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
    record(session, sim, market.institution.partner_id, bank.id, INSTITUTION_NUMBER)
    record(session, sim, market.platform.partner_id, bank.id, PLATFORM_NUMBER)
    return market


def start(session: Session, run_day: date = RUN_DAY) -> PayoutRun | None:
    _prepared, run = settlements.start_run(session, period=PERIOD, run_date=run_day, actor=OFFICER)
    session.commit()
    return run


class TestSettlementRun:
    @pytest.mark.parametrize("channel", [Channel.api, Channel.file])
    def test_a_month_is_paid_once_equal_to_the_statements_and_the_ledger_balances(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
        channel: Channel,
    ) -> None:
        market = verified_market(session, payments_sim, channel)
        statements = {
            s.partner_id: s for s in training.settlement.owed(session, start=date(2026, 3, 1), end=date(2026, 3, 31))
        }
        assert statements[market.institution.partner_id].payable == market.net
        assert statements[market.platform.partner_id].payable == market.commission
        run = start(session)
        assert run is not None and run.kind is RunKind.settlement
        until_settled(factory, run.id)

        rows = {s.organisation_id: s for s in session.scalars(select(Settlement))}
        assert {k: (v.amount, v.status) for k, v in rows.items()} == {
            market.institution.partner_id: (market.net, SettlementStatus.paid),
            market.platform.partner_id: (market.commission, SettlementStatus.paid),
        }
        instructions = session.scalars(select(PayoutInstruction)).all()
        assert {i.status for i in instructions} == {InstructionStatus.succeeded}
        paid = payments_sim.simulator.partners["bni"].payments
        assert sorted((p.number, p.amount, p.times_paid) for p in paid.values()) == sorted(
            [(INSTITUTION_NUMBER, market.net, 1), (PLATFORM_NUMBER, market.commission, 1)]
        )
        for instruction in instructions:  # the partner was told which statement each payment settles
            settlement = rows[instruction.beneficiary_id]
            assert instruction.settlement_ref == settlement.statement_ref
            assert paid[instruction.end_to_end_id].remittance.endswith(f"{PERIOD} {settlement.statement_ref}")
        # the ledger: the payables are paid out, nothing is in flight, the books balance
        assert ledger.institution_payable(session, market.institution.partner_id).balance == 0
        assert ledger.platform_commission(session, market.platform.partner_id).balance == 0
        assert ledger.settled(session).balance == market.gross
        for instruction in instructions:
            assert ledger.settlement_in_flight(session, instruction.batch_id).balance == 0
        report = ledger.check(session)
        assert report.ok, report.problems

        # the bank's statement of the day (camt.053 for one channel, CSV for the other) reconciles with no difference
        fmt = StatementFormat.camt053 if channel is Channel.api else StatementFormat.csv
        ingested = reconciliation.fetch_and_ingest(
            session, provider_code="bni", day=clock.today_jakarta().date(), actor=OFFICER, fmt=fmt
        )
        session.commit()
        assert (ingested.open_differences, ingested.entries) == (0, 2)

        # the same month again, the same day and another day: nothing new, nothing paid twice
        assert start(session) is not None
        assert start(session, date(2026, 4, 2)) is None
        assert session.scalar(select(func.count()).select_from(Settlement)) == 2
        assert session.scalar(select(func.count()).select_from(PayoutInstruction)) == 2
        assert set(paid_at_sim(payments_sim).values()) == {1}


class TestHeldBack:
    def test_without_a_verified_account_nothing_is_sent_until_one_is_verified(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market = accepted_completions(session)
        after_march()
        bank = provider_at(session, payments_sim, "bni")
        session.commit()
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="PT LAIN SEKALI")
        refused = record(session, payments_sim, market.institution.partner_id, bank.id, INSTITUTION_NUMBER)
        assert refused.status is SettlementAccountStatus.rejected  # type: ignore[attr-defined]
        assert start(session) is None  # nothing due: no run, nothing sent
        rows = {s.organisation_id: s for s in session.scalars(select(Settlement))}
        assert rows[market.institution.partner_id].status is SettlementStatus.blocked
        assert rows[market.institution.partner_id].blocked_reason == "settlement_account_rejected"
        assert rows[market.platform.partner_id].blocked_reason == "no_settlement_account"
        assert paid_at_sim(payments_sim) == {}
        assert session.scalar(select(func.count()).select_from(PayoutInstruction)) == 0
        view = settlements.of_organisation(session, market.platform.partner_id)
        assert view.settlements[0].reason is not None and view.settlements[0].reason[0].startswith("Belum ada")

        # the platform verifies its account: its settlement is scheduled and the next run pays it (only it)
        open_bank_account(payments_sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
        record(session, payments_sim, market.platform.partner_id, bank.id, PLATFORM_NUMBER)
        assert session.get(Settlement, rows[market.platform.partner_id].id).status is SettlementStatus.scheduled  # type: ignore[union-attr]
        run = start(session, date(2026, 4, 3))
        assert run is not None
        until_settled(factory, run.id)
        session.expire_all()
        assert session.get(Settlement, rows[market.platform.partner_id].id).status is SettlementStatus.paid  # type: ignore[union-attr]
        assert session.get(Settlement, rows[market.institution.partner_id].id).status is SettlementStatus.blocked  # type: ignore[union-attr]
        assert list(paid_at_sim(payments_sim).values()) == [1]
        assert ledger.institution_payable(session, market.institution.partner_id).balance == market.net
        assert ledger.check(session).ok

    def test_an_account_refused_at_payment_needs_the_organisations_action_and_the_money_is_owed_again(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market = verified_market(session, payments_sim)
        payments_sim.simulator.partners["bni"].customers[INSTITUTION_NUMBER].active = False  # closed after verifying
        run = start(session)
        assert run is not None
        until_settled(factory, run.id)
        session.expire_all()
        institution = session.scalars(
            select(Settlement).where(Settlement.organisation_id == market.institution.partner_id)
        ).one()
        assert institution.status is SettlementStatus.needs_action and institution.blocked_reason == "account_closed"
        assert settlements.of_organisation(session, market.institution.partner_id).account.status == "rejected"  # type: ignore[union-attr]
        assert ledger.institution_payable(session, market.institution.partner_id).balance == market.net
        assert ledger.settled(session).balance == market.commission
        assert ledger.check(session).ok


class TestNothingOwedAndBadPeriods:
    def test_a_month_with_nothing_owed_creates_nothing(
        self, session: Session, frozen_clock: object, payments_sim: PaymentsSim
    ) -> None:
        prepared, run = settlements.start_run(session, period="2026-02", run_date=RUN_DAY, actor=OFFICER)
        session.commit()
        assert (prepared.created, run) == (0, None)
        assert session.scalar(select(func.count()).select_from(Settlement)) == 0
        assert session.scalar(select(func.count()).select_from(PayoutRun)) == 0

    @pytest.mark.parametrize(
        ("period", "error"),
        [("2026-3", PeriodInvalid), ("maret", PeriodInvalid), ("2026-13", PeriodInvalid), ("2026-03", PeriodNotOver)],
    )
    def test_a_bad_or_running_period_is_refused_and_writes_nothing(
        self, session: Session, frozen_clock: object, period: str, error: type[Exception]
    ) -> None:
        with pytest.raises(error):
            settlements.prepare(session, period=period, actor=OFFICER)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Settlement)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payouts.settlements_prepared")
            )
            == 0
        )


class TestCommandAndJob:
    def test_the_command_pays_a_month_once_and_the_monthly_job_finds_nothing_more(
        self,
        session: Session,
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market = verified_market(session, payments_sim)
        first = CliRunner().invoke(
            app, ["payouts", "run", "--kind", "settlement", "--period", PERIOD, "--date", "2026-04-01"]
        )
        assert first.exit_code == 0, first.output
        assert "settlement 2026-03: 2 new (0 held back)" in first.output and "bni" in first.output
        again = CliRunner().invoke(
            app, ["payouts", "run", "--kind", "settlement", "--period", PERIOD, "--date", "2026-04-02"]
        )
        assert again.exit_code == 0, again.output
        assert "0 new" in again.output and "2 already prepared" in again.output
        assert monthly_settlement() == 0  # the month before today (real clock): nothing owed, nothing created
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 2 and set(paid.values()) == {1}
        assert session.scalar(select(func.count()).select_from(Settlement)) == 2
        assert {r.kind for r in session.scalars(select(PayoutRun))} == {RunKind.settlement}
        session.expire_all()
        owed = {s.organisation_id: s.amount for s in session.scalars(select(Settlement))}
        assert owed == {market.institution.partner_id: market.net, market.platform.partner_id: market.commission}

    @pytest.mark.parametrize(
        "arguments",
        [
            ["--kind", "settlement", "--period", "2026/03"],
            ["--kind", "settlement", "--period", "2099-01"],
            ["--period", "2026-03"],
        ],
    )
    def test_the_command_refuses_a_bad_period(self, session: Session, arguments: list[str]) -> None:
        result = CliRunner().invoke(app, ["payouts", "run", *arguments])
        assert result.exit_code == 2, result.output
        assert session.scalar(select(func.count()).select_from(Settlement)) == 0
        assert session.scalar(select(func.count()).select_from(PayoutRun)) == 0


class TestExactlyOnce:
    def test_two_workers_preparing_and_paying_the_same_month_pay_nothing_twice(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        verified_market(session, payments_sim)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                with factory() as own:
                    _prepared, run = settlements.start_run(own, period=PERIOD, run_date=RUN_DAY, actor=OFFICER)
                    own.commit()
                assert run is not None
                for _ in range(3):
                    runs.execute(factory, run.id, check_after=NOW)
            except BaseException as error:  # handed to the test's thread
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        run_ids = session.scalars(select(PayoutRun.id)).all()
        assert len(run_ids) == 1
        until_settled(factory, run_ids[0])
        assert session.scalar(select(func.count()).select_from(Settlement)) == 2
        assert session.scalar(select(func.count()).select_from(PayoutInstruction)) == 2
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 2 and set(paid.values()) == {1}
        assert ledger.check(session).ok

    @pytest.mark.parametrize("step", ["posted", "before_send", "after_send", "recorded"])
    def test_a_worker_killed_at_any_step_leaves_a_run_the_next_one_finishes_paying_once(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
        step: str,
    ) -> None:
        market = verified_market(session, payments_sim)
        run = start(session)
        assert run is not None

        class Killed(BaseException):
            pass

        def kill(at: str) -> None:
            if at == step:
                raise Killed(at)

        with pytest.raises(Killed):
            runs.execute(factory, run.id, checkpoint=kill, check_after=NOW)
        with factory() as s:  # the next worker comes after the backoff
            for instruction in s.scalars(select(PayoutInstruction)):
                instruction.next_check_at = None
            s.commit()
        until_settled(factory, run.id)
        session.expire_all()
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 2 and set(paid.values()) == {1}
        assert {s.status for s in session.scalars(select(Settlement))} == {SettlementStatus.paid}
        assert ledger.settled(session).balance == market.gross
        assert ledger.check(session).ok


class TestLedgerOwesLess:
    def test_a_settlement_the_ledger_cannot_cover_is_held_back_and_nothing_is_sent(
        self, session: Session, frozen_clock: object, payments_sim: PaymentsSim
    ) -> None:
        market = verified_market(session, payments_sim)
        purchase = session.scalars(select(Purchase)).first()
        assert purchase is not None
        ledger.refund_purchase(  # a correction after capture: the ledger now owes the institution less
            session,
            transfer_id=new_id(),
            participant_id=purchase.participant_id,
            institution_id=market.institution.partner_id,
            amount=1_000,
            purchase_ref=str(purchase.id),
            actor=OFFICER,
        )
        session.commit()
        prepared = settlements.prepare(session, period=PERIOD, actor=OFFICER)
        session.commit()
        assert (prepared.created, prepared.blocked) == (2, 1)
        held = session.scalars(
            select(Settlement).where(Settlement.organisation_id == market.institution.partner_id)
        ).one()
        assert (held.status, held.blocked_reason) == (SettlementStatus.blocked, "payable_short")
        run = start(session)
        assert run is not None
        assert session.scalars(select(PayoutInstruction.settlement_id)).all() == [
            s.id for s in session.scalars(select(Settlement).where(Settlement.status != SettlementStatus.blocked))
        ]


class TestRunAgainTheSameDay:
    """ADR 0026: an account verified after the day's settlement run is paid the same day by a further run (the
    command, the daily job), each settlement in one run only."""

    def _institution_refused_platform_paid(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        sim: PaymentsSim,
        run_day: date | None,
    ) -> tuple[Marketplace, object, PayoutRun]:
        market = accepted_completions(session)
        after_march()
        run_day = run_day or clock.today_jakarta().date()
        bank = provider_at(session, sim, "bni")
        session.commit()
        open_bank_account(sim, number=INSTITUTION_NUMBER, holder_name="PT LAIN SEKALI")
        open_bank_account(sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
        record(session, sim, market.institution.partner_id, bank.id, INSTITUTION_NUMBER)
        record(session, sim, market.platform.partner_id, bank.id, PLATFORM_NUMBER)
        first = start(session, run_day)
        assert first is not None and first.sequence == 1
        until_settled(factory, first.id)
        assert list(paid_at_sim(sim).values()) == [1]
        # the institution's account is fixed at the bank and recorded again after the day's run
        sim.simulator.partners["bni"].customers[INSTITUTION_NUMBER].holder_name = "LEMBAGA PELATIHAN UJI"
        record(session, sim, market.institution.partner_id, bank.id, INSTITUTION_NUMBER)
        return market, bank, first

    def test_the_command_pays_what_was_held_back_by_a_further_run_the_same_day_and_nothing_twice(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        market, _bank, first = self._institution_refused_platform_paid(session, factory, payments_sim, RUN_DAY)
        again = CliRunner().invoke(
            app, ["payouts", "run", "--kind", "settlement", "--period", PERIOD, "--date", RUN_DAY.isoformat()]
        )
        assert again.exit_code == 0, again.output
        assert "further settlement run 2 of 2026-04-01" in again.output
        session.expire_all()
        day_runs = session.scalars(select(PayoutRun).order_by(PayoutRun.sequence)).all()
        assert [(r.run_date, r.sequence) for r in day_runs] == [(RUN_DAY, 1), (RUN_DAY, 2)]
        with factory() as own:  # (the command sent it; its result is asked for now rather than in 30 minutes)
            own.execute(update(PayoutInstruction).values(next_check_at=None))
            own.commit()
        until_settled(factory, day_runs[1].id)
        session.expire_all()
        assert {s.status for s in session.scalars(select(Settlement))} == {SettlementStatus.paid}
        by_run = {i.run_id: (i.beneficiary_id, i.amount) for i in session.scalars(select(PayoutInstruction))}
        assert by_run == {
            first.id: (market.platform.partner_id, market.commission),
            day_runs[1].id: (market.institution.partner_id, market.net),
        }
        batches = {b.run_id: b.message_id for b in session.scalars(select(PayoutBatch))}
        assert batches == {first.id: "PKJ20260401SBNI", day_runs[1].id: "PKJ20260401S2-BNI"}
        # once more the same day: nothing due, no third run, nothing paid twice
        third = CliRunner().invoke(
            app, ["payouts", "run", "--kind", "settlement", "--period", PERIOD, "--date", RUN_DAY.isoformat()]
        )
        assert third.exit_code == 0, third.output
        assert session.scalar(select(func.count()).select_from(PayoutRun)) == 2
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 2 and set(paid.values()) == {1}
        assert ledger.institution_payable(session, market.institution.partner_id).balance == 0
        assert ledger.settled(session).balance == market.gross
        assert ledger.check(session).ok

    def test_the_daily_job_pays_it_the_same_day(
        self,
        session: Session,
        factory: sessionmaker[Session],  # noqa: F811
        frozen_clock: object,
        payments_sim: PaymentsSim,
    ) -> None:
        # today's run on the real clock (the simulated bank checks our timestamps); the job runs today too
        market, _bank, first = self._institution_refused_platform_paid(session, factory, payments_sim, None)
        today = clock.today_jakarta().date()
        assert first.run_date == today
        assert settlement_again() == 1
        session.expire_all()
        further = session.scalars(select(PayoutRun).where(PayoutRun.sequence == 2)).one()
        assert further.run_date == today
        with factory() as own:  # (the job sent it; its result is asked for now rather than in 30 minutes)
            own.execute(update(PayoutInstruction).values(next_check_at=None))
            own.commit()
        until_settled(factory, further.id)
        session.expire_all()
        assert {s.status for s in session.scalars(select(Settlement))} == {SettlementStatus.paid}
        assert settlement_again() == 0  # nothing due any more: nothing started
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 2 and set(paid.values()) == {1}
        assert ledger.institution_payable(session, market.institution.partner_id).balance == 0

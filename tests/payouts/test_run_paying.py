"""Payout runs against the payment simulator over HTTP: what the partner paid, the ledger, the states."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from prakerja.audit.service import Actor
from prakerja.ledger import service as ledger
from prakerja.notifications.models import Message
from prakerja.payouts.models import (
    AccountStatus,
    BatchStatus,
    Channel,
    Entitlement,
    EntitlementStatus,
    InstructionStatus,
    PayoutAccount,
    PayoutBatch,
    PayoutInstruction,
    PayoutProvider,
    PayoutRun,
    ProviderKind,
    RunKind,
    RunStatus,
)
from prakerja.payouts.service import runs
from prakerja.simulators.payments.state import Customer
from tests.payouts.conftest import PaymentsSim
from tests.payouts.run_factories import AMOUNT, DUE, Participant, create_participant, create_provider, fund_cash_budget

OFFICER = Actor(id=None, role="pmo_admin")
NOW = timedelta(0)


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=clean_db, expire_on_commit=False)


def provider_at(session: Session, sim: PaymentsSim, code: str, *, channel: Channel = Channel.api) -> PayoutProvider:
    kind = ProviderKind.ewallet if sim.simulator.partners[code].kind == "ewallet" else ProviderKind.bank
    return create_provider(
        session, code=code, base_url=sim.base(code), secret=sim.secrets[code], kind=kind, channel=channel
    )


def open_at_partner(sim: PaymentsSim, person: Participant, *, active: bool = True) -> None:
    partner = sim.simulator.partners[person.provider_code]
    partner.customers[person.number] = Customer(
        number=person.number, holder_name="PESERTA UJI", nik="3201000000000001", phone=person.number, active=active
    )


def participants(
    session: Session, sim: PaymentsSim, spec: dict[str, int], **provider_options: object
) -> list[Participant]:
    fund_cash_budget(session, amount=AMOUNT * (sum(spec.values()) + 5))
    made = []
    for code, count in spec.items():
        provider = provider_at(session, sim, code, **provider_options)  # type: ignore[arg-type]
        for _ in range(count):
            person = create_participant(session, provider)
            open_at_partner(sim, person)
            made.append(person)
    session.commit()
    return made


def start(factory: sessionmaker[Session]) -> uuid.UUID:
    with factory() as session:
        run = runs.start(session, kind=RunKind.incentives, run_date=DUE, actor=OFFICER)
        session.commit()
        return run.id


def until_settled(factory: sessionmaker[Session], run_id: uuid.UUID, **options: object) -> None:
    """Passes over the run (status queries for what has no result yet) until every instruction is final."""
    for _ in range(200):
        runs.execute(factory, run_id, check_after=NOW, **options)  # type: ignore[arg-type]
        with factory() as session:
            if session.get(PayoutRun, run_id).status is RunStatus.completed:  # type: ignore[union-attr]
                return
        time.sleep(0.05)
    raise AssertionError("the run never completed")


def paid_at_sim(sim: PaymentsSim) -> dict[str, int]:
    return {e2e: p.times_paid for partner in sim.simulator.partners.values() for e2e, p in partner.payments.items()}


def assert_ledger_settled(session: Session, run_id: uuid.UUID) -> None:
    report = ledger.check(session)
    assert report.ok, report.problems
    for batch in session.scalars(select(PayoutBatch).where(PayoutBatch.run_id == run_id)):
        assert ledger.payouts_in_flight(session, batch.id).balance == 0


class TestRunPaysOnce:
    def test_every_due_entitlement_is_paid_once_with_control_totals(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        people = participants(session, payments_sim, {"bni": 3, "ovo": 2})
        run_id = start(factory)
        until_settled(factory, run_id)

        batches = {b.message_id: b for b in session.scalars(select(PayoutBatch).where(PayoutBatch.run_id == run_id))}
        assert sorted((b.count, b.control_sum) for b in batches.values()) == [(2, 2 * AMOUNT), (3, 3 * AMOUNT)]
        assert all(b.status is BatchStatus.completed for b in batches.values())
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 5 and set(paid.values()) == {1}
        statuses = session.scalars(select(Entitlement.status)).all()
        assert statuses == [EntitlementStatus.paid] * 5
        assert ledger.disbursed(session).balance == 5 * AMOUNT
        assert_ledger_settled(session, run_id)
        assert {p.participant_id for p in people} == set(
            session.scalars(select(PayoutInstruction.beneficiary_id)).all()
        )

    def test_starting_the_same_day_again_changes_nothing(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"bni": 2})
        first = start(factory)
        until_settled(factory, first)
        assert start(factory) == first
        runs.execute(factory, first, check_after=NOW)
        assert session.scalar(select(func.count()).select_from(PayoutInstruction)) == 2
        assert set(paid_at_sim(payments_sim).values()) == {1}

    def test_results_by_callback(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim, live_server: str
    ) -> None:
        payments_sim.simulator.program_url = live_server
        participants(session, payments_sim, {"ovo": 3})
        run_id = start(factory)
        runs.execute(factory, run_id)  # sends; results come back by callback, no status query is due yet
        for _ in range(200):
            with factory() as s:
                open_ = s.scalar(
                    select(func.count())
                    .select_from(PayoutInstruction)
                    .where(PayoutInstruction.status.in_([InstructionStatus.ready, InstructionStatus.sent]))
                )
            if open_ == 0:
                break
            time.sleep(0.05)
        assert open_ == 0
        assert set(paid_at_sim(payments_sim).values()) == {1}
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        from prakerja.payouts.models import PayoutResult, ResultSource

        sources = set(session.scalars(select(PayoutResult.source).where(PayoutResult.applied)).all())
        assert sources == {ResultSource.callback}
        runs.execute(factory, run_id)
        assert session.get(PayoutRun, run_id).status is RunStatus.completed  # type: ignore[union-attr]

    def test_a_bank_that_takes_files_gets_a_pain001_and_answers_with_a_pain002(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"bni": 3}, channel=Channel.file)
        run_id = start(factory)
        until_settled(factory, run_id)
        batch = session.scalars(select(PayoutBatch)).one()
        files = payments_sim.simulator.partners["bni"].files
        assert list(files) == [batch.message_id] and len(files[batch.message_id]) == 3
        assert set(paid_at_sim(payments_sim).values()) == {1}
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        assert_ledger_settled(session, run_id)

    @pytest.mark.parametrize("reached_the_bank", [True, False], ids=["answer-lost", "upload-lost"])
    def test_a_file_whose_upload_answer_is_lost_goes_again_under_the_same_reference(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim, reached_the_bank: bool
    ) -> None:
        """The upload's answer never came back. If the bank took the file, the next pass asks for its pain.002
        first (ADR 0025) and applies it: nothing is sent again. If the file never reached the bank (no pain.002),
        it goes again under the same reference (ADR 0026), never a new one, so a bank that did take it after all
        answers from its first intake. Either way each is paid once. Before, it went again under a new reference
        and the bank parsed it a second time."""
        participants(session, payments_sim, {"bni": 3}, channel=Channel.file)
        run_id = start(factory)
        uploads: list[str] = []

        class AnswerLost(httpx.BaseTransport):
            def __init__(self) -> None:
                self.inner = httpx.HTTPTransport()

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                upload = request.method == "PUT" and "/files/pain.001/" in request.url.path
                if upload and not uploads and not reached_the_bank:  # the file is lost on the way there
                    uploads.append(request.url.path.rsplit("/", 1)[1])
                    raise httpx.ConnectTimeout("upload lost", request=request)
                answer = self.inner.handle_request(request)
                if upload:
                    uploads.append(request.url.path.rsplit("/", 1)[1])
                    if len(uploads) == 1:  # the bank took it; its answer is lost on the way back
                        answer.close()
                        raise httpx.ReadTimeout("answer lost", request=request)
                return answer

        with httpx.Client(transport=AnswerLost()) as lossy:
            first = runs.execute(factory, run_id, http=lossy, check_after=NOW)
            assert first.sent == 0 and first.errors
            with factory() as own:  # the next worker comes after the backoff
                own.execute(update(PayoutInstruction).values(next_check_at=None))
                own.commit()
            for _ in range(200):
                runs.execute(factory, run_id, http=lossy, check_after=NOW)
                with factory() as own:
                    if own.get(PayoutRun, run_id).status is RunStatus.completed:  # type: ignore[union-attr]
                        break
                time.sleep(0.05)
        batch = session.scalars(select(PayoutBatch)).one()
        assert uploads == [batch.message_id] * (1 if reached_the_bank else 2)
        files = payments_sim.simulator.partners["bni"].files
        assert list(files) == [batch.message_id] and len(files[batch.message_id]) == 3
        assert list(paid_at_sim(payments_sim).values()) == [1, 1, 1]
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        assert_ledger_settled(session, run_id)


class TestRefusals:
    def test_a_closed_account_needs_the_participants_action_and_the_money_returns_to_the_payable(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        good, closed = participants(session, payments_sim, {"bni": 2})
        open_at_partner(payments_sim, closed, active=False)
        run_id = start(factory)
        until_settled(factory, run_id)

        assert session.get(Entitlement, good.entitlement_id).status is EntitlementStatus.paid  # type: ignore[union-attr]
        refused = session.get(Entitlement, closed.entitlement_id)
        assert refused is not None and refused.status is EntitlementStatus.needs_action
        assert refused.blocked_reason == "account_closed"
        account = session.get(PayoutAccount, closed.payout_account_id)
        assert account is not None and account.status is AccountStatus.rejected
        payable = ledger.incentive_payable(session, closed.participant_id, scheme="2023-normal", year=2026)
        assert payable.balance == AMOUNT
        assert (
            session.scalar(select(func.count()).select_from(Message).where(Message.account_id == closed.account_id))
            == 1
        )
        assert (
            paid_at_sim(payments_sim)[
                session.scalars(
                    select(PayoutInstruction.end_to_end_id).where(
                        PayoutInstruction.entitlement_id == closed.entitlement_id
                    )
                ).one()
            ]
            == 0
        )
        assert_ledger_settled(session, run_id)

    def test_a_partner_error_is_retried_with_the_same_end_to_end_id(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"ovo": 3})
        payments_sim.simulator.partners["ovo"].faults["server_error"] = 1.0
        run_id = start(factory)
        summary = runs.execute(factory, run_id, check_after=NOW)
        assert summary.sent == 0 and summary.errors
        assert paid_at_sim(payments_sim) == {}
        payments_sim.simulator.partners["ovo"].faults["server_error"] = 0.0
        with factory() as s:  # the backoff has passed
            for instruction in s.scalars(select(PayoutInstruction)):
                instruction.next_check_at = None
            s.commit()
        until_settled(factory, run_id)
        ids = session.scalars(select(PayoutInstruction.end_to_end_id)).all()
        assert len(ids) == 3 and set(paid_at_sim(payments_sim)) == set(ids)
        assert set(session.scalars(select(PayoutInstruction.sends)).all()) == {2}


class TestTechnicalFailures:
    def test_a_technical_failure_is_sent_again_under_the_same_end_to_end_id_and_paid_once(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"ovo": 2})
        run_id = start(factory)
        runs.execute(factory, run_id, check_after=timedelta(hours=1))
        partner = payments_sim.simulator.partners["ovo"]
        for _ in range(200):  # the simulator decides each payment a moment after taking the batch
            if all(p.status != "received" for p in partner.payments.values()):
                break
            time.sleep(0.02)
        victim = next(iter(partner.payments.values()))
        victim.status, victim.reason, victim.times_paid = "failed", "insufficient_funds", 0  # the partner was short
        for _ in range(2):  # no callback came: the time to ask comes, then the backoff passes
            with factory() as s:
                for row in s.scalars(select(PayoutInstruction)):
                    row.next_check_at = None
                s.commit()
            runs.execute(factory, run_id, check_after=NOW)
        until_settled(factory, run_id)
        instruction = session.scalars(
            select(PayoutInstruction).where(PayoutInstruction.end_to_end_id == victim.end_to_end_id)
        ).one()
        assert instruction.status is InstructionStatus.succeeded and instruction.sends == 2
        assert set(paid_at_sim(payments_sim).values()) == {1}
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        assert_ledger_settled(session, run_id)


class Crash(Exception):
    pass


def crash_at(stage: str) -> Callable[[str], None]:
    def point(reached: str) -> None:
        if reached == stage:
            raise Crash(stage)

    return point


class TestRecovery:
    @pytest.mark.parametrize("stage", ["posted", "before_send", "after_send", "recorded"])
    def test_a_worker_that_dies_at_any_step_is_finished_by_the_next_without_paying_twice(
        self, stage: str, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"bni": 2, "ovo": 2})
        run_id = start(factory)
        with pytest.raises(Crash):
            runs.execute(factory, run_id, check_after=timedelta(hours=1), checkpoint=crash_at(stage))
        with factory() as s:  # the next worker comes after the backoff
            for instruction in s.scalars(select(PayoutInstruction)):
                instruction.next_check_at = None
            s.commit()
        until_settled(factory, run_id)
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 4 and set(paid.values()) == {1}
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        assert_ledger_settled(session, run_id)

    @pytest.mark.parametrize("stage", ["posted", "before_send", "after_send", "recorded"])
    def test_a_file_that_may_have_reached_the_bank_is_asked_for_before_it_is_sent_again(
        self, stage: str, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"bni": 3}, channel=Channel.file)
        run_id = start(factory)
        with pytest.raises(Crash):
            runs.execute(factory, run_id, check_after=timedelta(hours=1), checkpoint=crash_at(stage))
        with factory() as s:  # the next worker comes after the backoff
            for instruction in s.scalars(select(PayoutInstruction)):
                instruction.next_check_at = None
            s.commit()
        until_settled(factory, run_id)
        # the bank got one file: a worker killed after the upload leaves its successor the file's pain.002 to ask for
        assert len(payments_sim.simulator.partners["bni"].files) == 1
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 3 and set(paid.values()) == {1}
        assert session.scalars(select(Entitlement.status).distinct()).all() == [EntitlementStatus.paid]
        batch = session.scalars(select(PayoutBatch)).one()
        assert batch.status is BatchStatus.completed and batch.sent_at is not None
        assert_ledger_settled(session, run_id)

    def test_a_file_whose_status_report_cannot_be_asked_for_is_not_sent_again_meanwhile(
        self,
        session: Session,
        factory: sessionmaker[Session],
        payments_sim: PaymentsSim,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        participants(session, payments_sim, {"bni": 2}, channel=Channel.file)
        run_id = start(factory)
        with pytest.raises(Crash):
            runs.execute(factory, run_id, check_after=timedelta(hours=1), checkpoint=crash_at("after_send"))
        with factory() as s:
            for instruction in s.scalars(select(PayoutInstruction)):
                instruction.next_check_at = None
            s.commit()

        def unavailable(*args: object, **kwargs: object) -> bytes | None:
            raise runs.paying.PartnerUnavailable("timeout")

        with monkeypatch.context() as patched:
            patched.setattr(runs.paying, "fetch_pain002", unavailable)
            summary = runs.execute(factory, run_id, check_after=NOW)
        assert summary.sent == 0 and summary.errors
        with factory() as s:
            assert set(s.scalars(select(PayoutInstruction.sends))) == {1}
        until_settled(factory, run_id)
        assert len(payments_sim.simulator.partners["bni"].files) == 1
        assert set(paid_at_sim(payments_sim).values()) == {1}
        assert_ledger_settled(session, run_id)

    def test_two_workers_on_the_same_run_pay_nothing_twice(
        self, session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim
    ) -> None:
        participants(session, payments_sim, {"bni": 6, "ovo": 6})
        run_id = start(factory)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(5):
                    runs.execute(factory, run_id, check_after=NOW)
            except BaseException as error:  # handed to the test's thread
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        until_settled(factory, run_id)
        paid = paid_at_sim(payments_sim)
        assert len(paid) == 12 and set(paid.values()) == {1}
        assert_ledger_settled(session, run_id)

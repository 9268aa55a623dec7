"""Clawback: a repayment demand for what was paid (incentives paid and training spent, or a stated amount), due in
60 days, tracked by the ledger as a receivable; unpaid entitlements cancelled; repayments recorded once per
reference and never above what is owed; overdue after 60 days; every officer action audited with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.kit.clock import Clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.payouts import tasks
from prakerja.payouts.models import (
    Clawback,
    ClawbackRepayment,
    ClawbackStatus,
    Entitlement,
    EntitlementStatus,
)
from prakerja.payouts.service import accounts, clawbacks, entitlements
from tests.payouts.paylink_factories import (
    OFFICER,
    Market,
    Person,
    account_row,
    allocate_cash,
    count,
    make_person,
    market,
    train,
)

SEMI = "2020-semi-bansos"
REASON = "Tercatat sebagai ASN sejak sebelum pendaftaran (data BKN)."


@pytest.fixture
def where(session: Session) -> Market:
    return market(session)


@pytest.fixture
def paid_person(session: Session, frozen_clock: Clock, where: Market) -> Person:
    """Trained (500,000 spent), with four instalments scheduled, the first one paid."""
    allocate_cash(session, SEMI)
    person = make_person(session, scheme=SEMI)
    train(session, person, where, amount=500_000)
    provider = accounts.register_provider(
        session,
        name="Bank Uji",
        code="uji",
        kind="bank",
        channel="api",
        api_base_url="http://127.0.0.1:9/uji",
        actor=OFFICER,
    )
    session.commit()
    account_row(session, person, provider)
    entitlements.refresh(session, person.recipient_id)
    first = session.scalars(
        select(Entitlement).where(Entitlement.recipient_id == person.recipient_id, Entitlement.instalment == 1)
    ).one()
    first.status = EntitlementStatus.paid  # what the payout run records once the partner paid it
    session.commit()
    return person


def receivable(session: Session, clawback_id: object) -> int:
    session.rollback()
    return ledger.receivable(session, str(clawback_id)).balance


class TestOpen:
    def test_demand_for_what_was_paid_cancels_the_rest(self, session: Session, paid_person: Person) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        assert (demand.amount_due, demand.status) == (600_000 + 500_000, ClawbackStatus.open)
        assert demand.due_on == entitlements.today() + timedelta(days=60)
        assert receivable(session, demand.id) == 1_100_000
        statuses = sorted(
            r.status.value
            for r in session.scalars(select(Entitlement).where(Entitlement.recipient_id == paid_person.recipient_id))
        )
        assert statuses == ["cancelled", "cancelled", "cancelled", "paid"]
        payable = ledger.incentive_payable(
            session, paid_person.applicant_id, scheme=SEMI, year=entitlements.today().year
        )
        assert payable.balance == 600_000  # the three cancelled instalments went back to the cash budget
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.clawback_opened")).one()
        assert entry.reason == REASON
        assert entitlements.refresh(session, paid_person.recipient_id) == 0  # nothing new for a claimed-back person
        assert ledger.check(session).problems == []

    def test_a_stated_amount(self, session: Session, paid_person: Person) -> None:
        demand = clawbacks.open_clawback(
            session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER, amount=250_000
        )
        session.commit()
        assert demand.amount_due == 250_000
        assert receivable(session, demand.id) == 250_000

    @pytest.mark.parametrize(
        ("reason", "amount", "status", "code"),
        [
            ("singkat", None, 422, "reason_required"),
            (REASON, 0, 422, "amount_invalid"),
            (REASON, -5, 422, "amount_invalid"),
        ],
    )
    def test_refusals_write_nothing(
        self, session: Session, paid_person: Person, reason: str, amount: int | None, status: int, code: str
    ) -> None:
        with pytest.raises(DomainError) as refused:
            clawbacks.open_clawback(
                session, recipient_id=paid_person.recipient_id, reason=reason, actor=OFFICER, amount=amount
            )
        assert (refused.value.status_code, refused.value.code) == (status, code)
        session.rollback()
        assert count(session, Clawback) == 0
        assert count(session, Entitlement, status=EntitlementStatus.cancelled) == 0

    def test_one_open_demand_per_recipient(self, session: Session, paid_person: Person) -> None:
        clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        with pytest.raises(DomainError) as refused:
            clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        assert (refused.value.status_code, refused.value.code) == (409, "clawback_exists")
        session.rollback()
        assert count(session, Clawback) == 1

    def test_nothing_paid_needs_a_stated_amount(self, session: Session, frozen_clock: Clock) -> None:
        person = make_person(session)
        with pytest.raises(DomainError) as refused:
            clawbacks.open_clawback(session, recipient_id=person.recipient_id, reason=REASON, actor=OFFICER)
        assert (refused.value.status_code, refused.value.code) == (422, "nothing_to_claw_back")
        session.rollback()
        assert count(session, Clawback) == 0


class TestRepayments:
    def test_partial_then_full_repayment_closes_it_and_the_treasury_gets_it(
        self, session: Session, paid_person: Person
    ) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        treasury_before = ledger.treasury(session, LedgerCode.cash).balance
        clawbacks.record_repayment(session, clawback_id=demand.id, amount=100_000, reference="TRF-1", actor=OFFICER)
        session.commit()
        clawbacks.record_repayment(session, clawback_id=demand.id, amount=100_000, reference="TRF-1", actor=OFFICER)
        session.commit()  # the same reference again records nothing
        assert receivable(session, demand.id) == 1_000_000
        done = clawbacks.record_repayment(
            session, clawback_id=demand.id, amount=1_000_000, reference="TRF-2", actor=OFFICER
        )
        session.commit()
        assert (done.amount_repaid, done.status) == (1_100_000, ClawbackStatus.repaid)
        assert ledger.check(session).problems == []
        assert receivable(session, demand.id) == 0
        assert ledger.treasury(session, LedgerCode.cash).balance - treasury_before == 1_100_000
        assert count(session, ClawbackRepayment) == 2
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(demand.id))))
        assert actions.count("payouts.clawback_repayment_recorded") == 2

    @pytest.mark.parametrize(
        ("amount", "reference", "status", "code"),
        [
            (2_000_000, "TRF-9", 422, "repayment_too_large"),
            (0, "TRF-9", 422, "amount_invalid"),
            (100, "", 422, "reference_required"),
        ],
    )
    def test_refusals_write_nothing(
        self, session: Session, paid_person: Person, amount: int, reference: str, status: int, code: str
    ) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        with pytest.raises(DomainError) as refused:
            clawbacks.record_repayment(
                session, clawback_id=demand.id, amount=amount, reference=reference, actor=OFFICER
            )
        assert (refused.value.status_code, refused.value.code) == (status, code)
        session.rollback()
        assert count(session, ClawbackRepayment) == 0
        assert receivable(session, demand.id) == 1_100_000

    def test_a_reference_reused_with_another_amount_is_refused(self, session: Session, paid_person: Person) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        clawbacks.record_repayment(session, clawback_id=demand.id, amount=100_000, reference="TRF-1", actor=OFFICER)
        session.commit()
        with pytest.raises(DomainError) as refused:
            clawbacks.record_repayment(session, clawback_id=demand.id, amount=5, reference="TRF-1", actor=OFFICER)
        assert (refused.value.status_code, refused.value.code) == (409, "repayment_reference_taken")
        session.rollback()
        assert receivable(session, demand.id) == 1_000_000


class TestOverdue:
    def test_the_job_marks_it_overdue_after_sixty_days(
        self, session: Session, frozen_clock: Clock, paid_person: Person
    ) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        frozen_clock.advance(timedelta(days=60))
        assert tasks.mark_clawbacks_overdue() == 0
        frozen_clock.advance(timedelta(days=1))
        assert tasks.mark_clawbacks_overdue() == 1
        assert tasks.mark_clawbacks_overdue() == 0
        session.expire_all()
        assert session.get(Clawback, demand.id).status is ClawbackStatus.overdue  # type: ignore[union-attr]
        done = clawbacks.record_repayment(
            session, clawback_id=demand.id, amount=1_100_000, reference="LATE", actor=OFFICER
        )
        session.commit()
        assert done.status is ClawbackStatus.repaid


class TestWithdraw:
    WHY = "Keliru: data BKN tertukar dengan orang lain yang bernama sama."

    def test_a_demand_raised_in_error_is_withdrawn_and_what_it_cancelled_is_owed_again(
        self, session: Session, paid_person: Person
    ) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        clawbacks.record_repayment(session, clawback_id=demand.id, amount=100_000, reference="TRF-1", actor=OFFICER)
        session.commit()
        done = clawbacks.withdraw(session, clawback_id=demand.id, reason=self.WHY, actor=OFFICER)
        session.commit()
        assert (done.status, done.withdrawal_reason, done.amount_repaid) == (
            ClawbackStatus.withdrawn,
            self.WHY,
            100_000,
        )
        assert done.withdrawn_at is not None
        assert receivable(session, demand.id) == 0  # the 1,000,000 still owed is no longer claimed
        statuses = sorted(
            r.status.value
            for r in session.scalars(select(Entitlement).where(Entitlement.recipient_id == paid_person.recipient_id))
        )
        assert statuses == ["paid", "scheduled", "scheduled", "scheduled"]
        payable = ledger.incentive_payable(
            session, paid_person.applicant_id, scheme=SEMI, year=entitlements.today().year
        )
        assert payable.balance == 4 * 600_000  # the three instalments' payables are back (the first one is paid)
        assert ledger.check(session).problems == []
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.clawback_withdrawn")).one()
        assert (entry.reason, entry.data["released"], entry.data["entitlements_restored"]) == (self.WHY, 1_000_000, 3)

        again = clawbacks.withdraw(session, clawback_id=demand.id, reason=self.WHY, actor=OFFICER)
        session.commit()  # withdrawing again changes nothing
        assert again.status is ClawbackStatus.withdrawn and receivable(session, demand.id) == 0
        assert (
            payable.balance
            == ledger.incentive_payable(
                session, paid_person.applicant_id, scheme=SEMI, year=entitlements.today().year
            ).balance
        )
        with pytest.raises(DomainError) as closed:
            clawbacks.record_repayment(session, clawback_id=demand.id, amount=5, reference="TRF-9", actor=OFFICER)
        assert closed.value.code == "clawback_closed"

    def test_a_second_demand_after_a_withdrawal_cancels_the_restored_instalments_again(
        self, session: Session, paid_person: Person
    ) -> None:
        first = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        clawbacks.withdraw(session, clawback_id=first.id, reason=self.WHY, actor=OFFICER)
        session.commit()
        clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        payable = ledger.incentive_payable(
            session, paid_person.applicant_id, scheme=SEMI, year=entitlements.today().year
        )
        assert payable.balance == 600_000  # the restored payables went back to the budget again, once
        assert ledger.check(session).problems == []

    @pytest.mark.parametrize("reason", ["", "keliru"])
    def test_a_withdrawal_needs_its_reason_and_writes_nothing_without(
        self, session: Session, paid_person: Person, reason: str
    ) -> None:
        demand = clawbacks.open_clawback(session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER)
        session.commit()
        with pytest.raises(DomainError) as refused:
            clawbacks.withdraw(session, clawback_id=demand.id, reason=reason, actor=OFFICER)
        assert (refused.value.status_code, refused.value.code) == (422, "reason_required")
        session.rollback()
        assert session.get(Clawback, demand.id).status is ClawbackStatus.open  # type: ignore[union-attr]
        assert receivable(session, demand.id) == 1_100_000

    def test_a_repaid_demand_cannot_be_withdrawn(self, session: Session, paid_person: Person) -> None:
        demand = clawbacks.open_clawback(
            session, recipient_id=paid_person.recipient_id, reason=REASON, actor=OFFICER, amount=5_000
        )
        clawbacks.record_repayment(session, clawback_id=demand.id, amount=5_000, reference="TRF-1", actor=OFFICER)
        session.commit()
        with pytest.raises(DomainError) as refused:
            clawbacks.withdraw(session, clawback_id=demand.id, reason=self.WHY, actor=OFFICER)
        assert (refused.value.status_code, refused.value.code) == (409, "clawback_closed")

"""Reconciliation through its service, against the payment simulator over HTTP: a statement matched with the
instructions by end-to-end id, each kind of difference recorded once, differences a later statement or result
explains closed by the system, refusals (unknown partner, malformed or unsafe XML, bad control sums, a duplicate
file) with their code and nothing written, and an officer's resolution audited without touching money."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.kit.errors import DomainError
from prakerja.payouts.models import (
    Difference,
    DifferenceKind,
    InstructionStatus,
    PayoutInstruction,
    PayoutProvider,
    ProviderKind,
    Statement,
    StatementEntry,
    StatementFormat,
)
from prakerja.payouts.service import reconciliation
from tests.payouts.conftest import PaymentsSim
from tests.payouts.recon_factory import DAY, PAID_AT, counts, create_instruction, create_provider, pay_at_sim

OFFICER = Actor(id=None, role="pmo_officer")


@pytest.fixture
def bni(session: Session, payments_sim: PaymentsSim) -> PayoutProvider:
    provider = create_provider(
        session, code="bni", base_url=payments_sim.base("bni"), secret=payments_sim.secrets["bni"]
    )
    create_provider(
        session,
        code="ovo",
        kind=ProviderKind.ewallet,
        base_url=payments_sim.base("ovo"),
        secret=payments_sim.secrets["ovo"],
    )
    session.commit()
    return provider


def fetch(session: Session, code: str = "bni", **kwargs: object) -> reconciliation.IngestReport:
    report = reconciliation.fetch_and_ingest(session, provider_code=code, day=DAY, actor=OFFICER, **kwargs)  # type: ignore[arg-type]
    session.commit()
    return report


def differences(session: Session) -> set[tuple[str, DifferenceKind, int | None, int | None, bool]]:
    return {
        (d.end_to_end_id, d.kind, d.expected_amount, d.actual_amount, d.resolved_at is None)
        for d in session.scalars(select(Difference))
    }


def refused(session: Session, code: str, call: object) -> DomainError:
    before = counts(session)
    with pytest.raises(DomainError) as caught:
        call()  # type: ignore[operator]
    session.rollback()
    assert caught.value.code == code
    assert counts(session) == before, "a refused statement writes nothing"
    return caught.value


class TestMatching:
    def test_everything_paid_as_recorded_leaves_no_difference(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        sim = payments_sim.simulator.partners["bni"]
        for amount in (600_000, 600_000, 100_000):
            instruction = create_instruction(session, bni, amount=amount)
            pay_at_sim(sim, instruction.end_to_end_id, amount)
        session.commit()
        report = fetch(session)
        assert (report.statement_ref, report.entries, report.control_sum) == ("BNI-20260302", 3, 1_300_000)
        assert report.new_differences == {} and report.open_differences == 0
        statement = session.scalars(select(Statement)).one()
        assert (statement.format, statement.period_from, statement.period_to) == (StatementFormat.camt053, DAY, DAY)
        assert len(session.scalars(select(StatementEntry)).all()) == 3
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.statement_ingested")).one()
        assert entry.data["entries"] == 3 and entry.data["new_differences"] == {}

    def test_each_kind_of_difference_is_recorded_with_both_amounts(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        sim = payments_sim.simulator.partners["bni"]
        matched = create_instruction(session, bni)
        pay_at_sim(sim, matched.end_to_end_id, matched.amount)
        missing = create_instruction(session, bni)  # we recorded success; the partner never booked it
        short = create_instruction(session, bni)  # paid another amount
        pay_at_sim(sim, short.end_to_end_id, 500_000)
        twice = create_instruction(session, bni, amount=100_000)  # paid twice
        pay_at_sim(sim, twice.end_to_end_id, 100_000, times=2)
        failed = create_instruction(session, bni, status=InstructionStatus.failed)  # we recorded a failure
        pay_at_sim(sim, failed.end_to_end_id, failed.amount)
        pay_at_sim(sim, "PKJNOTOURS0000000000000000000", 750_000)  # no instruction at all
        reversed_ = create_instruction(session, bni)  # paid, then reversed the same day
        pay_at_sim(sim, reversed_.end_to_end_id, reversed_.amount).mark_reversed(PAID_AT + timedelta(hours=3))
        elsewhere = create_instruction(session, bni, settled_at=PAID_AT + timedelta(days=3))  # another day's
        session.commit()

        report = fetch(session)

        assert report.new_differences == {
            DifferenceKind.missing: 1,
            DifferenceKind.amount_mismatch: 2,
            DifferenceKind.extra: 2,
            DifferenceKind.reversal_after_success: 1,
        }
        assert differences(session) == {
            (missing.end_to_end_id, DifferenceKind.missing, 600_000, None, True),
            (short.end_to_end_id, DifferenceKind.amount_mismatch, 600_000, 500_000, True),
            (twice.end_to_end_id, DifferenceKind.amount_mismatch, 100_000, 200_000, True),
            (failed.end_to_end_id, DifferenceKind.extra, 600_000, 600_000, True),
            ("PKJNOTOURS0000000000000000000", DifferenceKind.extra, None, 750_000, True),
            (reversed_.end_to_end_id, DifferenceKind.reversal_after_success, 600_000, 600_000, True),
        }
        assert elsewhere.end_to_end_id not in {d[0] for d in differences(session)}
        assert report.open_differences == 6

    def test_another_partners_instruction_on_this_statement_is_extra(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        ovo = session.scalars(select(PayoutProvider).where(PayoutProvider.code == "ovo")).one()
        theirs = create_instruction(session, ovo)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], theirs.end_to_end_id, theirs.amount)
        fetch(session)
        assert differences(session) == {(theirs.end_to_end_id, DifferenceKind.extra, None, 600_000, True)}

    def test_a_csv_statement_reconciles_the_same_way(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        sim = payments_sim.simulator.partners["bni"]
        paid = create_instruction(session, bni)
        pay_at_sim(sim, paid.end_to_end_id, 400_000)
        session.commit()
        report = fetch(session, fmt=StatementFormat.csv)
        assert report.new_differences == {DifferenceKind.amount_mismatch: 1}
        assert session.scalars(select(Statement)).one().format == StatementFormat.csv


class TestExplainedLater:
    def test_a_payment_booked_the_next_day_closes_its_missing_difference(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        late = create_instruction(session, bni, settled_at=PAID_AT + timedelta(hours=13))  # 23:00 WIB
        session.commit()
        fetch(session)
        assert differences(session) == {(late.end_to_end_id, DifferenceKind.missing, 600_000, None, True)}
        pay_at_sim(payments_sim.simulator.partners["bni"], late.end_to_end_id, 600_000, at=PAID_AT + timedelta(days=1))
        report = reconciliation.fetch_and_ingest(
            session, provider_code="bni", day=DAY + timedelta(days=1), actor=OFFICER
        )
        session.commit()
        assert report.explained == 1 and report.open_differences == 0
        closed = session.scalars(select(Difference)).one()
        assert closed.resolved_by == "system" and "BNI-20260303" in (closed.resolution or "")

    def test_a_payment_whose_result_came_after_the_statement_closes_its_extra_difference(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        pending = create_instruction(session, bni, status=InstructionStatus.sent)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], pending.end_to_end_id, pending.amount)
        fetch(session)
        assert differences(session) == {(pending.end_to_end_id, DifferenceKind.extra, 600_000, 600_000, True)}
        pending.status = InstructionStatus.succeeded  # the callback arrives (the results service's job)
        pending.settled_at = PAID_AT
        session.commit()
        report = reconciliation.fetch_and_ingest(
            session, provider_code="bni", day=DAY + timedelta(days=1), actor=OFFICER
        )  # the next statement (empty) re-checks what is open
        session.commit()
        assert (report.explained, report.open_differences) == (1, 0)
        assert reconciliation.open_difference_count(session) == 0

    def test_a_recheck_without_a_statement_closes_what_is_explained(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        pending = create_instruction(session, bni, status=InstructionStatus.sent)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], pending.end_to_end_id, pending.amount)
        fetch(session)
        assert reconciliation.recheck(session, actor=OFFICER) == 0
        pending.status = InstructionStatus.succeeded
        session.commit()
        assert reconciliation.recheck(session, actor=OFFICER) == 1
        session.commit()
        assert reconciliation.open_difference_count(session) == 0


class TestRefusals:
    def test_unknown_provider(self, session: Session, bni: PayoutProvider) -> None:
        refused(
            session,
            "unknown_provider",
            lambda: reconciliation.ingest_statement(session, provider_code="bca", content=b"<x/>", actor=OFFICER),
        )

    @pytest.mark.parametrize(
        "content",
        [
            b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkToCstmrStmt>",
            b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'>&x;</Document>",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
            b"statement_id,booked_on\nBNI-1,2026-03-02\n",
            b"statement_id,booked_on,end_to_end_id,amount,direction,reversal\nBNI,2026-03-02,PKJ1,6.5,debit,false\n"
            b"#total,1,6\n",
        ],
        ids=["truncated", "not-camt053", "external-entity", "entity-expansion", "csv-header", "csv-amount"],
    )
    def test_malformed_or_unsafe_files(self, session: Session, bni: PayoutProvider, content: bytes) -> None:
        refused(
            session,
            "statement_malformed",
            lambda: reconciliation.ingest_statement(session, provider_code="bni", content=content, actor=OFFICER),
        )

    def test_bad_control_sums_from_the_partner(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        paid = create_instruction(session, bni)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], paid.end_to_end_id, paid.amount)
        httpx.post(f"{payments_sim.base('bni')}/sim/statements", json={"corrupt": True}).raise_for_status()
        for fmt in (StatementFormat.camt053, StatementFormat.csv):
            error = refused(
                session,
                "statement_control_mismatch",
                lambda fmt=fmt: reconciliation.fetch_and_ingest(  # type: ignore[misc]
                    session, provider_code="bni", day=DAY, actor=OFFICER, fmt=fmt
                ),
            )
            assert error.details["declared_sum"] == error.details["sum"] + 1

    def test_the_same_file_twice_or_the_same_statement_in_another_format(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        paid = create_instruction(session, bni)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], paid.end_to_end_id, paid.amount)
        fetch(session)
        refused(session, "statement_duplicate", lambda: fetch(session))
        refused(session, "statement_duplicate", lambda: fetch(session, fmt=StatementFormat.csv))

    def test_a_partner_that_does_not_hand_the_statement_over(self, session: Session, bni: PayoutProvider) -> None:
        bni.api_secret = "whsec_" + "B" * 44  # the partner refuses our signature
        session.commit()
        error = refused(session, "statement_unavailable", lambda: fetch(session))
        assert error.details["status"] == 401


class TestResolution:
    def test_an_officer_resolves_with_a_reason_audited_and_nothing_else_changes(
        self, session: Session, payments_sim: PaymentsSim, bni: PayoutProvider
    ) -> None:
        short = create_instruction(session, bni)
        session.commit()
        pay_at_sim(payments_sim.simulator.partners["bni"], short.end_to_end_id, 500_000)
        fetch(session)
        difference = session.scalars(select(Difference)).one()
        refused(
            session,
            "resolution_reason_missing",
            lambda: reconciliation.resolve_difference(session, difference_id=difference.id, reason="ok", actor=OFFICER),
        )
        reason = "Bank confirmed a fee of 100.000 was deducted; refund requested by letter 12/2026."
        reconciliation.resolve_difference(session, difference_id=difference.id, reason=reason, actor=OFFICER)
        session.commit()
        session.refresh(difference)
        assert difference.resolved_at is not None and difference.resolution == reason
        assert difference.resolved_by == "pmo_officer"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.difference_resolved")).one()
        assert entry.reason == reason and entry.object_id == str(difference.id)
        assert entry.data["kind"] == "amount_mismatch"
        instruction = session.get(PayoutInstruction, short.id)
        assert instruction is not None and (instruction.status, instruction.amount) == (
            InstructionStatus.succeeded,
            600_000,
        )
        refused(
            session,
            "difference_already_resolved",
            lambda: reconciliation.resolve_difference(
                session, difference_id=difference.id, reason=reason, actor=OFFICER
            ),
        )
        assert reconciliation.open_difference_count(session) == 0

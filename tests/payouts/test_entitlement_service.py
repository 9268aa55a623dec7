"""Entitlements from the scheme: the post-training incentive for the first training only, blocked with the exact
reason until the certificate, the rating, the written review and a linked account exist, then scheduled with the
ledger payable (idempotent); survey incentives capped at the scheme's count; ``needs_action`` back to scheduled
after a new link; the job over recent changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service as ledger
from prakerja.payouts import tasks
from prakerja.payouts.models import (
    AccountFailure,
    AccountStatus,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    PayoutProvider,
)
from prakerja.payouts.service import accounts, entitlements
from tests.payouts.conftest import PaymentsSim
from tests.payouts.paylink_factories import (
    SYSTEM,
    Market,
    Person,
    account_row,
    allocate_cash,
    count,
    last_otp,
    make_person,
    market,
    open_at_partner,
    register_providers,
    train,
)

SEMI = "2020-semi-bansos"
NORMAL = "2023-normal"


@pytest.fixture
def providers(session: Session, payments_sim: PaymentsSim) -> dict[str, PayoutProvider]:
    return register_providers(session, payments_sim)


@pytest.fixture
def where(session: Session) -> Market:
    return market(session)


def rows(session: Session, person: Person, kind: EntitlementKind = EntitlementKind.incentive) -> list[Entitlement]:
    session.expire_all()
    return list(
        session.scalars(
            select(Entitlement)
            .where(Entitlement.recipient_id == person.recipient_id, Entitlement.kind == kind)
            .order_by(Entitlement.instalment)
        )
    )


def payable(session: Session, person: Person, scheme: str, *, survey: bool = False) -> int:
    opener = ledger.survey_incentive_payable if survey else ledger.incentive_payable
    return opener(session, person.applicant_id, scheme=scheme, year=clock.today_jakarta().year).balance


def refresh(session: Session, person: Person) -> int:
    changed = entitlements.refresh(session, person.recipient_id)
    session.commit()
    return changed


class TestFirstTrainingIncentive:
    def test_semi_bansos_four_monthly_instalments_scheduled_once(
        self, session: Session, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        allocate_cash(session, SEMI)
        person = make_person(session, scheme=SEMI)
        first = train(session, person, where)
        account_row(session, person, providers["bni"])
        assert refresh(session, person) == 4
        found = rows(session, person)
        today = entitlements.today()
        assert [(r.instalment, r.amount, r.status, r.due_on) for r in found] == [
            (n, 600_000, EntitlementStatus.scheduled, today + timedelta(days=30 * (n - 1))) for n in range(1, 5)
        ]
        assert {r.source_ref for r in found} == {str(first)}
        assert payable(session, person, SEMI) == 2_400_000
        assert refresh(session, person) == 0  # a rerun moves nothing twice
        assert payable(session, person, SEMI) == 2_400_000
        assert len(rows(session, person)) == 4

    def test_normal_scheme_pays_once_and_never_for_a_second_training(
        self, session: Session, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        allocate_cash(session, NORMAL)
        person = make_person(session)
        first = train(session, person, where)
        train(session, person, where, decided_after=timedelta(days=40))
        account_row(session, person, providers["ovo"])
        refresh(session, person)
        found = rows(session, person)
        assert [(r.instalment, r.amount, r.status, r.source_ref) for r in found] == [
            (1, 600_000, EntitlementStatus.scheduled, str(first))
        ]
        assert payable(session, person, NORMAL) == 600_000

    def test_nothing_before_an_accepted_completion(
        self, session: Session, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        person = make_person(session)
        train(session, person, where, accepted=False)
        account_row(session, person, providers["bni"])
        assert refresh(session, person) == 0
        assert rows(session, person) == []
        assert entitlements.timeline(session, person.recipient_id).first_training_done is False


class TestBlockedReasons:
    @pytest.mark.parametrize(
        ("training", "account", "reason"),
        [
            ({"certificate": False}, "active", "no_certificate"),
            ({"stars": None}, "active", "no_rating"),
            ({"review": "   "}, "active", "no_review"),
            ({}, None, "no_account"),
            ({}, AccountFailure.nik_mismatch, "nik_mismatch"),
            ({}, AccountFailure.ewallet_not_kyc, "ewallet_not_kyc"),
            ({}, AccountFailure.account_inactive, "account_rejected"),
            ({}, AccountFailure.phone_mismatch, "account_rejected"),
        ],
    )
    def test_each_reason_blocks_every_instalment_and_nothing_is_payable(
        self,
        session: Session,
        providers: dict[str, PayoutProvider],
        where: Market,
        training: dict[str, object],
        account: object,
        reason: str,
    ) -> None:
        allocate_cash(session, SEMI)
        person = make_person(session, scheme=SEMI)
        train(session, person, where, **training)  # type: ignore[arg-type]
        if account == "active":
            account_row(session, person, providers["bni"])
        elif isinstance(account, AccountFailure):
            account_row(session, person, providers["ovo"], status=AccountStatus.rejected, failure=account)
        refresh(session, person)
        found = rows(session, person)
        assert [(r.status, r.blocked_reason, r.due_on) for r in found] == [
            (EntitlementStatus.blocked, reason, None)
        ] * 4
        assert payable(session, person, SEMI) == 0
        items = entitlements.timeline(session, person.recipient_id).items
        assert {i.reason for i in items} == {reason}

    def test_linking_after_the_review_schedules_it(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        allocate_cash(session, NORMAL)
        person = make_person(session)
        train(session, person, where)
        refresh(session, person)
        assert [r.blocked_reason for r in rows(session, person)] == ["no_account"]
        open_at_partner(payments_sim, "ovo", number=person.phone, holder_name="Siti", nik=person.nik)
        link = accounts.start_link(
            session, account_id=person.account_id, provider_id=providers["ovo"].id, number=person.phone, actor=SYSTEM
        )
        accounts.verify_link(
            session,
            account_id=person.account_id,
            link_id=link.id,
            otp=last_otp(payments_sim, "ovo", person.phone),
            actor=SYSTEM,
        )
        session.commit()
        assert [(r.status, r.due_on) for r in rows(session, person)] == [
            (EntitlementStatus.scheduled, entitlements.today())
        ]
        assert payable(session, person, NORMAL) == 600_000

    def test_no_budget_waits_and_the_job_schedules_it_when_the_budget_arrives(
        self, session: Session, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        person = make_person(session)
        train(session, person, where)
        account_row(session, person, providers["bni"])
        assert tasks.run_refresh() == 1  # the row is created, the ledger refuses: no cash budget yet
        assert [(r.status, r.blocked_reason) for r in rows(session, person)] == [
            (EntitlementStatus.blocked, "no_budget")
        ]
        allocate_cash(session, NORMAL)
        assert tasks.run_refresh() == 1
        assert [r.status for r in rows(session, person)] == [EntitlementStatus.scheduled]
        assert tasks.run_refresh() == 0

    def test_the_job_finds_a_completion_older_than_its_look_back_that_has_no_entitlement(
        self, session: Session, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        """A completion accepted (and rated, and an account linked) while the worker was down for longer than the
        job's one-day look-back: the job still creates and schedules its incentive, once."""
        allocate_cash(session, NORMAL)
        person = make_person(session)
        with clock.frozen(clock.now() - 3 * tasks.REFRESH_LOOKBACK):
            train(session, person, where)
            account_row(session, person, providers["bni"])
        assert rows(session, person) == []
        assert tasks.run_refresh() == 1
        assert [(r.status, r.due_on) for r in rows(session, person)] == [
            (EntitlementStatus.scheduled, entitlements.today())
        ]
        assert payable(session, person, NORMAL) == 600_000
        assert tasks.run_refresh() == 0  # idempotent: nothing created or scheduled twice
        assert len(rows(session, person)) == 1


class TestNeedsAction:
    def test_a_new_link_puts_it_back_on_the_schedule(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider], where: Market
    ) -> None:
        allocate_cash(session, NORMAL)
        person = make_person(session)
        train(session, person, where)
        old = account_row(session, person, providers["bni"])
        refresh(session, person)
        (row,) = rows(session, person)
        row.status = EntitlementStatus.needs_action  # what the payout run does after an account failure
        old.status, old.failure_reason = AccountStatus.rejected, AccountFailure.closed_after_link
        session.commit()
        (item,) = entitlements.timeline(session, person.recipient_id).items
        assert (item.status, item.reason) == ("needs_action", "fix_or_relink")
        open_at_partner(payments_sim, "bni", number="1212121212", holder_name="Siti", nik=person.nik, phone="0")
        link = accounts.start_link(
            session, account_id=person.account_id, provider_id=providers["bni"].id, number="1212121212", actor=SYSTEM
        )
        accounts.verify_link(
            session,
            account_id=person.account_id,
            link_id=link.id,
            otp=last_otp(payments_sim, "bni", "1212121212"),
            actor=SYSTEM,
        )
        session.commit()
        assert [r.status for r in rows(session, person)] == [EntitlementStatus.scheduled]
        assert payable(session, person, NORMAL) == 600_000  # the payable was never scheduled twice


class TestSurveyIncentives:
    def test_capped_at_the_schemes_count_and_idempotent_per_response(
        self, session: Session, providers: dict[str, PayoutProvider]
    ) -> None:
        allocate_cash(session, NORMAL)
        person = make_person(session)
        first = entitlements.grant_survey_incentive(session, person.recipient_id, "survey-1")
        session.commit()
        assert (first.status, first.blocked_reason, first.amount) == (EntitlementStatus.blocked, "no_account", 50_000)
        account_row(session, person, providers["bni"])
        refresh(session, person)
        second = entitlements.grant_survey_incentive(session, person.recipient_id, "survey-2")
        again = entitlements.grant_survey_incentive(session, person.recipient_id, "survey-2")
        session.commit()
        assert again.id == second.id
        found = rows(session, person, EntitlementKind.survey_incentive)
        assert [(r.instalment, r.status) for r in found] == [
            (1, EntitlementStatus.scheduled),
            (2, EntitlementStatus.scheduled),
        ]
        assert payable(session, person, NORMAL, survey=True) == 100_000
        with pytest.raises(DomainError) as refused:
            entitlements.grant_survey_incentive(session, person.recipient_id, "survey-3")
        assert (refused.value.status_code, refused.value.code) == (409, "survey_incentives_exhausted")
        session.rollback()
        assert count(session, Entitlement, kind=EntitlementKind.survey_incentive) == 2


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.sampled_from([SEMI, NORMAL]),
    trainings=st.integers(min_value=1, max_value=3),
    certificate=st.booleans(),
    stars=st.booleans(),
    review=st.booleans(),
    account=st.sampled_from(["active", "none", "nik_mismatch"]),
    refreshes=st.integers(min_value=1, max_value=3),
)
def test_never_more_than_count_never_a_second_training_and_amounts_add_up(
    session: Session,
    providers: dict[str, PayoutProvider],
    where: Market,
    scheme: str,
    trainings: int,
    certificate: bool,
    stars: bool,
    review: bool,
    account: str,
    refreshes: int,
) -> None:
    from prakerja.schemes.rules import load

    incentive = load(scheme).incentive
    allocate_cash(session, scheme)
    person = make_person(session, scheme=scheme)
    purchases = [
        train(
            session,
            person,
            where,
            certificate=certificate,
            stars=5 if stars else None,
            review="Bagus sekali." if review else "",
            decided_after=timedelta(days=10 * n),
        )
        for n in range(trainings)
    ]
    if account == "active":
        account_row(session, person, providers["bni"])
    elif account == "nik_mismatch":
        account_row(
            session, person, providers["bni"], status=AccountStatus.rejected, failure=AccountFailure.nik_mismatch
        )
    for _ in range(refreshes):
        refresh(session, person)
    found = rows(session, person)
    assert len(found) == incentive.count
    assert {r.source_ref for r in found} == {str(purchases[0])}
    assert sum(r.amount for r in found) == incentive.count * incentive.amount
    ready = certificate and stars and review and account == "active"
    assert {r.status for r in found} == {EntitlementStatus.scheduled if ready else EntitlementStatus.blocked}
    assert payable(session, person, scheme) == (incentive.count * incentive.amount if ready else 0)


def test_a_revoked_certificate_blocks_the_incentive(
    session: Session, providers: dict[str, PayoutProvider], where: Market
) -> None:
    """The incentive needs a certificate that stands: one revoked (e.g. found to be unearned) counts as none."""
    from prakerja.audit import service as audit
    from prakerja.certificates import service as certificates
    from prakerja.training.models import Completion

    allocate_cash(session, NORMAL)
    person = make_person(session)
    purchase = train(session, person, where)
    account_row(session, person, providers["bni"])
    completion = session.scalars(select(Completion).where(Completion.purchase_id == purchase)).one()
    assert completion.certificate_id is not None
    certificates.revoke(
        session, str(completion.certificate_id), reason="Kehadiran tidak terbukti", actor=audit.Actor.system()
    )
    session.commit()
    refresh(session, person)
    assert [(r.status, r.blocked_reason) for r in rows(session, person)] == [
        (EntitlementStatus.blocked, "no_certificate")
    ]
    assert payable(session, person, NORMAL) == 0

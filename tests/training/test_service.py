"""The marketplace's use cases through the service: the first-purchase deadline job (revoke and forfeit), the
code-expiry job, settlement statements equal to the ledger's totals, ratings, and the money property: whatever the
sequence of purchases, cancellations, confirmations and completions, the wallet, the reserves and the captures
add up to the initial balance."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode, LedgerTransfer, TransferCode
from prakerja.recipients.models import Recipient, RecipientStatus
from prakerja.training import service
from prakerja.training.errors import RatingInvalid, RatingNotAllowed
from prakerja.training.models import Purchase, PurchaseStatus
from prakerja.training.schemas import CompletionCreate, PurchaseCreate
from prakerja.training.tasks import run_deadline_revocations
from tests.training.conftest import (
    BALANCE,
    PRICE,
    Participant,
    Partner,
    available,
    last_otp,
    make_course,
    make_participant,
)

PLATFORM = Actor(id=None, role="partner:platform")
INSTITUTION = Actor(id=None, role="partner:institution")


def buy(session: Session, platform: Partner, participant: Participant, course: Course, account: str = "a") -> str:
    created = service.purchases.create(
        session,
        platform_id=platform.partner_id,
        data=PurchaseCreate(
            card_number=participant.card_number,
            course_id=str(course.id),
            platform_order_id="o",
            platform_account_id=account,
        ),
        actor=PLATFORM,
    )
    session.commit()
    return created.purchase_id


def confirm(session: Session, platform: Partner, participant: Participant, purchase_id: str) -> str:
    otp = last_otp(session, participant.account_id)
    out = service.purchases.confirm(
        session, purchase_id=purchase_id, platform_id=platform.partner_id, otp=otp, actor=PLATFORM
    )
    session.commit()
    return out.voucher_code


def complete_self_paced(session: Session, institution: Partner, course: Course, purchase_id: str, voucher: str) -> None:
    service.delivery.redeem_voucher(
        session, institution_id=institution.partner_id, voucher_code=voucher, actor=INSTITUTION
    )
    session.commit()
    clock.advance(timedelta(hours=course.hours))
    service.completions.report(
        session,
        institution_id=institution.partner_id,
        data=CompletionCreate(purchase_id=purchase_id, completed_at=clock.now(), score=80, passed=True),
        actor=INSTITUTION,
    )
    session.commit()


class TestDeadline:
    def test_the_job_revokes_and_forfeits_and_the_card_is_refused(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        course = make_course(session, institution, platform)
        idle = make_participant(session, deadline_days=15)
        buyer = make_participant(session, deadline_days=15)
        confirm(session, platform, buyer, buy(session, platform, buyer, course))
        clock.advance(timedelta(days=15, seconds=1))
        assert run_deadline_revocations() == 1
        assert run_deadline_revocations() == 0
        session.rollback()
        assert session.get(Recipient, idle.recipient_id).status is RecipientStatus.revoked  # type: ignore[union-attr]
        assert session.get(Recipient, buyer.recipient_id).status is RecipientStatus.active  # type: ignore[union-attr]
        assert available(session, idle) == 0
        forfeits = session.scalars(
            select(LedgerTransfer).where(LedgerTransfer.code == TransferCode.forfeit_revocation)
        ).all()
        assert [t.amount for t in forfeits] == [BALANCE]
        assert ledger.treasury(session, LedgerCode.training).credits_posted >= BALANCE
        for call in (service.purchases.inquiry,):
            try:
                call(session, card_number=idle.card_number)
            except DomainError as error:
                assert error.code == "card_revoked"
            else:
                raise AssertionError("a revoked card was accepted")

    def test_past_the_deadline_without_a_purchase_is_refused_before_the_job_runs(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        course = make_course(session, institution, platform)
        late = make_participant(session, deadline_days=1)
        clock.advance(timedelta(days=2))
        try:
            buy(session, platform, late, course)
        except DomainError as error:
            assert error.code == "card_revoked"
        else:
            raise AssertionError("bought past the deadline")

    def test_a_pending_purchase_is_released_before_forfeiting(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        course = make_course(session, institution, platform)
        late = make_participant(session, deadline_days=1)
        buy(session, platform, late, course)
        clock.advance(timedelta(days=1, seconds=1))
        assert run_deadline_revocations() == 1
        session.rollback()
        assert available(session, late) == 0
        wallet = ledger.wallet(session, late.applicant_id)
        assert wallet is not None and wallet.debits_pending == 0 and wallet.debits_posted == BALANCE


class TestOtpExpiry:
    def test_expired_codes_cancel_the_purchase(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        course = make_course(session, institution, platform)
        participant = make_participant(session)
        purchase_id = buy(session, platform, participant, course)
        assert service.purchases.expire_otps(session, now=clock.now()) == 0
        clock.advance(timedelta(minutes=5, seconds=1))
        assert service.purchases.expire_otps(session, now=clock.now()) == 1
        session.commit()
        assert service.purchases.expire_otps(session, now=clock.now()) == 0
        purchase = session.get(Purchase, purchase_id)
        assert purchase is not None and purchase.status is PurchaseStatus.cancelled
        assert available(session, participant) == BALANCE


class TestSettlementAndRatings:
    def test_statements_equal_the_ledger_and_ratings_update_the_catalogue(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        service.completions.set_commission(session, platform_id=platform.partner_id, bps=750, actor=Actor.system())
        course = make_course(session, institution, platform, format="self_paced", sessions=[], title="Mandiri")
        people = [make_participant(session) for _ in range(3)]
        for n, person in enumerate(people):
            purchase_id = buy(session, platform, person, course, account=f"akun-{n}")
            complete_self_paced(
                session, institution, course, purchase_id, confirm(session, platform, person, purchase_id)
            )
        day = clock.now().date()
        statement = service.settlement.statement(
            session, partner_id=institution.partner_id, start=day - timedelta(days=5), end=day
        )
        payable = ledger.institution_payable(session, institution.partner_id)
        commission = ledger.platform_commission(session, platform.partner_id)
        assert len(statement.lines) == 3 and statement.gross == 3 * PRICE == payable.credits_posted
        assert statement.net == payable.credits_posted - payable.debits_posted == payable.balance
        assert statement.commission == commission.credits_posted == 3 * (PRICE * 750 // 10_000)
        platform_statement = service.settlement.statement(
            session, partner_id=platform.partner_id, start=day - timedelta(days=5), end=day
        )
        assert platform_statement.payable == commission.credits_posted
        csv_text = service.settlement.to_csv(statement)
        assert csv_text.splitlines()[-1] == f"total,,,,{statement.gross},{statement.commission},{statement.net}"
        empty = service.settlement.statement(
            session, partner_id=institution.partner_id, start=date(2020, 1, 1), end=date(2020, 1, 31)
        )
        assert empty.lines == [] and empty.payable == 0

        first = session.scalars(select(Purchase).where(Purchase.account_id == people[0].account_id)).one()
        for bad in ((0, "Bagus sekali kursusnya"), (6, "Bagus sekali kursusnya"), (5, "ok")):
            try:
                service.ratings.rate(
                    session,
                    account_id=people[0].account_id,
                    purchase_id=first.id,
                    stars=bad[0],
                    review=bad[1],
                    actor=Actor.system(),
                )
            except RatingInvalid:
                session.rollback()
            else:
                raise AssertionError("a bad rating was taken")
        service.ratings.rate(
            session,
            account_id=people[0].account_id,
            purchase_id=first.id,
            stars=5,
            review="Materinya jelas dan praktis.",
            actor=Actor.system(),
        )
        session.commit()
        try:
            service.ratings.rate(
                session,
                account_id=people[0].account_id,
                purchase_id=first.id,
                stars=1,
                review="Sekali lagi ya",
                actor=Actor.system(),
            )
        except RatingNotAllowed:
            session.rollback()
        second = session.scalars(select(Purchase).where(Purchase.account_id == people[1].account_id)).one()
        service.ratings.rate(
            session,
            account_id=people[1].account_id,
            purchase_id=second.id,
            stars=4,
            review="Cukup bagus, contohnya banyak.",
            actor=Actor.system(),
        )
        session.commit()
        refreshed = catalog.get_course(session, course.id)
        session.refresh(refreshed)
        assert float(refreshed.rating_average) == 4.5 and refreshed.rating_count == 2  # type: ignore[arg-type]
        views = service.ratings.my_trainings(session, people[2].account_id)
        assert views[0].missing == ["rating", "review"] and views[0].certificate_id is not None
        assert service.ratings.my_trainings(session, people[0].account_id)[0].missing == []


OPERATIONS = st.lists(st.sampled_from(["buy", "confirm", "cancel", "complete", "wrong_otp"]), min_size=1, max_size=8)


class TestMoneyProperty:
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(operations=OPERATIONS)
    def test_wallet_reserves_and_captures_add_up(
        self,
        session: Session,
        frozen_clock: object,
        platform: Partner,
        institution: Partner,
        operations: list[str],
    ) -> None:
        course = getattr(self, "_course", None)
        if course is None or session.get(Course, course.id) is None:
            course = make_course(session, institution, platform, format="self_paced", sessions=[], title="Mandiri")
            self._course = course
        person = make_participant(session)
        payable_before = ledger.institution_payable(session, institution.partner_id).credits_posted
        current: str | None = None
        voucher: str | None = None
        for operation in operations:
            try:
                if operation == "buy":
                    current, voucher = buy(session, platform, person, course, account=str(person.account_id)), None
                elif operation == "confirm" and current:
                    voucher = confirm(session, platform, person, current)
                elif operation == "wrong_otp" and current:
                    service.purchases.count_wrong_otp(
                        session, purchase_id=current, platform_id=platform.partner_id, actor=PLATFORM
                    )
                    session.commit()
                elif operation == "cancel" and current:
                    service.purchases.cancel(
                        session, purchase_id=current, platform_id=platform.partner_id, reason="batal", actor=PLATFORM
                    )
                    session.commit()
                elif operation == "complete" and current and voucher:
                    complete_self_paced(session, institution, course, current, voucher)
            except DomainError:
                session.rollback()
        session.rollback()
        rows = session.scalars(select(Purchase).where(Purchase.participant_id == person.applicant_id)).all()
        reserved = sum(
            p.amount - p.refunded_amount
            for p in rows
            if p.status in (PurchaseStatus.otp_sent, PurchaseStatus.confirmed, PurchaseStatus.redeemed)
        )
        captured = sum(p.amount - p.refunded_amount for p in rows if p.status is PurchaseStatus.completed)
        wallet = ledger.wallet(session, person.applicant_id)
        assert wallet is not None
        assert wallet.debits_pending == reserved and wallet.debits_posted == captured
        assert wallet.available + reserved + captured == BALANCE
        assert ledger.institution_payable(session, institution.partner_id).credits_posted - payable_before == captured


class TestCommands:
    def test_cancel_session_and_commission_commands(
        self, session: Session, frozen_clock: object, platform: Partner, institution: Partner
    ) -> None:
        from typer.testing import CliRunner

        from prakerja.cli import app

        course = make_course(session, institution, platform)
        person = make_participant(session)
        confirm(session, platform, person, buy(session, platform, person, course))
        first = catalog.course_sessions(session, course.id)[0]
        runner = CliRunner()
        result = runner.invoke(app, ["training", "cancel-session", str(first.id), "--reason", "Hari libur nasional"])
        assert result.exit_code == 0, result.output
        assert available(session, person) == BALANCE - PRICE + PRICE // 5
        assert runner.invoke(app, ["training", "cancel-session", "nope", "--reason", "x"]).exit_code != 0
        result = runner.invoke(app, ["training", "commission", str(platform.partner_id), "500"])
        assert result.exit_code == 0, result.output
        assert runner.invoke(app, ["training", "commission", str(platform.partner_id), "9000"]).exit_code != 0

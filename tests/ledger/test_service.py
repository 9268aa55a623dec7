"""The ledger service on the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from prakerja.kit.clock import Clock
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode, TransferMode
from prakerja.ledger.schemas import TransferCreate
from tests.ledger.conftest import OFFICER, SCHEME, YEAR, Program, allocate, funded_wallet, plain_account


def snapshot(session: Session) -> tuple[Any, ...]:
    """Everything money: to prove a refused request wrote nothing."""
    transfers = session.execute(text("SELECT count(*) FROM ledger_transfers")).scalar_one()
    totals = session.execute(
        text(
            "SELECT coalesce(sum(debits_pending),0), coalesce(sum(debits_posted),0),"
            " coalesce(sum(credits_pending),0), coalesce(sum(credits_posted),0),"
            " string_agg(encode(head_hash, 'hex'), ',' ORDER BY id) FROM ledger_accounts"
        )
    ).one()
    return (transfers, *totals)


def authorise(session: Session, program: Program, amount: int = 1_000_000, minutes: int = 30) -> uuid.UUID:
    return service.authorise_purchase(
        session,
        transfer_id=new_id(),
        participant_id=program.participant,
        institution_id=program.institution,
        amount=amount,
        purchase_ref=f"purchase-{new_id()}",
        timeout=timedelta(minutes=minutes),
        actor=OFFICER,
    ).id


def wallet_of(session: Session, program: Program) -> tuple[int, int]:
    found = service.wallet(session, program.participant)
    assert found is not None
    return found.balance, found.available


class TestFund:
    def test_scheme_balance_by_default(self, session: Session, program: Program) -> None:
        assert wallet_of(session, program) == (3_500_000, 3_500_000)
        assert service.check(session).ok

    def test_budget_is_the_limit(self, session: Session) -> None:
        allocate(session, amount=5_000_000)
        funded_wallet(session)
        with pytest.raises(DomainError) as caught:
            funded_wallet(session)
        assert caught.value.code == "insufficient_funds"

    def test_retry_returns_the_original_and_moves_nothing(self, session: Session) -> None:
        allocate(session)
        participant, transfer_id = new_id(), new_id()
        kwargs: dict[str, Any] = {"participant_id": participant, "scheme": SCHEME, "year": YEAR, "actor": OFFICER}
        first = service.fund_wallet(session, transfer_id=transfer_id, **kwargs)
        second = service.fund_wallet(session, transfer_id=transfer_id, **kwargs)
        assert first == second
        wallet = service.wallet(session, participant)
        assert wallet is not None and wallet.balance == 3_500_000

    def test_same_id_different_fields_refused(self, session: Session) -> None:
        allocate(session)
        participant, transfer_id = new_id(), new_id()
        service.fund_wallet(
            session, transfer_id=transfer_id, participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER
        )
        with pytest.raises(DomainError) as caught:
            service.fund_wallet(
                session,
                transfer_id=transfer_id,
                participant_id=participant,
                scheme=SCHEME,
                year=YEAR,
                actor=OFFICER,
                amount=1,
            )
        assert caught.value.code == "transfer_exists_with_different_fields"

    def test_funding_is_audited(self, session: Session, program: Program) -> None:
        actions = (
            session.execute(
                text("SELECT e.action FROM audit_entries e JOIN audit_links l ON l.entry_id = e.id ORDER BY l.seq")
            )
            .scalars()
            .all()
        )
        assert actions == ["ledger.budget_allocated", "ledger.wallet_funded"]


class TestPurchase:
    def test_authorise_capture(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        assert wallet_of(session, program) == (3_500_000, 2_500_000)
        service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        assert wallet_of(session, program) == (2_500_000, 2_500_000)
        payable = service.institution_payable(session, program.institution)
        assert payable.balance == 1_000_000
        assert service.check(session).ok

    def test_partial_capture_returns_the_rest(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER, amount=400_000)
        assert wallet_of(session, program) == (3_100_000, 3_100_000)

    def test_capture_with_platform_commission_in_one_chain(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        platform = new_id()
        chain = service.capture_purchase(
            session, transfer_id=new_id(), pending_id=pending, actor=OFFICER, platform_id=platform, commission=100_000
        )
        assert [t.code for t in chain] == [TransferCode.purchase, TransferCode.commission]
        assert service.institution_payable(session, program.institution).balance == 900_000
        assert service.platform_commission(session, platform).balance == 100_000

    def test_void_returns_the_money(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER, reason="batal")
        assert wallet_of(session, program) == (3_500_000, 3_500_000)

    def test_refund_after_a_cancelled_session(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        service.refund_purchase(
            session,
            transfer_id=new_id(),
            participant_id=program.participant,
            institution_id=program.institution,
            amount=250_000,
            purchase_ref="p",
            actor=OFFICER,
            reason="sesi dibatalkan PMO",
        )
        assert wallet_of(session, program) == (2_750_000, 2_750_000)
        totals = service.program_totals(session, scheme=SCHEME, year=YEAR)
        assert (totals.committed, totals.spent, totals.refunded) == (3_500_000, 750_000, 250_000)

    def test_cannot_buy_more_than_the_balance(self, session: Session, program: Program) -> None:
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            authorise(session, program, amount=3_500_001)
        assert caught.value.code == "insufficient_funds"
        assert snapshot(session) == before


class TestPendingResolvedOnce:
    def test_post_twice_with_new_ids(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        with pytest.raises(DomainError) as caught:
            service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        assert caught.value.code == "pending_already_posted"

    @pytest.mark.parametrize("resolution", ["capture", "void"])
    def test_retried_resolution_returns_the_stored_transfer(
        self, session: Session, program: Program, resolution: str
    ) -> None:
        """The same id again (a retried capture or void) answers the first transfer and moves nothing."""
        pending = authorise(session, program)
        transfer_id = new_id()

        def resolve() -> Any:
            if resolution == "capture":
                return service.capture_purchase(session, transfer_id=transfer_id, pending_id=pending, actor=OFFICER)
            return service.void_purchase(session, transfer_id=transfer_id, pending_id=pending, actor=OFFICER)

        first = resolve()
        before = snapshot(session)
        again = resolve()
        assert again == first
        assert snapshot(session) == before
        assert wallet_of(session, program) == (
            (2_500_000, 2_500_000) if resolution == "capture" else (3_500_000, 3_500_000)
        )

    def test_posting_a_voided_transfer(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        assert caught.value.code == "pending_already_voided" and caught.value.status_code == 409
        assert snapshot(session) == before

    def test_unknown_pending(self, session: Session, program: Program) -> None:
        with pytest.raises(DomainError) as caught:
            service.void_purchase(session, transfer_id=new_id(), pending_id=new_id(), actor=OFFICER)
        assert caught.value.code == "pending_not_found"

    def test_database_refuses_a_second_resolution(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        session.commit()
        row = session.execute(text("SELECT * FROM ledger_transfers WHERE pending_id = :p"), {"p": pending}).one()
        with pytest.raises(DBAPIError):
            session.execute(
                text(
                    "INSERT INTO ledger_transfers (id, ledger, code, mode, debit_account_id, credit_account_id,"
                    " amount, pending_id, ref_type, ref_id, created_at, debit_prev_hash, credit_prev_hash, hash)"
                    " VALUES (gen_random_uuid(), 1, 'purchase', 'post_pending', :d, :c, 1, :p, '', '', now(),"
                    " :h, :h, :h)"
                ),
                {"d": row.debit_account_id, "c": row.credit_account_id, "p": pending, "h": b"\x00" * 32},
            )
        session.rollback()


class TestExpiry:
    def test_expired_pending_cannot_be_captured_and_the_job_voids_it(
        self, session: Session, program: Program, frozen_clock: Clock
    ) -> None:
        pending = authorise(session, program, minutes=30)
        session.commit()
        frozen_clock.advance(timedelta(minutes=31))
        with pytest.raises(DomainError) as caught:
            service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        assert caught.value.code == "pending_expired"
        assert service.expire_pending(session, now=frozen_clock.now()) == 1
        assert service.expire_pending(session, now=frozen_clock.now()) == 0
        assert wallet_of(session, program) == (3_500_000, 3_500_000)
        assert service.check(session).ok

    def test_not_expired_yet(self, session: Session, program: Program, frozen_clock: Clock) -> None:
        authorise(session, program, minutes=30)
        frozen_clock.advance(timedelta(minutes=29))
        assert service.expire_pending(session, now=frozen_clock.now()) == 0

    def test_year_end_expiry_forfeits_to_the_treasury_once(self, session: Session, frozen_clock: Clock) -> None:
        frozen_clock.freeze(datetime(2026, 6, 1, tzinfo=UTC))
        allocate(session)
        wallets = [funded_wallet(session) for _ in range(3)]
        program = Program(participant=uuid.UUID(wallets[0].owner_id), wallet=wallets[0], institution=new_id())
        pending = authorise(session, program, amount=500_000, minutes=60 * 24 * 365)
        session.commit()
        frozen_clock.freeze(datetime(2026, 12, 14, 16, 0, tzinfo=UTC))
        assert service.year_end_expiry(session, now=frozen_clock.now()) == 0
        frozen_clock.freeze(datetime(2026, 12, 14, 17, 5, tzinfo=UTC))
        assert service.year_end_expiry(session, now=frozen_clock.now()) == 3
        assert service.year_end_expiry(session, now=frozen_clock.now()) == 0
        assert wallet_of(session, program) == (500_000, 0)
        # the reservation comes back after expiry: the next run forfeits it too
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        assert service.year_end_expiry(session, now=frozen_clock.now()) == 1
        assert wallet_of(session, program) == (0, 0)
        totals = service.program_totals(session, scheme=SCHEME, year=YEAR)
        assert totals.forfeited == 3 * 3_500_000
        assert service.check(session).ok


class TestForfeit:
    def test_revocation(self, session: Session, program: Program) -> None:
        transfer_id = new_id()
        first = service.forfeit_wallet(
            session, transfer_id=transfer_id, participant_id=program.participant, actor=OFFICER, reason="dicabut"
        )
        assert first is not None and first.amount == 3_500_000 and first.code == TransferCode.forfeit_revocation
        again = service.forfeit_wallet(
            session, transfer_id=transfer_id, participant_id=program.participant, actor=OFFICER, reason="dicabut"
        )
        assert again == first
        assert wallet_of(session, program) == (0, 0)
        treasury = service.treasury(session, LedgerCode.training)
        assert treasury.balance == -100_000_000 + 3_500_000

    def test_nothing_left(self, session: Session, program: Program) -> None:
        service.forfeit_wallet(session, transfer_id=new_id(), participant_id=program.participant, actor=OFFICER)
        assert (
            service.forfeit_wallet(session, transfer_id=new_id(), participant_id=program.participant, actor=OFFICER)
            is None
        )


class TestBadInput:
    @pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
    def test_amounts(self, session: Session, program: Program, amount: object) -> None:
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.fund_wallet(
                session,
                transfer_id=new_id(),
                participant_id=new_id(),
                scheme=SCHEME,
                year=YEAR,
                actor=OFFICER,
                amount=amount if amount is not None else 0,
            )
        assert caught.value.code == "amount_invalid"
        assert snapshot(session) == before

    def _transfer(self, session: Session, **fields: Any) -> None:
        spec = {"id": new_id(), "amount": 1, "code": TransferCode.adjustment, **fields}
        service.create_transfers(session, [TransferCreate(**spec)])

    def test_unknown_account(self, session: Session, program: Program) -> None:
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            self._transfer(session, debit_account_id=program.wallet.id, credit_account_id=new_id())
        assert caught.value.code == "account_not_found" and caught.value.status_code == 404
        assert snapshot(session) == before

    def test_closed_account(self, session: Session, program: Program) -> None:
        other = plain_account(session)
        service.close_account(session, other.id, actor=OFFICER, reason="tutup")
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            self._transfer(session, debit_account_id=program.wallet.id, credit_account_id=other.id)
        assert caught.value.code == "account_closed"
        assert snapshot(session) == before

    def test_different_ledgers(self, session: Session, program: Program) -> None:
        cash = plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable)
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            self._transfer(session, debit_account_id=program.wallet.id, credit_account_id=cash.id)
        assert caught.value.code == "ledger_mismatch"
        assert snapshot(session) == before

    def test_same_account(self, session: Session, program: Program) -> None:
        with pytest.raises(DomainError) as caught:
            self._transfer(session, debit_account_id=program.wallet.id, credit_account_id=program.wallet.id)
        assert caught.value.code == "same_account"

    def test_linked_chain_is_all_or_nothing(self, session: Session, program: Program) -> None:
        other = plain_account(session)
        before = snapshot(session)
        chain = [
            TransferCreate(
                id=new_id(),
                debit_account_id=program.wallet.id,
                credit_account_id=other.id,
                amount=3_000_000,
                code=TransferCode.adjustment,
            ),
            TransferCreate(
                id=new_id(),
                debit_account_id=program.wallet.id,
                credit_account_id=other.id,
                amount=600_000,
                code=TransferCode.adjustment,
            ),
        ]
        with pytest.raises(DomainError) as caught:
            service.create_transfers(session, chain)
        assert caught.value.code == "linked_event_failed"
        assert caught.value.details["index"] == 1 and caught.value.details["cause"] == "insufficient_funds"
        assert snapshot(session) == before

    def test_database_check_is_the_last_word(self, session: Session, program: Program) -> None:
        session.commit()
        with pytest.raises(DBAPIError) as caught:
            session.execute(
                text("UPDATE ledger_accounts SET debits_posted = credits_posted + 1 WHERE id = :id"),
                {"id": program.wallet.id},
            )
        assert "ck_ledger_accounts_debits_within_credits" in str(caught.value)
        session.rollback()


class TestAppendOnly:
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE ledger_transfers SET amount = 1",
            "DELETE FROM ledger_transfers",
            "TRUNCATE ledger_transfers CASCADE",
            "DELETE FROM ledger_accounts",
        ],
    )
    def test_refused(self, session: Session, program: Program, sql: str) -> None:
        with pytest.raises(DBAPIError) as caught:
            session.execute(text(sql))
        assert "append-only" in str(caught.value)
        session.rollback()


def _tamper(session: Session, sql: str) -> None:
    session.execute(text("SET session_replication_role = replica"))  # what a superuser could do
    session.execute(text(sql))
    session.execute(text("SET session_replication_role = origin"))
    session.commit()


class TestCheck:
    def test_intact(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        session.commit()
        report = service.check(session)
        assert report.ok, report.problems
        assert report.transfers == 4

    def test_edited_amount_detected(self, session: Session, program: Program) -> None:
        _tamper(session, "UPDATE ledger_transfers SET amount = amount + 1 WHERE code = 'fund'")
        problems = service.check(session).problems
        assert any("row edited" in p for p in problems)
        assert any("totals differ" in p for p in problems)

    def test_deleted_transfer_detected(self, session: Session, program: Program) -> None:
        _tamper(session, "DELETE FROM ledger_transfers WHERE code = 'fund'")
        problems = service.check(session).problems
        assert any("chain" in p for p in problems)

    def test_balance_edited_detected(self, session: Session, program: Program) -> None:
        _tamper(
            session, f"UPDATE ledger_accounts SET credits_posted = credits_posted + 5 WHERE id = '{program.wallet.id}'"
        )
        problems = service.check(session).problems
        assert any("differ" in p for p in problems)

    def test_transfer_on_unknown_account_detected(self, session: Session, program: Program) -> None:
        _tamper(session, f"UPDATE ledger_transfers SET debit_account_id = '{new_id()}' WHERE code = 'fund'")
        problems = service.check(session).problems
        assert any("does not exist" in p for p in problems)

    def test_batch_refuses_unknown_account(self, session: Session, program: Program) -> None:
        from prakerja.ledger.errors import AccountNotFound
        from prakerja.ledger.schemas import BatchTransfer

        before = snapshot(session)
        with pytest.raises(AccountNotFound):
            service.post_batch(
                session, [BatchTransfer(new_id(), program.wallet.id, new_id(), 1, TransferCode.adjustment)]
            )
        assert snapshot(session) == before


class TestBatch:
    def _payables(self, session: Session, n: int) -> tuple[list[uuid.UUID], uuid.UUID]:
        allocate(session, ledger=LedgerCode.cash, amount=10_000_000)
        payables = []
        for _ in range(n):
            participant = new_id()
            service.schedule_incentive(
                session, transfer_id=new_id(), participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER
            )
            payables.append(service.incentive_payable(session, participant).id)
        run = service.payouts_in_flight(session, new_id())
        return payables, run.id

    def _batch(self, payables: list[uuid.UUID], run: uuid.UUID, amount: int = 600_000) -> list[Any]:
        from prakerja.ledger.schemas import BatchTransfer

        return [BatchTransfer(new_id(), p, run, amount, TransferCode.payout, "payout_run", "r1") for p in payables]

    def test_post_retry_and_check(self, session: Session) -> None:
        payables, run = self._payables(session, 5)
        batch = self._batch(payables, run)
        assert service.post_batch(session, batch).created == 5
        retry = service.post_batch(session, batch)
        assert (retry.created, retry.existing) == (0, 5)
        assert service.get_account(session, run).balance == 3_000_000
        session.commit()
        assert service.check(session).ok, service.check(session).problems

    def test_planner_setting_is_the_callers_again_after_a_batch(self, session: Session) -> None:
        """The batch's lock turns bitmap scans off for its one statement; the caller's transaction goes on with the
        value it had, after a posted batch and after a refused one."""
        payables, run = self._payables(session, 3)
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        service.post_batch(session, self._batch(payables[:1], run))
        assert session.execute(text("SHOW enable_bitmapscan")).scalar_one() == "off"
        session.execute(text("SET LOCAL enable_bitmapscan = on"))
        service.post_batch(session, self._batch(payables[1:2], run))
        assert session.execute(text("SHOW enable_bitmapscan")).scalar_one() == "on"
        with pytest.raises(DomainError):
            service.post_batch(session, self._batch(payables[2:], run, amount=600_001))
        assert session.execute(text("SHOW enable_bitmapscan")).scalar_one() == "on"

    def test_overdraft_refuses_the_whole_batch(self, session: Session) -> None:
        payables, run = self._payables(session, 3)
        batch = self._batch(payables, run)
        batch[1] = batch[1]._replace(amount=600_001)
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.post_batch(session, batch)
        assert caught.value.code == "insufficient_funds"
        assert snapshot(session) == before

    def test_reused_id_with_other_fields(self, session: Session) -> None:
        payables, run = self._payables(session, 2)
        batch = self._batch(payables, run, amount=100)
        service.post_batch(session, batch)
        with pytest.raises(DomainError) as caught:
            service.post_batch(session, [batch[0]._replace(amount=200)])
        assert caught.value.code == "transfer_exists_with_different_fields"

    @pytest.mark.parametrize("problem", ["amount", "account", "ledger", "closed"])
    def test_bad_rows_write_nothing(self, session: Session, problem: str) -> None:
        payables, run = self._payables(session, 2)
        batch = self._batch(payables, run, amount=100)
        if problem == "amount":
            batch[1] = batch[1]._replace(amount=0)
        elif problem == "account":
            batch[1] = batch[1]._replace(credit_account_id=new_id())
        elif problem == "ledger":
            batch[1] = batch[1]._replace(credit_account_id=plain_account(session).id)
        else:
            service.close_account(session, run, actor=OFFICER, reason="selesai")
        before = snapshot(session)
        with pytest.raises(DomainError):
            service.post_batch(session, batch)
        assert snapshot(session) == before


def test_program_totals(session: Session, program: Program) -> None:
    authorise(session, program, amount=200_000)
    totals = service.program_totals(session, scheme=SCHEME, year=YEAR)
    assert (totals.budget, totals.committed, totals.pending, totals.spent) == (100_000_000, 3_500_000, 200_000, 0)


def test_history_running_balance(session: Session, program: Program) -> None:
    pending = authorise(session, program)
    service.capture_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
    lines = service.history(session, program.wallet.id)
    assert [(line.transfer.mode, line.change, line.running_balance) for line in lines] == [
        (TransferMode.post_pending, -1_000_000, 2_500_000),
        (TransferMode.pending, 0, 3_500_000),
        (TransferMode.posted, 3_500_000, 3_500_000),
    ]


def test_single_transfers_keep_one_cursor_per_connection(clean_db: Any, program: Program) -> None:
    """The hot path's kept cursor: reused across transactions, made again when the connection is replaced."""
    with clean_db.connect() as connection, Session(connection) as session:
        target = plain_account(session)
        session.commit()

        def post() -> Any:
            spec = TransferCreate(
                id=new_id(),
                debit_account_id=program.wallet.id,
                credit_account_id=target.id,
                amount=1,
                code=TransferCode.adjustment,
            )
            created = service.create_transfers(session, [spec])
            session.commit()
            assert [t.id for t in created] == [spec.id]
            return session.connection().connection.info.get("prakerja.ledger.posting_cursor")

        first = post()
        assert first is not None and post() is first
        connection.invalidate()  # a new DBAPI connection from here on
        session.rollback()
        assert post() is not first
        assert service.get_account(session, target.id).balance == 3

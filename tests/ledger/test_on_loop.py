"""One transfer on a loop connection (``service.create_or_find_transfer_on_loop``, ADR 0023) answers, writes and
refuses exactly as ``service.create_or_find_transfers`` on a ``Session``: the same script of transfers (every mode, a
retry, every refusal) is run once through each path from the same committed accounts, and the transfers' rows, the
accounts' totals and chain heads, and every answer must be equal; ``ledger check`` passes after the loop path, and its
tampering is detected as for any transfer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.kit.clock import Clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode
from prakerja.ledger.schemas import BatchTransfer, Transfer, TransferCreate
from tests.conftest import run_async
from tests.ledger.conftest import plain_account


def _on_loop(specs: list[TransferCreate], clock: Clock) -> list[Any]:
    async def post() -> list[Any]:
        answers: list[Any] = []
        async with db.on_loop() as conn:
            for spec in specs:
                try:
                    answers.append(await service.create_or_find_transfer_on_loop(conn, spec))
                except DomainError as error:
                    answers.append((error.code, error.status_code, error.details))
                clock.advance(timedelta(seconds=61))
        return answers

    return run_async(post())


def _on_session(session: Session, specs: list[TransferCreate], clock: Clock) -> list[Any]:
    answers: list[Any] = []
    for spec in specs:
        savepoint = session.begin_nested()  # a refusal leaves the rest of the script as it was, as on the loop
        try:
            transfers, created = service.create_or_find_transfers(session, [spec])
            savepoint.commit()
            answers.append((transfers[0], created))
        except DomainError as error:
            savepoint.rollback()
            answers.append((error.code, error.status_code, error.details))
        clock.advance(timedelta(seconds=61))
    return answers


def _state(session: Session) -> tuple[list[Any], list[Any]]:
    """Every transfer (write order, ``seq`` as a rank: the identity is not rolled back) and every account."""
    transfers = session.execute(
        text(
            "SELECT rank() OVER (ORDER BY seq) AS pos, id, ledger, code, mode, debit_account_id, credit_account_id,"
            " amount, pending_id, timeout_at, ref_type, ref_id, created_at, debit_prev_hash, credit_prev_hash, hash,"
            " debit_link, credit_link FROM ledger_transfers ORDER BY seq"
        )
    ).all()
    accounts = session.execute(
        text(
            "SELECT id, debits_pending, debits_posted, credits_pending, credits_posted, head_hash FROM ledger_accounts"
            " ORDER BY id"
        )
    ).all()
    return [tuple(r) for r in transfers], [tuple(r) for r in accounts]


def _without_seq(answer: Any) -> Any:
    if isinstance(answer, tuple) and isinstance(answer[0], Transfer):
        return answer[0].model_dump(exclude={"seq"}), answer[1]
    return answer


def _script(ids: list[uuid.UUID]) -> list[TransferCreate]:
    treasury, wallet, other, _unflagged = ids
    pending, voided = uuid.UUID(int=101), uuid.UUID(int=103)

    def spec(n: int, **fields: Any) -> TransferCreate:
        return TransferCreate(id=uuid.UUID(int=n), code=TransferCode.adjustment, **fields)

    return [
        spec(102, debit_account_id=treasury, credit_account_id=wallet, amount=1_000, ref_type="t", ref_id="fund"),
        spec(104, debit_account_id=wallet, credit_account_id=other, amount=300, ledger=LedgerCode.cash),
        spec(101, debit_account_id=wallet, credit_account_id=other, amount=400, mode="pending", timeout_seconds=3600),
        spec(103, debit_account_id=wallet, credit_account_id=other, amount=100, mode="pending"),
        spec(105, pending_id=pending, mode="post_pending", amount=250),
        spec(106, pending_id=voided, mode="void_pending"),
        spec(107, pending_id=pending, mode="void_pending"),  # already posted
        spec(108, debit_account_id=wallet, credit_account_id=other, amount=5_000),  # overdraft
        spec(109, debit_account_id=wallet, credit_account_id=wallet, amount=1),  # same account
        spec(110, debit_account_id=wallet, credit_account_id=uuid.UUID(int=7), amount=1),  # no such account
        spec(111, debit_account_id=wallet, credit_account_id=other, amount=0),  # amount invalid
        spec(112, debit_account_id=wallet, credit_account_id=other, amount=1, ledger=LedgerCode.training),
        spec(113, debit_account_id=wallet, credit_account_id=other, amount=1, mode="void_pending"),
        spec(102, debit_account_id=treasury, credit_account_id=wallet, amount=1_000, ref_type="t", ref_id="fund"),
        spec(102, debit_account_id=treasury, credit_account_id=wallet, amount=999),  # same id, other fields
        spec(114, debit_account_id=other, credit_account_id=treasury, amount=50, mode="pending", timeout_seconds=60),
        spec(115, pending_id=uuid.UUID(int=114), mode="post_pending"),  # after its timeout (the clock moved)
    ]


@pytest.fixture
def accounts(session: Session) -> list[uuid.UUID]:
    treasury = service.treasury(session, LedgerCode.cash).id
    wallet = plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id
    other = plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id
    unflagged = plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.disbursed).id
    service.post_batch(session, [BatchTransfer(uuid.UUID(int=1), treasury, other, 10_000, TransferCode.incentive)])
    session.commit()
    return [treasury, wallet, other, unflagged]


def test_the_loop_path_writes_and_answers_as_the_session_path(
    session: Session, accounts: list[uuid.UUID], frozen_clock: Clock
) -> None:
    script = _script(accounts)
    start = frozen_clock.now()
    by_session = _on_session(session, script, frozen_clock)
    session_state = _state(session)
    session.rollback()
    assert _state(session)[0] == [session_state[0][0]]  # back to the committed batch only

    frozen_clock.freeze(start)
    by_loop = _on_loop(script, frozen_clock)
    session.expire_all()
    assert [_without_seq(a) for a in by_loop] == [_without_seq(a) for a in by_session]
    assert _state(session) == session_state
    codes = [a[0] for a in by_loop if isinstance(a[0], str)]
    assert codes == [
        "pending_already_posted",
        "insufficient_funds",
        "same_account",
        "account_not_found",
        "amount_invalid",
        "ledger_mismatch",
        "transfer_invalid",
        "transfer_exists_with_different_fields",
        "pending_expired",
    ]
    created = [a[1] for a in by_loop if isinstance(a[0], Transfer)]
    assert created.count(False) == 1  # the retry found the stored transfer and wrote nothing
    assert service.check(session).ok
    wallet = service.get_account(session, accounts[1])
    assert (wallet.debits_posted, wallet.debits_pending, wallet.credits_posted) == (550, 0, 1_000)


def test_a_transfer_on_the_loop_is_in_the_chain_and_tampering_is_seen(
    session: Session, accounts: list[uuid.UUID], frozen_clock: Clock
) -> None:
    treasury, wallet, other, _ = accounts
    specs = [
        TransferCreate(id=uuid.uuid4(), debit_account_id=d, credit_account_id=c, amount=7, code=TransferCode.payout)
        for d, c in [(treasury, wallet), (wallet, other), (other, treasury)]
    ]
    answers = _on_loop(specs, frozen_clock)
    assert all(isinstance(a[0], Transfer) and a[1] for a in answers)
    service.create_transfers(session, [specs[2].model_copy(update={"id": uuid.uuid4()})])  # mixed with the Session's
    session.commit()
    assert service.check(session).ok
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text("UPDATE ledger_transfers SET amount = 8 WHERE id = :id"), {"id": specs[1].id})
    session.execute(text("SET LOCAL session_replication_role = origin"))
    report = service.check(session)
    assert not report.ok
    assert any("row edited" in p or "chain" in p for p in report.problems)
    session.rollback()


def test_the_loop_path_needs_an_autocommit_connection(session: Session, accounts: list[uuid.UUID]) -> None:
    spec = TransferCreate(
        id=uuid.uuid4(),
        debit_account_id=accounts[0],
        credit_account_id=accounts[1],
        amount=1,
        code=TransferCode.adjustment,
    )

    async def post() -> None:
        async with db.on_loop() as conn:
            await conn.set_autocommit(False)
            try:
                await service.create_or_find_transfer_on_loop(conn, spec)
            finally:
                await conn.rollback()
                await conn.set_autocommit(True)

    with pytest.raises(ValueError, match="autocommit"):
        run_async(post())
    assert session.execute(text("SELECT count(*) FROM ledger_transfers WHERE id = :id"), {"id": spec.id}).scalar() == 0


def test_a_race_on_the_same_id_is_a_refusal_not_an_error(session: Session, accounts: list[uuid.UUID]) -> None:
    """Two connections posting the same id on different accounts: the locks do not cover it, the primary key
    does; the loser gets ``transfer_exists`` (409), as on a ``Session``."""
    treasury, wallet, other, unflagged = accounts
    same = uuid.uuid4()

    async def race() -> list[Any]:
        async with db.on_loop() as first, db.on_loop() as second:
            await first.set_autocommit(False)
            two = TransferCreate(
                id=same, debit_account_id=unflagged, credit_account_id=other, amount=1, code=TransferCode.payout
            )
            await first.execute(  # the same id on other accounts, not yet committed
                "SELECT * FROM ledger_create_transfer(%s, %s, %s, 1, NULL, 'payout', 'posted', NULL, NULL, '', '',"
                " now())",
                (same, treasury, wallet),
            )
            task = asyncio.create_task(service.create_or_find_transfer_on_loop(second, two))
            waiting = None
            for _ in range(200):  # until the second statement waits for the first's row (the primary key)
                await asyncio.sleep(0.05)
                cur = await first.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (second.info.backend_pid,)
                )
                waiting = (await cur.fetchone() or [None])[0]
                if waiting == "Lock":
                    break
            assert waiting == "Lock"
            await first.commit()
            await first.set_autocommit(True)
            try:
                return [await task]
            except DomainError as error:
                return [error.code, error.status_code]

    assert run_async(race()) == ["transfer_exists_with_different_fields", 409]
    assert service.check(session).ok

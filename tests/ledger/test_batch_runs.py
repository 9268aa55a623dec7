"""``post_batches`` (a run of chunks, each committed in its own transaction while the next is prepared) and
``post_runs`` (independent runs on parallel connections), with a real sessionmaker: what is committed, what is
not, what is raised or returned, and that re-running is idempotent and concurrent runs lose no update."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.models import LedgerCode, TransferCode
from prakerja.ledger.schemas import BatchResult, BatchTransfer, TransferCreate
from tests.ledger.test_service import snapshot

Chunks = list[list[BatchTransfer]]


@dataclass
class Run:
    """Funded incentive payables (flagged: never below zero) and the payout run's in-flight account."""

    payables: list[uuid.UUID]
    in_flight: uuid.UUID


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return sessionmaker(clean_db, expire_on_commit=False)


def _run(factory: sessionmaker[Session], *, payables: int = 4, funds: int = 1_000) -> Run:
    with factory() as session:
        treasury = service.treasury(session, LedgerCode.cash).id
        accounts = [service.incentive_payable(session, new_id()).id for _ in range(payables)]
        for account in accounts:
            service.create_transfers(
                session,
                [
                    TransferCreate(
                        id=new_id(),
                        debit_account_id=treasury,
                        credit_account_id=account,
                        amount=funds,
                        code=TransferCode.incentive,
                    )
                ],
            )
        run = Run(payables=accounts, in_flight=service.payouts_in_flight(session, new_id()).id)
        session.commit()
    return run


def _chunks(run: Run, *, chunks: int, amount: int = 10) -> Chunks:
    return [
        [
            BatchTransfer(new_id(), p, run.in_flight, amount, TransferCode.payout, "payout_run", f"chunk-{k}")
            for p in run.payables
        ]
        for k in range(chunks)
    ]


def _stored(factory: sessionmaker[Session], batches: Sequence[Sequence[BatchTransfer]]) -> list[int]:
    """Per batch, how many of its transfers are committed (seen from a new session)."""
    with factory() as session:
        ids = set(session.execute(text("SELECT id FROM ledger_transfers")).scalars())
    return [sum(t.id in ids for t in batch) for batch in batches]


def _balances(factory: sessionmaker[Session], accounts: Sequence[uuid.UUID]) -> list[int]:
    with factory() as session:
        return [service.get_account(session, a).balance for a in accounts]


def _check(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        report = service.check(session)
        assert report.ok, report.problems


class TestPostBatches:
    def test_every_chunk_is_committed_and_a_rerun_posts_nothing(self, factory: sessionmaker[Session]) -> None:
        run = _run(factory, payables=6)
        chunks = _chunks(run, chunks=4)
        result = service.post_batches(factory, iter(chunks))
        assert (result.created, result.existing) == (24, 0)
        assert _stored(factory, chunks) == [6] * 4
        assert _balances(factory, run.payables) == [1_000 - 40] * 6
        assert _balances(factory, [run.in_flight]) == [240]
        _check(factory)
        with factory() as session:
            before = snapshot(session)
        again = service.post_batches(factory, chunks)
        assert (again.created, again.existing) == (0, 24)
        with factory() as session:
            assert snapshot(session) == before

    def test_a_refused_chunk_stops_the_run_after_the_earlier_ones(self, factory: sessionmaker[Session]) -> None:
        run = _run(factory)
        chunks = _chunks(run, chunks=4)
        chunks[1][2] = chunks[1][2]._replace(amount=1_001)  # more than the payable holds
        with pytest.raises(DomainError) as caught:
            service.post_batches(factory, chunks)
        assert caught.value.code == "insufficient_funds"
        assert caught.value.details == {"account_id": str(run.payables[2]), "index": 2}
        assert _stored(factory, chunks) == [4, 0, 0, 0]
        _check(factory)
        # the run fixed and posted again: only what is missing
        chunks[1][2] = chunks[1][2]._replace(amount=10)
        result = service.post_batches(factory, chunks)
        assert (result.created, result.existing) == (12, 4)
        assert _stored(factory, chunks) == [4] * 4
        assert _balances(factory, run.payables) == [960] * 4
        _check(factory)

    def test_an_invalid_chunk_is_raised_once_the_chunk_being_posted_is_committed(
        self, factory: sessionmaker[Session]
    ) -> None:
        """The next chunk is prepared (and found invalid) while the previous one is still being posted: that one
        finishes and commits before the refusal reaches the caller, and no thread is left behind."""
        run = _run(factory)
        good, bad, never = _chunks(run, chunks=3)
        bad[1] = bad[1]._replace(amount=0)
        committing = threading.Event()

        class SlowCommit(Session):
            def commit(self) -> None:
                committing.set()
                time.sleep(0.3)  # the refusal of the next chunk is ready long before this commit
                super().commit()

        slow = sessionmaker(factory.kw["bind"], class_=SlowCommit, expire_on_commit=False)
        with pytest.raises(DomainError) as caught:
            service.post_batches(slow, [good, bad, never])
        assert committing.is_set()
        assert caught.value.code == "amount_invalid" and caught.value.details["index"] == 1
        assert not [t for t in threading.enumerate() if t.name == "ledger-batch"]
        assert _stored(factory, [good, bad, never]) == [4, 0, 0]
        _check(factory)


class TestPostRuns:
    def test_a_refused_run_is_returned_while_the_others_post(self, factory: sessionmaker[Session]) -> None:
        runs = [_run(factory) for _ in range(3)]
        chunks = [_chunks(run, chunks=3) for run in runs]
        chunks[1][1][0] = chunks[1][1][0]._replace(amount=5_000)
        results = service.post_runs(factory, chunks, streams=2)
        assert isinstance(results[0], BatchResult) and isinstance(results[2], BatchResult)
        assert (results[0].created, results[2].created) == (12, 12)
        refused = results[1]
        assert isinstance(refused, DomainError) and refused.code == "insufficient_funds"
        assert [_stored(factory, c) for c in chunks] == [[4, 4, 4], [4, 0, 0], [4, 4, 4]]
        _check(factory)
        # posted again: the finished runs post nothing, the refused one stops at the same chunk
        again = service.post_runs(factory, chunks, streams=3)
        assert [(r.created, r.existing) for r in (again[0], again[2]) if isinstance(r, BatchResult)] == [(0, 12)] * 2
        assert isinstance(again[1], DomainError) and again[1].code == "insufficient_funds"
        assert [_stored(factory, c) for c in chunks] == [[4, 4, 4], [4, 0, 0], [4, 4, 4]]

    def test_runs_sharing_accounts_lose_no_update(self, factory: sessionmaker[Session]) -> None:
        """Two runs debit the same payables into the same in-flight account, chunk after chunk, at the same time;
        the payables hold exactly what both runs take."""
        shared = _run(factory, payables=5, funds=2 * 12 * 7)
        runs: list[Any] = [_chunks(shared, chunks=12, amount=7) for _ in range(2)]
        results = service.post_runs(factory, runs, streams=2)
        assert [(r.created, r.existing) for r in results if isinstance(r, BatchResult)] == [(60, 0)] * 2
        assert _balances(factory, shared.payables) == [0] * 5
        assert _balances(factory, [shared.in_flight]) == [2 * 12 * 7 * 5]
        with factory() as session:
            totals = session.execute(
                text("SELECT debits_posted FROM ledger_accounts WHERE id = ANY(:ids)"), {"ids": shared.payables}
            ).scalars()
            assert list(totals) == [2 * 12 * 7] * 5
        _check(factory)
        # one more chunk from either run would overdraw: the payables are empty
        extra = _chunks(shared, chunks=1, amount=1)
        results = service.post_runs(factory, [extra], streams=2)
        assert isinstance(results[0], DomainError) and results[0].code == "insufficient_funds"

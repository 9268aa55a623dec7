"""Property test of the two-phase rules through SQL: random pending transfers (some with timeouts), posted in full
or in part or voided, retried with the same id (same or other fields), resolved twice, after the injected clock
has moved past their timeouts and after an account was closed. Every operation runs through the service's single
path and, in a world of its own, through its chain path (the operation linked to a harmless transfer), and through
a readable reference built on ``rules.apply``: the same refusal code or the same result, the same totals."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.clock import Clock
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import rules, service
from prakerja.ledger.errors import InsufficientFunds
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode, TransferMode
from prakerja.ledger.schemas import TransferCreate
from tests.ledger.conftest import OFFICER, plain_account

FUNDED = 5_000
"""Posted credit of account 0 before the operations."""
CLOSABLE = 2
"""The account the ``close`` operation closes."""

PAIRS = [(0, 1), (0, 2), (0, 1), (0, 2), (1, 0), (2, 1), (2, 0), (0, 3), (1, 1)]
"""(debit, credit) of a new pending transfer: mostly from the funded wallet; one pair crosses ledgers, one is the
same account twice."""

# (kind, (debit, credit), amount, timeout in seconds)
pending_strategy = st.tuples(
    st.just("pending"), st.sampled_from(PAIRS), st.integers(1, 1_500), st.sampled_from([None, 30, 90])
)
op_strategy = st.one_of(
    pending_strategy,
    # (kind, which pending, how much: None = omitted, else "part", "full", "over")
    st.tuples(st.just("post"), st.integers(0, 40), st.sampled_from([None, "part", "full", "over"])),
    st.tuples(st.just("post"), st.integers(0, 40), st.sampled_from([None, "part", "full", "over"])),
    # (kind, which pending, voided by the expiry job's code)
    st.tuples(st.just("void"), st.integers(0, 40), st.booleans()),
    # (kind, which earlier call, what changes: nothing, the reference, the amount)
    st.tuples(st.just("retry"), st.integers(0, 40), st.sampled_from(["same", "same", "ref", "amount"])),
    st.tuples(st.just("tick"), st.sampled_from([10, 30, 60, 200])),
    st.tuples(st.just("tick"), st.sampled_from([10, 30, 60, 200])),
)


@dataclasses.dataclass(frozen=True)
class Call:
    """One transfer as the caller asks for it; ids are logical (each world maps them to its own)."""

    id: uuid.UUID
    mode: TransferMode
    code: TransferCode = TransferCode.purchase
    debit: int | None = None
    credit: int | None = None
    amount: int | None = None
    pending: uuid.UUID | None = None
    timeout: int | None = None
    ref_id: str = ""


@dataclasses.dataclass
class Stored:
    call: Call
    debit: int
    credit: int
    amount: int
    created_at: int


@dataclasses.dataclass
class Reference:
    """The ledger's two-phase rules on ``rules.AccountState`` objects, checked in the SQL function's order:
    pending known, retry, pending (not a resolution), resolved once, timeout, amount, closed, balance flags."""

    states: list[rules.AccountState]
    stored: dict[uuid.UUID, Stored] = dataclasses.field(default_factory=dict)
    resolved: dict[uuid.UUID, TransferMode] = dataclasses.field(default_factory=dict)
    now: int = 0

    @classmethod
    def start(cls) -> Reference:
        states = [
            rules.AccountState(
                id=uuid.UUID(int=i + 1),
                ledger=2 if i == 3 else 1,
                debits_must_not_exceed_credits=True,
                credits_must_not_exceed_debits=False,
                closed=False,
            )
            for i in range(4)
        ]
        states[0].credits_posted = FUNDED
        return cls(states=states)

    def run(self, call: Call) -> Any:
        if call.mode is TransferMode.pending:
            return self._pending(call)
        assert call.pending is not None
        pending = self.stored.get(call.pending)
        if pending is None:
            return "pending_not_found"
        if call.id in self.stored:
            return self._retry(call)
        if pending.call.mode is not TransferMode.pending:
            return "pending_not_found"
        if call.pending in self.resolved:
            done = self.resolved[call.pending]
            return "pending_already_posted" if done is TransferMode.post_pending else "pending_already_voided"
        timeout = pending.call.timeout
        expired = timeout is not None and pending.created_at + timeout <= self.now
        expiry_void = call.mode is TransferMode.void_pending and call.code is TransferCode.expired
        if expired and not expiry_void:
            return "pending_expired"
        if call.code is TransferCode.expired and not expired:
            return "transfer_invalid"
        amount = pending.amount
        if call.mode is TransferMode.post_pending and call.amount is not None:
            if call.amount > pending.amount:
                return "amount_invalid"
            amount = call.amount
        debit, credit = self.states[pending.debit], self.states[pending.credit]
        if call.mode is TransferMode.post_pending and (debit.closed or credit.closed):
            return "account_closed"
        if not self._apply(pending.debit, pending.credit, call.mode, amount, pending.amount):
            return "insufficient_funds"
        self.stored[call.id] = Stored(call, pending.debit, pending.credit, amount, self.now)
        self.resolved[call.pending] = call.mode
        return (True, amount, call.mode.value)

    def _pending(self, call: Call) -> Any:
        if call.debit == call.credit:
            return "same_account"  # refused in Python, before any SQL (a retry too)
        if call.id in self.stored:
            return self._retry(call)
        assert call.debit is not None and call.credit is not None and call.amount is not None
        debit, credit = self.states[call.debit], self.states[call.credit]
        if debit.ledger != credit.ledger:
            return "ledger_mismatch"
        if debit.closed or credit.closed:
            return "account_closed"
        if not self._apply(call.debit, call.credit, TransferMode.pending, call.amount, 0):
            return "insufficient_funds"
        self.stored[call.id] = Stored(call, call.debit, call.credit, call.amount, self.now)
        return (True, call.amount, TransferMode.pending.value)

    def _retry(self, call: Call) -> Any:
        """The same id again: the stored transfer if the fields agree (an omitted amount agrees with any, a void's
        amount is ignored), else a refusal."""
        stored = self.stored[call.id]
        first = stored.call
        same = (
            (first.mode, first.code, first.pending, first.ref_id, first.timeout)
            == (call.mode, call.code, call.pending, call.ref_id, call.timeout)
            and call.debit in (None, stored.debit)
            and call.credit in (None, stored.credit)
            and (call.mode is TransferMode.void_pending or call.amount in (None, stored.amount))
        )
        return (False, stored.amount, first.mode.value) if same else "transfer_exists_with_different_fields"

    def _apply(self, debit: int, credit: int, mode: TransferMode, amount: int, pending_amount: int) -> bool:
        saved = (dataclasses.replace(self.states[debit]), dataclasses.replace(self.states[credit]))
        try:
            rules.apply(self.states[debit], self.states[credit], mode, amount, pending_amount)
        except InsufficientFunds:
            self.states[debit], self.states[credit] = saved
            return False
        return True

    def totals(self) -> list[tuple[int, int, int, int]]:
        return [(s.debits_pending, s.debits_posted, s.credits_pending, s.credits_posted) for s in self.states]


@dataclasses.dataclass
class World:
    """Four accounts on the database (a funded wallet, an empty wallet, a wallet that may be closed, a cash
    account) and, for the chain world, two unflagged accounts for the harmless linked transfer."""

    accounts: list[uuid.UUID]
    chain: tuple[uuid.UUID, uuid.UUID] | None

    def id(self, logical: uuid.UUID) -> uuid.UUID:
        return logical if self.chain is None else uuid.uuid5(logical, "chain")

    def run(self, session: Session, call: Call) -> Any:
        spec = TransferCreate(
            id=self.id(call.id),
            debit_account_id=None if call.debit is None else self.accounts[call.debit],
            credit_account_id=None if call.credit is None else self.accounts[call.credit],
            amount=call.amount,
            code=call.code,
            mode=call.mode,
            pending_id=None if call.pending is None else self.id(call.pending),
            timeout_seconds=call.timeout,
            ref_id=call.ref_id,
        )
        specs = [spec]
        if self.chain is not None:
            specs.append(
                TransferCreate(
                    id=uuid.uuid5(call.id, "linked"),
                    debit_account_id=self.chain[0],
                    credit_account_id=self.chain[1],
                    amount=1,
                    code=TransferCode.adjustment,
                )
            )
        try:
            transfers, created = service.create_or_find_transfers(session, specs)
        except DomainError as error:
            if self.chain is None:
                return error.code
            assert error.code == "linked_event_failed" and error.details["index"] == 0, error.details
            return error.details["cause"]
        assert len(transfers) == len(specs)
        return (created, transfers[0].amount, transfers[0].mode.value)

    def totals(self, session: Session) -> list[tuple[int, int, int, int]]:
        rows = session.execute(
            text(
                "SELECT debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts"
                " WHERE id = ANY(:ids) ORDER BY array_position(:ids, id)"
            ),
            {"ids": self.accounts},
        ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def _world(session: Session, *, chain: bool) -> World:
    source = plain_account(session, kind=AccountKind.treasury, owner=f"treasury-{new_id()}")
    funded = plain_account(session)
    accounts = [
        funded.id,
        plain_account(session).id,
        plain_account(session).id,
        plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id,
    ]
    service.create_transfers(
        session,
        [
            TransferCreate(
                id=new_id(),
                debit_account_id=source.id,
                credit_account_id=funded.id,
                amount=FUNDED,
                code=TransferCode.fund,
            )
        ],
    )
    linked = None
    if chain:
        linked = (
            plain_account(session, kind=AccountKind.treasury, owner=f"linked-{new_id()}").id,
            plain_account(session, kind=AccountKind.treasury, owner=f"linked-{new_id()}").id,
        )
    return World(accounts=accounts, chain=linked)


def _call(op: tuple[Any, ...], calls: list[Call], reference: Reference) -> Call | None:
    """The operation as a concrete call, given the calls made so far (None: nothing to do yet)."""
    kind = op[0]
    pendings = [c for c in calls if c.mode is TransferMode.pending]
    unresolved = [c for c in pendings if c.id in reference.stored and c.id not in reference.resolved]
    if kind == "pending":
        _, (debit, credit), amount, timeout = op
        return Call(id=new_id(), mode=TransferMode.pending, debit=debit, credit=credit, amount=amount, timeout=timeout)
    if kind == "retry":
        _, which, change = op
        if not calls:
            return None
        call = calls[which % len(calls)]
        if change == "ref":
            return dataclasses.replace(call, ref_id="other")
        if change == "amount":
            return dataclasses.replace(call, amount=1 if call.amount is None else call.amount + 1)
        return call
    _, which, how = op
    # mostly a pending transfer not resolved yet; sometimes any pending transfer (refused, resolved), another
    # transfer (not a pending one) or an unknown id
    target: Call | None = None
    if which < 28 and unresolved:
        target = unresolved[which % len(unresolved)]
    elif which < 36 and pendings:
        target = pendings[which % len(pendings)]
    elif which < 39 and calls:
        target = calls[which % len(calls)]
    pending_id = target.id if target is not None else new_id()
    if kind == "void":
        code = TransferCode.expired if how else TransferCode.purchase
        return Call(id=new_id(), mode=TransferMode.void_pending, code=code, pending=pending_id)
    size = target.amount if target is not None and target.mode is TransferMode.pending else None
    amount = {None: None, "part": max(1, (size or 2) // 2), "full": size or 1, "over": (size or 0) + 1}[how]
    return Call(id=new_id(), mode=TransferMode.post_pending, pending=pending_id, amount=amount)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(pending_strategy, min_size=1, max_size=6),
    ops=st.lists(op_strategy, min_size=5, max_size=30),
    close_at=st.one_of(st.none(), st.integers(0, 30)),
)
def test_two_phase_rules_agree_with_the_reference(
    session: Session, frozen_clock: Clock, first: list[Any], ops: list[Any], close_at: int | None
) -> None:
    """A few pending transfers first (so that posts and voids find some), then random operations; the wallet that
    may be closed is closed after operation ``close_at``, if any."""
    ops = [*first, *ops]
    if close_at is not None:
        ops.insert(min(close_at, len(ops)), ("close",))
    worlds = [_world(session, chain=False), _world(session, chain=True)]
    reference = Reference.start()
    calls: list[Call] = []
    answers: list[list[Any]] = [[], [], []]
    for op in ops:
        if op[0] == "tick":
            frozen_clock.advance(timedelta(seconds=op[1]))
            reference.now += op[1]
            continue
        if op[0] == "close":
            if not reference.states[CLOSABLE].closed:
                for world in worlds:
                    service.close_account(session, world.accounts[CLOSABLE], actor=OFFICER, reason="tutup")
                reference.states[CLOSABLE].closed = True
            continue
        call = _call(op, calls, reference)
        if call is None:
            continue
        calls.append(call)
        for world, answer in zip(worlds, answers, strict=False):
            answer.append(world.run(session, call))
        answers[2].append(reference.run(call))
    assert answers[0] == answers[2], "the single path disagrees with the reference"
    assert answers[1] == answers[2], "the chain path disagrees with the reference"
    assert worlds[0].totals(session) == worlds[1].totals(session) == reference.totals()
    session.commit()
    report = service.check(session)
    assert report.ok, report.problems

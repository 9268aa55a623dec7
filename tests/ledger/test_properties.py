"""Property tests: random sequences of wallet operations (with retries), alone and from several connections at
once. Whatever happens: no overdraft, sum zero, totals = transfers, pending resolved at most once, a retried id
never moves money twice, and the balances match a simple model."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from tests.ledger.conftest import OFFICER, SCHEME, YEAR, allocate

WALLETS = 3

op_strategy = st.one_of(
    st.tuples(st.just("fund"), st.integers(0, WALLETS - 1), st.integers(1, 2_000_000)),
    st.tuples(st.just("authorise"), st.integers(0, WALLETS - 1), st.integers(1, 2_000_000)),
    st.tuples(st.just("capture"), st.integers(0, 20), st.sampled_from([None, 1, 500_000])),
    st.tuples(st.just("void"), st.integers(0, 20), st.none()),
    st.tuples(st.just("forfeit"), st.integers(0, WALLETS - 1), st.none()),
    st.tuples(st.just("retry"), st.integers(0, 30), st.none()),
)


@dataclass
class Model:
    """What the balances must be, computed without the database."""

    posted: list[int] = field(default_factory=lambda: [0] * WALLETS)
    reserved: list[int] = field(default_factory=lambda: [0] * WALLETS)
    pendings: list[tuple[uuid.UUID, int, int]] = field(default_factory=list)
    """(transfer id, wallet index, amount)"""
    open: set[uuid.UUID] = field(default_factory=set)


def run_ops(session: Session, participants: list[uuid.UUID], ops: list[tuple[Any, ...]], model: Model | None) -> int:
    """Apply the operations; returns how many calls were refused. Updates ``model`` when given (single client)."""
    done: list[tuple[Any, ...]] = []  # (callable, kwargs) of successful calls, for retries
    refused = 0
    for kind, index, amount in ops:
        call: Any
        kwargs: dict[str, Any]
        if kind == "retry":
            if not done:
                continue
            call, kwargs, before = done[index % len(done)]
            result = call(session, **kwargs)
            session.commit()
            assert result == before, "a retry must return the original result"
            continue
        if kind == "fund":
            call, kwargs = (
                service.fund_wallet,
                {
                    "participant_id": participants[index],
                    "scheme": SCHEME,
                    "year": YEAR,
                    "amount": amount,
                },
            )
        elif kind == "authorise":
            call, kwargs = (
                service.authorise_purchase,
                {
                    "participant_id": participants[index],
                    "institution_id": participants[0],
                    "amount": amount,
                    "purchase_ref": "p",
                    "timeout": timedelta(hours=1),
                },
            )
        elif kind in ("capture", "void"):
            pendings = (
                session.execute(
                    text(
                        "SELECT id FROM ledger_transfers WHERE mode = 'pending' AND ref_id = 'p' AND"
                        " debit_account_id IN (SELECT id FROM ledger_accounts WHERE owner_id = ANY(:owners))"
                        " ORDER BY seq"
                    ),
                    {"owners": [str(p) for p in participants]},
                )
                .scalars()
                .all()
            )
            if not pendings:
                continue
            pending_id = pendings[index % len(pendings)]
            if kind == "capture":
                call, kwargs = service.capture_purchase, {"pending_id": pending_id, "amount": amount}
            else:
                call, kwargs = service.void_purchase, {"pending_id": pending_id}
        else:
            call, kwargs = service.forfeit_wallet, {"participant_id": participants[index]}
        kwargs = {**kwargs, "transfer_id": new_id(), "actor": OFFICER}
        try:
            result = call(session, **kwargs)
            session.commit()
        except DomainError:
            session.rollback()
            refused += 1
            continue
        done.append((call, kwargs, result))
        if model is not None:
            apply_model(model, kind, participants, kwargs, result)
    return refused


def apply_model(model: Model, kind: str, participants: list[uuid.UUID], kwargs: dict[str, Any], result: Any) -> None:
    if kind == "fund":
        model.posted[participants.index(kwargs["participant_id"])] += kwargs["amount"]
    elif kind == "authorise":
        wallet = participants.index(kwargs["participant_id"])
        assert model.posted[wallet] - model.reserved[wallet] >= kwargs["amount"], "the ledger allowed an overdraft"
        model.reserved[wallet] += kwargs["amount"]
        model.pendings.append((result.id, wallet, kwargs["amount"]))
        model.open.add(result.id)
    elif kind in ("capture", "void"):
        pending_id = kwargs["pending_id"]
        assert pending_id in model.open, "a pending transfer was resolved twice"
        model.open.discard(pending_id)
        _, wallet, reserved = next(p for p in model.pendings if p[0] == pending_id)
        model.reserved[wallet] -= reserved
        if kind == "capture":
            model.posted[wallet] -= result[0].amount
    elif result is not None:
        wallet = participants.index(kwargs["participant_id"])
        model.posted[wallet] -= result.amount


def assert_ledger_sound(session: Session) -> None:
    report = service.check(session)
    assert report.ok, report.problems
    negative = session.execute(
        text(
            "SELECT count(*) FROM ledger_accounts WHERE debits_must_not_exceed_credits"
            " AND debits_pending + debits_posted > credits_posted"
        )
    ).scalar_one()
    assert negative == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op_strategy, min_size=1, max_size=25))
def test_random_sequences_match_the_model(session: Session, ops: list[tuple[Any, ...]]) -> None:
    allocate(session, amount=10**12)
    session.commit()
    participants = [new_id() for _ in range(WALLETS)]
    model = Model()
    run_ops(session, participants, ops, model)
    for index, participant in enumerate(participants):
        wallet = service.wallet(session, participant)
        posted, available = (wallet.balance, wallet.available) if wallet else (0, 0)
        assert (posted, available) == (model.posted[index], model.posted[index] - model.reserved[index])
    assert_ledger_sound(session)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_concurrent_sequences_from_several_connections(session: Session, engine: Engine, seed: int) -> None:
    """Four connections work on the same wallets at once; shared accounts force real lock contention."""
    allocate(session, amount=10**12)
    session.commit()
    participants = [new_id() for _ in range(WALLETS)]
    rng = random.Random(seed)
    plans = [[_random_op(rng) for _ in range(15)] for _ in range(4)]
    errors: list[BaseException] = []

    def client(plan: list[tuple[Any, ...]]) -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                run_ops(own, participants, plan, None)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert_ledger_sound(session)
    for participant in participants:
        wallet = service.wallet(session, participant)
        assert wallet is None or wallet.available >= 0


def _random_op(rng: random.Random) -> tuple[Any, ...]:
    kind = rng.choice(["fund", "fund", "authorise", "authorise", "capture", "void", "forfeit", "retry"])
    if kind in ("fund", "authorise"):
        return (kind, rng.randrange(WALLETS), rng.randint(1, 2_000_000))
    if kind == "capture":
        return (kind, rng.randrange(20), rng.choice([None, 1, 500_000]))
    if kind == "forfeit":
        return (kind, rng.randrange(WALLETS), None)
    return (kind, rng.randrange(30), None)

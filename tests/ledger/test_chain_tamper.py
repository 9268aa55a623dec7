"""Tamper tests of the hash chain (ADR 0013): a ledger written by batches (one link per batch and account, format 2),
single transfers and linked chains (one link per transfer, format 1) in random order; then each kind of tampering
(a changed, removed, inserted or reordered transfer, or a changed link) is applied in a savepoint, in the way a
superuser could (triggers off), and ``ledger check`` must report the chain broken. The untouched ledger checks
clean, and so does one whose write order is only renumbered (the order itself kept)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode
from prakerja.ledger.schemas import BatchTransfer, TransferCreate
from tests.ledger.conftest import plain_account

ACCOUNTS = 5
"""Account 0 is the (unflagged) treasury; 1-4 are flagged wallets funded far beyond what the history moves."""

pair_strategy = st.tuples(st.integers(0, ACCOUNTS - 1), st.integers(1, ACCOUNTS - 1)).map(
    lambda p: (p[0], (p[0] + p[1]) % ACCOUNTS)
)
transfer_strategy = st.tuples(pair_strategy, st.integers(1, 1_000))
posting_strategy = st.tuples(
    st.sampled_from(["batch", "single", "chain"]), st.lists(transfer_strategy, min_size=1, max_size=12)
)
history_strategy = st.lists(posting_strategy, min_size=1, max_size=6)
CHANGES = ["amount", "ref_id", "created_at", "accounts", "link"]


def _ledger(session: Session, history: list[tuple[str, list[tuple[tuple[int, int], int]]]]) -> list[uuid.UUID]:
    ids = [service.treasury(session, LedgerCode.cash).id]
    ids += [plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id for _ in range(4)]
    service.post_batch(session, [BatchTransfer(new_id(), ids[0], a, 10**9, TransferCode.incentive) for a in ids[1:]])
    for kind, transfers in history:
        if kind == "batch":
            service.post_batch(
                session,
                [
                    BatchTransfer(new_id(), ids[d], ids[c], amount, TransferCode.adjustment, "run", str(i))
                    for i, ((d, c), amount) in enumerate(transfers)
                ],
            )
            continue
        specs = [
            TransferCreate(
                id=new_id(),
                debit_account_id=ids[d],
                credit_account_id=ids[c],
                amount=amount,
                code=TransferCode.adjustment,
            )
            for (d, c), amount in transfers
        ]
        for chain in [specs[:2]] if kind == "chain" else [[s] for s in specs[:3]]:
            service.create_transfers(session, chain)
    return ids


def _rows(session: Session) -> list[Any]:
    return list(session.execute(text("SELECT * FROM ledger_transfers ORDER BY seq")).all())


def _chain_problems(session: Session) -> list[str]:
    """What ``ledger check`` says about the chain: a format-1 row whose hash does not match, a broken chain, a head
    that is not the newest link."""
    problems = service.check(session).problems
    return [p for p in problems if "row edited" in p or "chain" in p]


def _tampered(session: Session, *statements: tuple[str, dict[str, Any]]) -> list[str]:
    """Apply ``statements`` with the triggers off in a savepoint, run the check, roll the tampering back."""
    savepoint = session.begin_nested()
    session.execute(text("SET LOCAL session_replication_role = replica"))  # what a superuser could do
    for sql, params in statements:
        session.execute(text(sql), params)
    session.execute(text("SET LOCAL session_replication_role = origin"))
    problems = _chain_problems(session)
    savepoint.rollback()
    return problems


_SHIFT = "UPDATE ledger_transfers SET seq = seq + 1 WHERE seq > :seq"
_COPY = """
    INSERT INTO ledger_transfers (id, seq, ledger, code, mode, debit_account_id, credit_account_id, amount,
        pending_id, timeout_at, ref_type, ref_id, created_at, debit_prev_hash, credit_prev_hash, hash, debit_link,
        credit_link)
    SELECT :new, t.seq + 1, t.ledger, t.code, t.mode, t.debit_account_id, t.credit_account_id, t.amount, t.pending_id,
        t.timeout_at, t.ref_type, t.ref_id, t.created_at, t.debit_prev_hash, t.credit_prev_hash,
        CASE WHEN t.hash IS NOT NULL THEN ledger_chain_hash(t.debit_prev_hash, t.credit_prev_hash, :new, t.ledger,
            t.code, t.mode, t.debit_account_id, t.credit_account_id, t.amount, t.pending_id, t.timeout_at, t.ref_type,
            t.ref_id, t.created_at) END,
        CASE WHEN :keep_links THEN t.debit_link END, CASE WHEN :keep_links THEN t.credit_link END
    FROM ledger_transfers t WHERE t.id = :id
"""
"""A copy of a transfer under a new id, right after it; a format-1 copy gets the hash its content and the copied
previous heads give (its own hash checks); a format-2 copy keeps the links or carries none."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(
    history=history_strategy,
    pick=st.lists(st.integers(0, 10_000), min_size=4, max_size=4),
    change=st.sampled_from(CHANGES),
    keep_links=st.booleans(),
)
def test_every_kind_of_tampering_is_detected(
    session: Session, history: Any, pick: list[int], change: str, keep_links: bool
) -> None:
    try:
        _ledger(session, history)
        assert service.check(session).ok, service.check(session).problems
        rows = _rows(session)
        target = rows[pick[0] % len(rows)]

        # changed: a field of the transfer (or the link it carries)
        edits = {
            "amount": "UPDATE ledger_transfers SET amount = amount + 1 WHERE id = :id",
            "ref_id": "UPDATE ledger_transfers SET ref_id = ref_id || 'x' WHERE id = :id",
            "created_at": "UPDATE ledger_transfers SET created_at = created_at + interval '1 microsecond'"
            " WHERE id = :id",
            "accounts": "UPDATE ledger_transfers SET debit_account_id = credit_account_id,"
            " credit_account_id = debit_account_id WHERE id = :id",
            "link": "UPDATE ledger_transfers SET hash = sha256(hash), debit_link = sha256(debit_link),"
            " credit_link = sha256(credit_link) WHERE id = :id",
        }
        edit = edits[change]
        if change == "link" and target.hash is None and target.debit_link is None and target.credit_link is None:
            edit = edits["amount"]  # a batch row that carries no link: its content is what there is to change
        assert _tampered(session, (edit, {"id": target.id})), f"{change} of {target.code} not detected"

        # removed
        assert _tampered(session, ("DELETE FROM ledger_transfers WHERE id = :id", {"id": target.id}))

        # inserted: a copy right after the transfer (the renumbering alone keeps the chain intact)
        assert not _tampered(session, (_SHIFT, {"seq": target.seq}))
        copy = {"id": target.id, "new": new_id(), "keep_links": keep_links}
        assert _tampered(session, (_SHIFT, {"seq": target.seq}), (_COPY, copy)), "insertion not detected"

        # reordered: two transfers of one account swap places
        sides = (target.debit_account_id, target.credit_account_id)
        account = sides[pick[1] % 2]
        if sum(account in (r.debit_account_id, r.credit_account_id) for r in rows) < 2:
            account = sides[1 - pick[1] % 2]  # the other account has more (a funded account's first is a batch)
        mates = [r for r in rows if account in (r.debit_account_id, r.credit_account_id) and r.id != target.id]
        other = mates[pick[2] % len(mates)]
        swap = (
            "UPDATE ledger_transfers SET seq = CASE WHEN id = :a THEN :b_seq ELSE :a_seq END WHERE id IN (:a, :b)",
            {"a": target.id, "b": other.id, "a_seq": target.seq, "b_seq": other.seq},
        )
        assert _tampered(session, swap), "reordering not detected"
    finally:
        session.rollback()


class TestBatchLinks:
    """The payout-run shape by hand: one payouts-in-flight account credited by every transfer of the batch (one
    link covering all of them, on the last row) and payables debited once each (a link on every row)."""

    def _run(self, session: Session, n: int = 6) -> tuple[uuid.UUID, list[Any]]:
        treasury = service.treasury(session, LedgerCode.cash).id
        payables = [
            plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id for _ in range(n)
        ]
        run = service.payouts_in_flight(session, new_id()).id
        service.post_batch(
            session, [BatchTransfer(new_id(), treasury, p, 700, TransferCode.incentive) for p in payables]
        )
        service.post_batch(
            session, [BatchTransfer(new_id(), p, run, 600, TransferCode.payout, "payout_run", "r") for p in payables]
        )
        service.post_batch(
            session, [BatchTransfer(new_id(), p, run, 100, TransferCode.payout, "payout_run", "r2") for p in payables]
        )
        return run, [r for r in _rows(session) if r.credit_account_id == run]

    def test_links_sit_on_each_accounts_last_row(self, session: Session) -> None:
        run, payouts = self._run(session)
        first = payouts[:6]
        assert all(r.hash is None and r.debit_link is not None for r in payouts)
        assert [r.credit_link is not None for r in first] == [False] * 5 + [True]
        head = session.execute(text("SELECT head_hash FROM ledger_accounts WHERE id = :id"), {"id": run}).scalar_one()
        assert head == payouts[-1].credit_link
        assert service.check(session).ok, service.check(session).problems

    def test_reordering_inside_one_link_is_detected(self, session: Session) -> None:
        _run, payouts = self._run(session)
        a, b = payouts[1], payouts[3]  # both covered by the run account's first link, neither carries it
        problems = _tampered(
            session,
            (
                "UPDATE ledger_transfers SET seq = CASE WHEN id = :a THEN :b_seq ELSE :a_seq END WHERE id IN (:a, :b)",
                {"a": a.id, "b": b.id, "a_seq": a.seq, "b_seq": b.seq},
            ),
        )
        assert any("chain broken" in p for p in problems), problems

    def test_moving_a_transfer_to_the_next_batch_is_detected(self, session: Session) -> None:
        """The boundary between two batches is part of the chain: the last transfer of the first batch moved
        after the second one's first transfer (the link stays on its row) breaks both links."""
        _run, payouts = self._run(session)
        last_of_first, first_of_second = payouts[5], payouts[6]
        problems = _tampered(
            session,
            (
                "UPDATE ledger_transfers SET seq = CASE WHEN id = :a THEN :b_seq ELSE :a_seq END WHERE id IN (:a, :b)",
                {
                    "a": last_of_first.id,
                    "b": first_of_second.id,
                    "a_seq": last_of_first.seq,
                    "b_seq": first_of_second.seq,
                },
            ),
        )
        assert any("chain broken" in p for p in problems), problems

    def test_removing_a_middle_transfer_names_the_first_transfer_of_its_link(self, session: Session) -> None:
        run, payouts = self._run(session)
        problems = _tampered(session, ("DELETE FROM ledger_transfers WHERE id = :id", {"id": payouts[2].id}))
        assert f"account {run}: chain broken from transfer {payouts[0].id} on" in " ".join(problems), problems

    def test_removing_the_newest_batch_is_detected_by_the_head(self, session: Session) -> None:
        run, payouts = self._run(session)
        problems = _tampered(
            session, ("DELETE FROM ledger_transfers WHERE id = ANY(:ids)", {"ids": [r.id for r in payouts[6:]]})
        )
        assert any(f"account {run}: chain head" in p for p in problems), problems

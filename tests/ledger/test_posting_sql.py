"""The posting functions of migration 0008 on their own: ``ledger_create_transfer`` (one transfer, scalar
arguments) and ``ledger_create_transfers`` (a chain, arrays) refuse with a stable code, write nothing and leave
the transaction usable; both write the hash ``rules.canonical`` defines; the batch path's hand-built COPY rows
store exactly what was given."""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import create_model
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.ledger import repository, rules, schemas, service
from prakerja.ledger.errors import InsufficientFunds
from prakerja.ledger.models import GENESIS, AccountKind, LedgerCode, TransferCode, TransferMode
from prakerja.ledger.schemas import BatchTransfer, Transfer, TransferCreate
from prakerja.ledger.service import batch as batch_module
from prakerja.ledger.service import transfers as transfers_module
from tests.ledger.conftest import OFFICER, Program, plain_account
from tests.ledger.test_service import authorise, snapshot

SINGLE = (
    "SELECT * FROM ledger_create_transfer(:id, :debit, :credit, :amount, :ledger, :code, :mode, :pending, :timeout,"
    " :ref_type, :ref_id, :now)"
)
CHAIN = (
    "SELECT * FROM ledger_create_transfers(ARRAY[:id]::uuid[], ARRAY[:debit]::uuid[], ARRAY[:credit]::uuid[],"
    " ARRAY[:amount]::bigint[], ARRAY[:ledger]::integer[], ARRAY[:code]::text[], ARRAY[:mode]::text[],"
    " ARRAY[:pending]::uuid[], ARRAY[:timeout]::integer[], ARRAY[:ref_type]::text[], ARRAY[:ref_id]::text[], :now)"
)


def post(session: Session, statement: str, **fields: Any) -> list[Any]:
    params: dict[str, Any] = {
        "id": new_id(),
        "debit": None,
        "credit": None,
        "amount": 1,
        "ledger": None,
        "code": TransferCode.adjustment.value,
        "mode": "posted",
        "pending": None,
        "timeout": None,
        "ref_type": "",
        "ref_id": "",
        "now": utcnow(),
        **fields,
    }
    return list(session.execute(text(statement), params).all())


@pytest.fixture(params=[SINGLE, CHAIN], ids=["single", "chain"])
def statement(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestRefusals:
    """Each refusal: one row with the stable code, nothing written, the transaction still usable."""

    def _refused(self, session: Session, statement: str, code: str, **fields: Any) -> dict[str, Any]:
        before = snapshot(session)
        rows = post(session, statement, **fields)
        assert len(rows) == 1 and rows[0].r_error == code, rows
        assert rows[0].r_created is None and rows[0].r_id is None
        assert snapshot(session) == before  # also proves the transaction was not aborted
        return dict(rows[0].r_details)

    def test_overdraft(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        details = self._refused(
            session,
            statement,
            "insufficient_funds",
            debit=program.wallet.id,
            credit=other.id,
            amount=3_500_001,
        )
        assert details == {"account_id": str(program.wallet.id)}

    def test_pending_overdraft(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        self._refused(
            session,
            statement,
            "insufficient_funds",
            debit=program.wallet.id,
            credit=other.id,
            amount=3_500_001,
            mode="pending",
            timeout=60,
        )

    def test_wrong_ledger(self, session: Session, program: Program, statement: str) -> None:
        cash = plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable)
        details = self._refused(session, statement, "ledger_mismatch", debit=program.wallet.id, credit=cash.id)
        assert details == {"debit_ledger": 1, "credit_ledger": 2}

    def test_ledger_given_and_different(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        self._refused(session, statement, "ledger_mismatch", debit=program.wallet.id, credit=other.id, ledger=2)

    def test_closed_account(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        service.close_account(session, other.id, actor=OFFICER, reason="tutup")
        details = self._refused(session, statement, "account_closed", debit=program.wallet.id, credit=other.id)
        assert details == {"account_id": str(other.id)}

    def test_unknown_account(self, session: Session, program: Program, statement: str) -> None:
        unknown = new_id()
        details = self._refused(session, statement, "account_not_found", debit=program.wallet.id, credit=unknown)
        assert details == {"account_id": str(unknown)}

    def test_retried_id_with_other_fields(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        transfer_id = new_id()
        first = post(session, statement, id=transfer_id, debit=program.wallet.id, credit=other.id, amount=5)
        assert first[0].r_error is None and first[0].r_created is True
        for changed in ({"amount": 6}, {"ref_id": "x"}, {"mode": "pending", "timeout": 60}, {"debit": other.id}):
            fields = {"id": transfer_id, "debit": program.wallet.id, "credit": other.id, "amount": 5, **changed}
            if "debit" in changed:
                fields["credit"] = program.wallet.id
            self._refused(session, statement, "transfer_exists_with_different_fields", **fields)

    def test_retry_returns_the_stored_transfer(self, session: Session, program: Program, statement: str) -> None:
        other = plain_account(session)
        transfer_id = new_id()
        first = post(session, statement, id=transfer_id, debit=program.wallet.id, credit=other.id, amount=5)
        before = snapshot(session)
        again = post(session, statement, id=transfer_id, debit=program.wallet.id, credit=other.id, amount=5)
        assert again[0].r_created is False
        assert (again[0].r_id, again[0].r_seq, again[0].r_amount) == (first[0].r_id, first[0].r_seq, 5)
        assert snapshot(session) == before


class TestTwoPhaseInSql:
    def test_posting_a_voided_transfer(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        for statement in (SINGLE, CHAIN):
            before = snapshot(session)
            rows = post(session, statement, mode="post_pending", pending=pending, amount=None, code="purchase")
            assert rows[0].r_error == "pending_already_voided"
            assert snapshot(session) == before

    def test_more_than_the_pending_amount(self, session: Session, program: Program) -> None:
        pending = authorise(session, program, amount=1_000)
        rows = post(session, SINGLE, mode="post_pending", pending=pending, amount=1_001, code="purchase")
        assert rows[0].r_error == "amount_invalid" and rows[0].r_details["pending"] == 1_000


def _canonical(row: Any) -> bytes:
    return rules.canonical(
        id=row.id,
        ledger=row.ledger,
        code=row.code,
        mode=row.mode,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        pending_id=row.pending_id,
        timeout_at=row.timeout_at,
        ref_type=row.ref_type,
        ref_id=row.ref_id,
        created_at=row.created_at,
    )


def _python_hash(row: Any) -> bytes:
    return rules.chain_hash(row.debit_prev_hash, row.credit_prev_hash, _canonical(row))


class TestHashDefinition:
    def test_every_path_writes_the_hash_rules_canonical_defines(self, session: Session, program: Program) -> None:
        """Single transfers, pending with a timeout, partial capture with a commission (a chain), void, and the
        batch path: each stored hash is the Python definition, and each account's chain runs from genesis."""
        pending = authorise(session, program, amount=700_000, minutes=45)
        service.capture_purchase(
            session,
            transfer_id=new_id(),
            pending_id=pending,
            actor=OFFICER,
            amount=500_000,
            platform_id=new_id(),
            commission=50_000,
        )
        other = authorise(session, program, amount=1_000)
        service.void_purchase(session, transfer_id=new_id(), pending_id=other, actor=OFFICER)
        payable = plain_account(session)
        service.post_batch(
            session, [BatchTransfer(new_id(), program.wallet.id, payable.id, 7, TransferCode.adjustment, "r", "é\\n")]
        )
        rows = session.execute(text("SELECT * FROM ledger_transfers ORDER BY seq")).all()
        assert len(rows) == 8
        heads: dict[uuid.UUID, bytes] = {}
        for row in rows:
            debit_prev = heads.get(row.debit_account_id, GENESIS)
            credit_prev = heads.get(row.credit_account_id, GENESIS)
            if row.code == "adjustment":  # the batch (format 2): one link per account, both accounts once here
                assert row.hash is None and row.debit_prev_hash is None and row.credit_prev_hash is None
                assert row.debit_link == rules.link_hash(debit_prev, [_canonical(row)])
                assert row.credit_link == rules.link_hash(credit_prev, [_canonical(row)])
                heads[row.debit_account_id], heads[row.credit_account_id] = row.debit_link, row.credit_link
                continue
            assert row.hash == _python_hash(row), row.code
            assert (row.debit_prev_hash, row.credit_prev_hash) == (debit_prev, credit_prev), row.code
            assert row.debit_link is None and row.credit_link is None
            heads[row.debit_account_id] = heads[row.credit_account_id] = row.hash
        stored = {r.id: r.head_hash for r in session.execute(text("SELECT id, head_hash FROM ledger_accounts"))}
        assert {account: stored[account] for account in heads} == heads
        session.commit()
        assert service.check(session).ok


class TestOneHashDefinition:
    def test_both_posting_functions_and_the_check_use_ledger_chain_hash(
        self, session: Session, program: Program
    ) -> None:
        """The canonical text is written once (migration 0010): with ``ledger_chain_hash`` replaced (in this
        transaction only, rolled back), both posting functions store its answer and ``ledger check`` expects it."""
        marker = bytes(range(32))
        session.execute(
            text(
                "CREATE OR REPLACE FUNCTION ledger_chain_hash(debit_prev bytea, credit_prev bytea, id uuid,"
                " ledger integer, code text, mode text, debit uuid, credit uuid, amount bigint, pending uuid,"
                " timeout_at timestamptz, ref_type text, ref_id text, created_at timestamptz) RETURNS bytea"
                " LANGUAGE sql STABLE"
                " AS $$ SELECT '\\x" + marker.hex() + "'::bytea $$"
            )
        )
        other = plain_account(session)
        posted = set()
        for statement in (SINGLE, CHAIN):
            rows = post(session, statement, debit=program.wallet.id, credit=other.id, amount=3)
            assert rows[0].r_created is True
            stored = session.execute(
                text("SELECT hash FROM ledger_transfers WHERE id = :id"), {"id": rows[0].r_id}
            ).scalar_one()
            assert stored == marker
            posted.add(rows[0].r_id)
        mismatched = {row.id for row in repository.run_check(session, "hash")}
        assert len(mismatched) == 2 and not mismatched & posted  # only the program's two earlier transfers
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM ledger_transfers")).scalar_one() == 2
        assert repository.run_check(session, "hash") == []


class TestCheckWithoutForeignKey:
    def test_resolution_of_a_transfer_that_does_not_exist_is_reported(self, session: Session, program: Program) -> None:
        pending = authorise(session, program)
        service.void_purchase(session, transfer_id=new_id(), pending_id=pending, actor=OFFICER)
        session.commit()
        session.execute(text("SET session_replication_role = replica"))  # what a superuser could do
        session.execute(
            text("UPDATE ledger_transfers SET pending_id = :other WHERE pending_id = :p"),
            {"other": new_id(), "p": pending},
        )
        session.execute(text("SET session_replication_role = origin"))
        session.commit()
        problems = service.check(session).problems
        assert any("resolves something that is not a matching pending transfer" in p for p in problems)


class TestBatchRows:
    def _accounts(self, session: Session, n: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
        source = service.treasury(session, LedgerCode.cash).id
        targets = [
            plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id for _ in range(n)
        ]
        return source, targets

    @pytest.mark.parametrize(
        ("ref_type", "ref_id"),
        [("payout_run", "r-1"), ("tab\there", "new\nline"), ("back\\slash", "\\N"), ("", ""), ("ünï", "コード")],
    )
    def test_references_are_stored_exactly(self, session: Session, ref_type: str, ref_id: str) -> None:
        source, targets = self._accounts(session, 2)
        batch = [BatchTransfer(new_id(), source, t, 10, TransferCode.incentive, ref_type, ref_id) for t in targets]
        assert service.post_batch(session, batch).created == 2
        stored = session.execute(
            text("SELECT ref_type, ref_id, amount, code, mode FROM ledger_transfers ORDER BY seq")
        ).all()
        assert [tuple(r) for r in stored] == [(ref_type, ref_id, 10, "incentive", "posted")] * 2
        assert service.post_batch(session, batch).existing == 2  # the retry compares the stored fields
        session.commit()
        assert service.check(session).ok, service.check(session).problems

    def test_many_blocks_in_batch_order(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(batch_module, "_BLOCK", 3)
        source, targets = self._accounts(session, 10)
        batch = [BatchTransfer(new_id(), source, t, i + 1, TransferCode.incentive) for i, t in enumerate(targets)]
        service.post_batch(session, batch)
        stored = session.execute(text("SELECT id, amount, created_at FROM ledger_transfers ORDER BY seq")).all()
        assert [(r.id, r.amount) for r in stored] == [(t.id, t.amount) for t in batch]
        assert abs(stored[0].created_at - utcnow()) < timedelta(minutes=1)
        assert service.treasury(session, LedgerCode.cash).balance == -55
        session.commit()
        assert service.check(session).ok, service.check(session).problems

    def test_unknown_account_is_named(self, session: Session) -> None:
        source, targets = self._accounts(session, 3)
        unknown = new_id()
        batch = [BatchTransfer(new_id(), source, t, 1, TransferCode.incentive) for t in [*targets, unknown]]
        with pytest.raises(DomainError) as caught:
            service.post_batch(session, batch)
        assert caught.value.code == "account_not_found" and caught.value.details == {"account_id": str(unknown)}

    def test_overdraft_names_the_account(self, session: Session) -> None:
        _, targets = self._accounts(session, 2)
        before = snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.post_batch(session, [BatchTransfer(new_id(), targets[0], targets[1], 1, TransferCode.payout)])
        assert caught.value.code == "insufficient_funds"
        assert caught.value.details == {"account_id": str(targets[0]), "index": 0}
        assert snapshot(session) == before


transfer_op = st.tuples(
    st.integers(0, 4),  # debit account index
    st.integers(0, 4),  # credit account index
    st.integers(1, 3_000),  # amount
    st.sampled_from(["posted", "pending"]),
    st.integers(0, 5),  # reuse the id of an earlier operation (a retry, maybe with other fields) when < 2
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(transfer_op, min_size=1, max_size=20))
def test_single_and_chain_paths_agree_with_the_rules(
    session: Session, ops: list[tuple[int, int, int, str, int]]
) -> None:
    """The same operations through the scalar fast path and through the chain function, each on its own copy of
    five accounts (a funded wallet, two wallets, a closed one and a cash account), and through ``rules.apply`` in
    Python (the readable reference): the same answers, the same totals."""
    worlds = []
    for _ in range(2):
        funded = plain_account(session)
        accounts = [funded.id, plain_account(session).id, plain_account(session).id]
        closed = plain_account(session)
        service.close_account(session, closed.id, actor=OFFICER, reason="tutup")
        accounts += [closed.id, plain_account(session, ledger=LedgerCode.cash, kind=AccountKind.incentive_payable).id]
        source = plain_account(session, kind=AccountKind.treasury, owner="treasury-" + str(new_id()))
        post(session, SINGLE, debit=source.id, credit=funded.id, amount=5_000)
        worlds.append(accounts)
    answers: list[list[Any]] = [[], []]
    ids: list[uuid.UUID] = []
    for debit, credit, amount, mode, reuse in ops:
        transfer_id = ids[reuse] if reuse < 2 and len(ids) > reuse else new_id()
        ids.append(transfer_id)
        for world, (statement, accounts) in enumerate(zip((SINGLE, CHAIN), worlds, strict=True)):
            if debit == credit:
                continue  # refused in Python before any SQL (same_account)
            rows = post(
                session,
                statement,
                id=transfer_id if world == 0 else uuid.uuid5(transfer_id, "chain"),
                debit=accounts[debit],
                credit=accounts[credit],
                amount=amount,
                mode=mode,
                timeout=60 if mode == "pending" else None,
            )
            answers[world].append(rows[0].r_error or (rows[0].r_created, rows[0].r_amount, rows[0].r_mode))
    assert answers[0] == answers[1]
    expected_answers, expected_totals = _reference(ops)
    assert answers[0] == expected_answers
    totals = [
        session.execute(
            text(
                "SELECT debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts"
                " WHERE id = ANY(:ids) ORDER BY array_position(:ids, id)"
            ),
            {"ids": accounts},
        ).all()
        for accounts in worlds
    ]
    assert [tuple(r) for r in totals[0]] == [tuple(r) for r in totals[1]] == expected_totals
    session.commit()
    assert service.check(session).ok


def _reference(ops: list[tuple[int, int, int, str, int]]) -> tuple[list[Any], list[tuple[int, int, int, int]]]:
    """The operations of the property test on ``rules.AccountState`` objects, refused in the functions' order:
    retry, ledger, closed, balance flags (``rules.apply``)."""
    states = [
        rules.AccountState(
            id=uuid.UUID(int=i + 1),
            ledger=2 if i == 4 else 1,
            debits_must_not_exceed_credits=True,
            credits_must_not_exceed_debits=False,
            closed=i == 3,
        )
        for i in range(5)
    ]
    states[0].credits_posted = 5_000
    stored: dict[int, tuple[int, int, int, str]] = {}
    keys: list[int] = []
    answers: list[Any] = []
    for n, (debit, credit, amount, mode, reuse) in enumerate(ops):
        key = keys[reuse] if reuse < 2 and len(keys) > reuse else n
        keys.append(key)
        if debit == credit:
            continue
        fields = (debit, credit, amount, mode)
        if key in stored:
            same = stored[key] == fields
            answers.append((False, stored[key][2], stored[key][3]) if same else "transfer_exists_with_different_fields")
            continue
        d, c = states[debit], states[credit]
        if d.ledger != c.ledger:
            answers.append("ledger_mismatch")
            continue
        if d.closed or c.closed:
            answers.append("account_closed")
            continue
        saved = (dataclasses.replace(d), dataclasses.replace(c))
        try:
            rules.apply(d, c, TransferMode(mode), amount)
        except InsufficientFunds:
            states[debit], states[credit] = saved
            answers.append("insufficient_funds")
            continue
        stored[key] = fields
        answers.append((True, amount, mode))
    return answers, [(s.debits_pending, s.debits_posted, s.credits_pending, s.credits_posted) for s in states]


@pytest.fixture
def transfer_schema_reordered(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Transfer]]:
    """The public ``Transfer`` schema as it would be after an edit: a new field (with a default) first and the
    others in reverse order. ``ledger.service``'s transfers module is imported again against it (as after the edit),
    and restored afterwards."""
    fields: dict[str, Any] = {"note": (str | None, None)}
    for name, info in reversed(Transfer.model_fields.items()):
        fields[name] = (info.annotation, info)
    edited = create_model("Transfer", __config__=Transfer.model_config, **fields)
    monkeypatch.setattr(schemas, "Transfer", edited)
    importlib.reload(transfers_module)
    yield edited
    monkeypatch.undo()
    importlib.reload(transfers_module)


class TestResultMapping:
    """The service reads the posting functions' result columns by name, not by position in the schema."""

    def _assert_stored(self, session: Session, transfer: Any) -> None:
        row = session.execute(text("SELECT * FROM ledger_transfers WHERE id = :id"), {"id": transfer.id}).one()
        for field in Transfer.model_fields:
            assert getattr(transfer, field) == getattr(row, field), field

    @pytest.mark.parametrize("chain", [False, True], ids=["single", "chain"])
    def test_every_field_is_the_stored_one(self, session: Session, program: Program, chain: bool) -> None:
        other = plain_account(session)
        specs = [
            TransferCreate(
                id=new_id(),
                debit_account_id=program.wallet.id,
                credit_account_id=other.id,
                amount=amount,
                code=TransferCode.adjustment,
                mode=TransferMode.pending,
                timeout_seconds=600,
                ref_type="t",
                ref_id=f"r{amount}",
            )
            for amount in ((11, 12) if chain else (11,))
        ]
        created = service.create_transfers(session, specs)
        retried = service.create_transfers(session, specs)
        assert [t.id for t in created] == [t.id for t in retried] == [s.id for s in specs]
        for transfer in (*created, *retried):
            self._assert_stored(session, transfer)

    def test_a_field_added_to_the_schema_does_not_shift_the_columns(
        self, session: Session, program: Program, transfer_schema_reordered: type[Transfer]
    ) -> None:
        other = plain_account(session)
        spec = TransferCreate(
            id=new_id(), debit_account_id=program.wallet.id, credit_account_id=other.id, amount=5, code="adjustment"
        )
        for _ in range(2):  # written, then a retry
            (transfer,) = service.create_transfers(session, [spec])
            assert isinstance(transfer, transfer_schema_reordered)
            assert transfer.model_dump()["note"] is None
            self._assert_stored(session, transfer)

"""``prepare_batch`` without a database: the bulk UUID texts, lock order, positions and sums, (code, reference)
groups, and the refusals it makes before any SQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.kit.errors import DomainError
from prakerja.ledger import rules
from prakerja.ledger.models import TransferCode
from prakerja.ledger.schemas import BatchTransfer
from prakerja.ledger.service.batch import prepare_batch

EDGES = [
    uuid.UUID(int=0),
    uuid.UUID(int=2**128 - 1),
    uuid.UUID(int=1),
    uuid.UUID("00000000-0000-0000-0000-0000000000ff"),
    uuid.UUID("0000000f-000f-000f-000f-00000000000f"),
    uuid.UUID("f0000000-0000-0000-0000-000000000000"),
    uuid.UUID("0a0b0c0d-0e0f-1011-1213-141516171819"),
]
uuids = st.one_of(st.sampled_from(EDGES), st.integers(0, 2**128 - 1).map(lambda i: uuid.UUID(int=i)), st.uuids())


def _transfer(debit: uuid.UUID, credit: uuid.UUID, amount: int = 1, **fields: Any) -> BatchTransfer:
    return BatchTransfer(
        fields.pop("id", uuid.uuid4()), debit, credit, amount, fields.pop("code", TransferCode.payout), **fields
    )


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(uuids, uuids, uuids, st.integers(1, 2**57)).filter(lambda r: r[1] != r[2]),  # 40 sum within BIGINT
        min_size=1,
        max_size=40,
    )
)
def test_texts_positions_and_sums(rows: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]) -> None:
    batch = [BatchTransfer(i, d, c, a, TransferCode.payout) for i, d, c, a in rows]
    p = prepare_batch(batch)
    assert p.id_texts == [str(t.id) for t in batch]
    assert p.accounts == sorted({t.debit_account_id.int for t in batch} | {t.credit_account_id.int for t in batch})
    assert p.account_texts == [str(uuid.UUID(int=a)) for a in p.accounts]
    assert [bytes(r) for r in p.account_raw] == [uuid.UUID(int=a).bytes for a in p.accounts]
    assert [bytes(r) for r in p.id_raw] == [t.id.bytes for t in batch]
    assert [p.accounts[i] for i in p.debit_pos] == [t.debit_account_id.int for t in batch]
    assert [p.accounts[i] for i in p.credit_pos] == [t.credit_account_id.int for t in batch]
    for k, account in enumerate(p.accounts):
        assert p.debit_sums[k] == sum(t.amount for t in batch if t.debit_account_id.int == account)
        assert p.credit_sums[k] == sum(t.amount for t in batch if t.credit_account_id.int == account)
    assert p.groups == [("payout", "", "")] and p.group_of is None


def test_edge_uuids_as_text() -> None:
    batch = [_transfer(d, c, id=i) for i, d, c in zip(EDGES, EDGES[1:] + EDGES[:1], EDGES[2:] + EDGES[:2], strict=True)]
    p = prepare_batch(batch)
    assert p.id_texts == [str(u) for u in EDGES]
    assert p.account_texts == sorted(str(u) for u in EDGES)  # hex text sorts like the 128-bit integers
    assert p.id_texts[0] == "00000000-0000-0000-0000-000000000000"
    assert p.id_texts[1] == "ffffffff-ffff-ffff-ffff-ffffffffffff"


class TestGroups:
    def test_shared_objects_make_one_group(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        code, ref_type, ref_id = TransferCode.payout, "payout_run", "r1"
        p = prepare_batch([_transfer(a, b, code=code, ref_type=ref_type, ref_id=ref_id) for _ in range(3)])
        assert p.groups == [("payout", "payout_run", "r1")] and p.group_of is None

    def test_equal_values_in_other_objects_make_one_group(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        batch = [
            _transfer(a, b, code=TransferCode.payout, ref_type="run", ref_id="".join(["r", "1"])),
            _transfer(a, b, code="payout", ref_type="run", ref_id="".join(["r", "1"])),
        ]
        p = prepare_batch(batch)
        assert p.groups == [("payout", "run", "r1")] and p.group_of is None

    def test_mixed_groups_in_first_seen_order(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        batch = [
            _transfer(a, b, code=TransferCode.incentive, ref_type="run", ref_id="2"),
            _transfer(a, b, code="payout", ref_type="run", ref_id="1"),
            _transfer(a, b, code=TransferCode.incentive, ref_type="run", ref_id="2"),
            _transfer(a, b, code=TransferCode.payout, ref_type="run", ref_id="3"),
        ]
        p = prepare_batch(batch)
        assert p.groups == [("incentive", "run", "2"), ("payout", "run", "1"), ("payout", "run", "3")]
        assert p.group_of == [0, 1, 0, 2]

    def test_codes_as_plain_strings(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        p = prepare_batch([_transfer(a, b, code="adjustment"), _transfer(a, b, code="payout_settled")])
        assert p.groups == [("adjustment", "", ""), ("payout_settled", "", "")]


def _refusal(batch: list[BatchTransfer]) -> tuple[str, dict[str, Any]]:
    with pytest.raises(DomainError) as caught:
        prepare_batch(batch)
    return caught.value.code, caught.value.details


class TestRefusals:
    @pytest.mark.parametrize("code", ["no_such_code", "PAYOUT", "", "payout "])
    def test_unknown_code(self, code: str) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        batch = [_transfer(a, b), _transfer(a, b), _transfer(a, b, code=code)]
        assert _refusal(batch) == ("transfer_invalid", {"index": 2, "field": "code"})

    @pytest.mark.parametrize(
        ("ref_type", "ref_id"), [("a|b", ""), ("", "|"), ("run", "r|1"), ("x" * 33, ""), ("", "y" * 129)]
    )
    def test_bad_reference(self, ref_type: str, ref_id: str) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        batch = [_transfer(a, b, ref_type="run", ref_id="ok"), _transfer(a, b, ref_type=ref_type, ref_id=ref_id)]
        assert _refusal(batch) == ("transfer_invalid", {"index": 1, "field": "ref"})

    def test_longest_references_accepted(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        p = prepare_batch([_transfer(a, b, ref_type="x" * 32, ref_id="y" * 128)])
        assert p.groups == [("payout", "x" * 32, "y" * 128)]

    @pytest.mark.parametrize("amount", [0, -1, 1.0, True, "5", None, rules.MAX_AMOUNT + 1])
    def test_amounts(self, amount: Any) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        code, details = _refusal([_transfer(a, b), _transfer(a, b, amount)])
        assert code == "amount_invalid" and details["index"] == 1

    def test_largest_amount_accepted(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        p = prepare_batch([_transfer(a, b, rules.MAX_AMOUNT)])
        assert p.amounts == [rules.MAX_AMOUNT]

    def test_same_account(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        assert _refusal([_transfer(a, b), _transfer(b, a), _transfer(b, b)]) == ("same_account", {"index": 2})

    def test_large_amounts_on_different_accounts_summed_exactly(self) -> None:
        """Past what int64 arithmetic could sum blindly, the sums are made exactly in Python."""
        a, b, c, d = sorted((uuid.uuid4() for _ in range(4)), key=lambda u: u.int)
        p = prepare_batch([_transfer(a, b, rules.MAX_AMOUNT), _transfer(c, d, rules.MAX_AMOUNT), _transfer(a, c, 1)])
        assert p.debit_sums == [rules.MAX_AMOUNT + 1, 0, rules.MAX_AMOUNT, 0]
        assert p.credit_sums == [0, rules.MAX_AMOUNT, 1, rules.MAX_AMOUNT]

    def test_sums_past_bigint(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        code, _ = _refusal([_transfer(a, b, rules.MAX_AMOUNT) for _ in range(2)])
        assert code == "amount_invalid"

    def test_amounts_are_checked_before_accounts_and_codes(self) -> None:
        a = uuid.uuid4()
        assert _refusal([_transfer(a, a, code="nope"), _transfer(a, uuid.uuid4(), 0)])[0] == "amount_invalid"
        assert _refusal([_transfer(a, uuid.uuid4(), code="nope"), _transfer(a, a)])[0] == "same_account"

"""The lottery core against the contract (``shared/contracts/lottery.md``): entry hashes, ``eligible.csv``,
RFC 6962 known answers, the commitment's bytes, the probability rule and the draw on hand-made cases, and the
same bytes from separate Python processes. No database."""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from prakerja import lottery
from prakerja.lottery import Entry, LotteryError

ROOT = Path(__file__).resolve().parents[2]

# Certificate Transparency's reference leaves and tree heads (RFC 6962; also in transparency-dev/merkle).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


def h(n: int) -> str:
    """A valid, readable entry hash: ``n`` in the first byte, so hand-made cases sort predictably."""
    return f"{n:02x}" + "ab" * 31


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written recursively exactly as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 section 2.1.1's PATH(m, D[n])."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*rfc_path(m, leaves[:k]), mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), mth(leaves[:k])]


class TestEntryHash:
    def test_is_sha256_of_the_domain_separated_inputs(self) -> None:
        secret = bytes(range(32))
        expected = hashlib.sha256(b"prakerja/entry/v1\x00wave-7\x00" + secret).hexdigest()
        assert lottery.entry_hash("wave-7", secret) == expected

    def test_wave_id_is_utf8(self) -> None:
        secret = b"\x01" * 32
        expected = hashlib.sha256(b"prakerja/entry/v1\x00gelombang-\xc3\xa9\x00" + secret).hexdigest()
        assert lottery.entry_hash("gelombang-é", secret) == expected

    @pytest.mark.parametrize("length", [0, 31, 33])
    def test_refuses_secrets_that_are_not_32_bytes(self, length: int) -> None:
        with pytest.raises(LotteryError) as refused:
            lottery.entry_hash("w", b"\x00" * length)
        assert refused.value.code == "entry_secret_invalid"

    def test_new_secrets_are_32_random_bytes(self) -> None:
        assert len(lottery.new_entry_secret()) == 32
        assert lottery.new_entry_secret() != lottery.new_entry_secret()


class TestEligibleCsv:
    def test_sorted_with_header_lf_and_trailing_newline(self) -> None:
        data = lottery.eligible_csv([Entry(h(9), "3201", 1), Entry(h(2), "32", 0), Entry(h(5), "3201", 0)])
        assert data == f"entry_hash,stratum,tier\n{h(2)},32,0\n{h(5)},3201,0\n{h(9)},3201,1\n".encode()

    def test_empty_list_is_the_header_alone(self) -> None:
        assert lottery.eligible_csv([]) == b"entry_hash,stratum,tier\n"

    @pytest.mark.parametrize(
        ("entry", "code"),
        [
            (Entry(h(1), "32a1", 0), "stratum_invalid"),
            (Entry(h(1), "", 0), "stratum_invalid"),
            (Entry(h(1), "３２", 0), "stratum_invalid"),  # full-width digits pass str.isdigit(), not the contract
            (Entry(h(1), "3²", 0), "stratum_invalid"),
            (Entry(h(1), "32", -1), "tier_invalid"),
            (Entry(h(1), "32", True), "tier_invalid"),
            (Entry(h(1).upper(), "32", 0), "entry_hash_invalid"),
            (Entry(h(1)[:-2], "32", 0), "entry_hash_invalid"),
        ],
    )
    def test_refuses_what_the_contract_cannot_publish(self, entry: Entry, code: str) -> None:
        with pytest.raises(LotteryError) as refused:
            lottery.eligible_csv([Entry(h(0), "32", 0), entry])
        assert refused.value.code == code
        assert isinstance(refused.value, ValueError)

    def test_refuses_duplicates_even_with_other_strata(self) -> None:
        with pytest.raises(LotteryError) as refused:
            lottery.eligible_csv([Entry(h(1), "32", 0), Entry(h(1), "33", 2)])
        assert refused.value.code == "entry_duplicate"


class TestMerkleTree:
    def test_certificate_transparency_roots(self) -> None:
        for size, root in enumerate(CT_ROOTS):
            assert lottery.merkle_root(CT_LEAVES[:size]).hex() == root

    def test_empty_tree_is_sha256_of_nothing(self) -> None:
        assert lottery.merkle_root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        assert lottery.MerkleTree([]).root == lottery.merkle_root([])

    @pytest.mark.parametrize("index", sorted(CT_PATHS))
    def test_certificate_transparency_audit_paths(self, index: int) -> None:
        path = lottery.audit_path(CT_LEAVES, index)
        assert [p.hex() for p in path] == CT_PATHS[index]
        assert lottery.root_from_path(CT_LEAVES[index], index, 8, path).hex() == CT_ROOTS[8]

    def test_every_path_of_every_size_up_to_40_matches_the_rfc_and_leads_to_the_root(self) -> None:
        leaves = [f"leaf-{i}".encode() for i in range(40)]
        for size in range(1, 41):
            tree = lottery.MerkleTree(leaves[:size])
            assert tree.root == mth(leaves[:size]) == lottery.merkle_root(leaves[:size])
            for index in range(size):
                path = tree.path(index)
                assert path == rfc_path(index, leaves[:size])
                assert lottery.root_from_path(leaves[index], index, size, path) == tree.root

    def test_a_path_proves_nothing_for_another_leaf_index_or_size(self) -> None:
        leaves = [f"leaf-{i}".encode() for i in range(13)]
        tree = lottery.MerkleTree(leaves)
        path = tree.path(6)
        assert lottery.root_from_path(leaves[7], 6, 13, path) != tree.root
        assert lottery.root_from_path(leaves[6], 7, 13, path) != tree.root
        with pytest.raises(LotteryError):
            lottery.root_from_path(leaves[6], 6, 13, path[:-1])
        with pytest.raises(LotteryError):
            lottery.root_from_path(leaves[6], 6, 13, [*path, path[0]])
        with pytest.raises(LotteryError):
            lottery.root_from_path(leaves[6], 13, 13, path)

    def test_path_index_outside_the_tree_is_refused(self) -> None:
        with pytest.raises(LotteryError):
            lottery.audit_path([b"a", b"b"], 2)


class TestCommitment:
    def test_exact_bytes(self) -> None:
        data = lottery.commitment_json(
            wave_id="w-1",
            scheme="2023-normal",
            quotas={"3273": 5, "11": 0, "3201": 12},
            eligible_count=3,
            merkle_root=bytes(32),
            randomness_source="drand quicknet",
            randomness_reference="round 1000",
            committed_at=datetime(2026, 3, 2, 16, 4, 5, 987654, tzinfo=timezone(timedelta(hours=7))),
        )
        assert data == (
            b'{"algorithm":"prakerja-lottery-v1","committed_at":"2026-03-02T09:04:05Z","eligible_count":3,'
            b'"merkle_root":"' + b"0" * 64 + b'","randomness":{"reference":"round 1000","source":"drand quicknet"},'
            b'"scheme":"2023-normal","strata":[{"code":"11","quota":0},{"code":"3201","quota":12},'
            b'{"code":"3273","quota":5}],"wave_id":"w-1"}'
        )

    def test_naive_time_and_bad_quotas_are_refused(self) -> None:
        base = {
            "wave_id": "w",
            "scheme": "s",
            "eligible_count": 0,
            "merkle_root": bytes(32),
            "randomness_source": "x",
            "randomness_reference": "y",
        }
        with pytest.raises(LotteryError):
            lottery.commitment_json(**base, quotas={}, committed_at=datetime(2026, 1, 1))  # type: ignore[arg-type]
        for quotas in ({"32": -1}, {"32": 1.0}, {"3a": 1}, {"32": 2**53}):
            with pytest.raises(LotteryError):
                lottery.commitment_json(**base, quotas=quotas, committed_at=datetime.now(UTC))  # type: ignore[arg-type]


class TestProbability:
    @pytest.mark.parametrize(
        ("quota", "above", "in_tier", "expected"),
        [
            (3, 0, 7, "3/7"),
            (2, 0, 4, "2/4"),
            (6, 2, 8, "4/8"),
            (5, 0, 5, "1"),
            (9, 3, 5, "1"),
            (5, 5, 3, "0"),
            (4, 7, 1, "0"),
            (0, 0, 3, "0"),
        ],
    )
    def test_rule(self, quota: int, above: int, in_tier: int, expected: str) -> None:
        assert lottery.probability(quota, above, in_tier) == expected


class TestDraw:
    seed = bytes.fromhex("5eed" * 16)

    def ticket(self, entry_hash: str) -> str:
        return hmac.new(self.seed, bytes.fromhex(entry_hash), hashlib.sha256).hexdigest()

    def test_tiers_fill_first_then_tickets_decide(self) -> None:
        tier0 = [Entry(h(i), "3201", 0) for i in (1, 2)]
        tier1 = [Entry(h(i), "3201", 1) for i in (3, 4, 5, 6)]
        tier2 = [Entry(h(7), "3201", 2)]
        rows = lottery.draw([*tier2, *tier1, *tier0], {"3201": 4}, self.seed)
        order = sorted(tier0, key=lambda e: self.ticket(e.entry_hash)) + sorted(
            tier1, key=lambda e: self.ticket(e.entry_hash)
        )
        assert [r.entry_hash for r in rows] == [e.entry_hash for e in [*order, *tier2]]
        assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6, 7]
        assert [r.outcome for r in rows] == ["selected"] * 4 + ["waitlist"] * 3
        assert [r.probability for r in rows] == ["1", "1", "2/4", "2/4", "2/4", "2/4", "0"]
        assert all(r.ticket == self.ticket(r.entry_hash) for r in rows)

    def test_quota_larger_than_the_stratum_selects_everyone(self) -> None:
        rows = lottery.draw([Entry(h(1), "32", 0), Entry(h(2), "32", 3)], {"32": 10}, self.seed)
        assert [(r.outcome, r.probability) for r in rows] == [("selected", "1"), ("selected", "1")]

    def test_stratum_without_quota_is_all_waitlist_and_quota_without_entries_has_no_rows(self) -> None:
        rows = lottery.draw([Entry(h(1), "11", 0), Entry(h(2), "11", 0)], {"12": 5}, self.seed)
        assert {r.stratum for r in rows} == {"11"}
        assert [(r.outcome, r.probability) for r in rows] == [("waitlist", "0"), ("waitlist", "0")]

    def test_results_sorted_by_stratum_as_text_then_rank(self) -> None:
        entries = [Entry(h(i), s, 0) for i, s in enumerate(["4", "32", "3201", "32", "4", "3201"])]
        data = lottery.results_csv(reversed(lottery.draw(entries, {"32": 1, "3201": 1, "4": 1}, self.seed)))
        lines = data.decode().split("\n")
        assert lines[0] == "stratum,tier,rank,entry_hash,ticket,outcome,probability"
        assert lines[-1] == ""
        assert [(ln.split(",")[0], ln.split(",")[2]) for ln in lines[1:-1]] == [
            ("32", "1"),
            ("32", "2"),
            ("3201", "1"),
            ("3201", "2"),
            ("4", "1"),
            ("4", "2"),
        ]
        assert b"\r" not in data

    def test_empty_seed_is_refused(self) -> None:
        with pytest.raises(LotteryError):
            lottery.draw([Entry(h(1), "32", 0)], {"32": 1}, b"")


def produce() -> bytes:
    """A fixed draw of 3,000 entries over 11 strata (one without a quota)."""
    rng = random.Random(20260302)
    strata = [str(3200 + i) for i in range(9)] + ["11", "9"]
    entries = [Entry(rng.randbytes(32).hex(), rng.choice(strata), rng.choice([0, 0, 1, 2])) for _ in range(3000)]
    quotas = {s: rng.randrange(0, 400) for s in strata[:-1]}
    return lottery.results_csv(lottery.draw(entries, quotas, bytes.fromhex("0123456789abcdef" * 4)))


def test_separate_processes_produce_byte_identical_results() -> None:
    script = "import sys; from tests.lottery.test_lottery import produce; sys.stdout.buffer.write(produce())"
    outputs = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, check=True, env=env, cwd=ROOT, timeout=120
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == produce()
    assert outputs[0].count(b"\n") == 3001
    assert b",selected," in outputs[0]
    assert b",waitlist," in outputs[0]

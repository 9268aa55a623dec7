"""Properties of the draw over random strata, quotas and tiers, and agreement, byte for byte, with a naive
reference implementation written here from the contract's text alone. No database."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import defaultdict
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja import lottery
from prakerja.lottery import Entry
from tests.lottery.test_lottery import mth, rfc_path

STRATA = ["32", "3201", "9", "0001"]
"""Few strata, so that strata are crowded and quotas often fall inside a tier; "9" > "3201" as text."""


@st.composite
def waves(draw: st.DrawFn) -> dict[str, Any]:
    """Hypothesis picks the shape (size, strata in use, tiers, quotas, seed); a seeded generator fills the
    entries, so that crowded strata with quotas inside a tier are common rather than rare."""
    rng = draw(st.randoms(use_true_random=False))
    count = draw(st.integers(0, 150))
    strata = draw(st.lists(st.sampled_from(STRATA), min_size=1, max_size=len(STRATA), unique=True))
    tiers = draw(st.integers(1, 4))
    salt = draw(st.binary(max_size=8))
    hashes = [hashlib.sha256(salt + i.to_bytes(4, "big")).hexdigest() for i in range(count)]
    entries = [Entry(h, rng.choice(strata), rng.randrange(tiers)) for h in hashes]
    quotas = draw(st.dictionaries(st.sampled_from(STRATA), st.integers(0, 60)))
    return {"entries": entries, "quotas": quotas, "seed": draw(st.binary(min_size=1, max_size=48))}


def reference_results(entries: list[Entry], quotas: dict[str, int], seed: bytes) -> bytes:
    """Section 5 read literally: one stratum at a time, tickets as hex strings, probabilities as fractions."""
    by_stratum: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_stratum[entry.stratum].append(entry)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["stratum", "tier", "rank", "entry_hash", "ticket", "outcome", "probability"])
    for stratum in sorted(by_stratum):
        quota = quotas.get(stratum, 0)
        members = by_stratum[stratum]

        def ticket_of(entry: Entry) -> str:
            return hmac.new(seed, bytes.fromhex(entry.entry_hash), hashlib.sha256).hexdigest()

        ordered = sorted(members, key=lambda e: (e.tier, ticket_of(e), e.entry_hash))
        for rank, entry in enumerate(ordered, start=1):
            above = sum(1 for m in members if m.tier < entry.tier)
            n_t = sum(1 for m in members if m.tier == entry.tier)
            if above + n_t <= quota:
                chance = "1"
            elif above >= quota:
                chance = "0"
            else:
                chance = f"{quota - above}/{n_t}"
            outcome = "selected" if rank <= min(quota, len(members)) else "waitlist"
            writer.writerow([stratum, entry.tier, rank, entry.entry_hash, ticket_of(entry), outcome, chance])
    return out.getvalue().encode()


@settings(max_examples=300, deadline=None)
@given(drawn=waves())
def test_agrees_byte_for_byte_with_the_reference(drawn: dict[str, Any]) -> None:
    entries = drawn["entries"]
    produced = lottery.results_csv(lottery.draw(entries, drawn["quotas"], drawn["seed"]))
    assert produced == reference_results(entries, drawn["quotas"], drawn["seed"])


@settings(max_examples=300, deadline=None)
@given(drawn=waves())
def test_quotas_priority_ranks_and_probabilities(drawn: dict[str, Any]) -> None:
    entries = drawn["entries"]
    rows = lottery.draw(entries, drawn["quotas"], drawn["seed"])
    assert sorted(r.entry_hash for r in rows) == sorted(e.entry_hash for e in entries)
    by_stratum: dict[str, list[lottery.ResultRow]] = defaultdict(list)
    for row in rows:
        by_stratum[row.stratum].append(row)
    for stratum, group in by_stratum.items():
        quota = drawn["quotas"].get(stratum, 0)
        selected = [r for r in group if r.outcome == "selected"]
        waitlisted = [r for r in group if r.outcome == "waitlist"]
        assert len(selected) == min(quota, len(group))
        assert [r.rank for r in group] == list(range(1, len(group) + 1))
        if selected and waitlisted:
            assert max(r.rank for r in selected) < min(r.rank for r in waitlisted)
            assert max(r.tier for r in selected) <= min(r.tier for r in waitlisted)
        for tier in {r.tier for r in group}:
            in_tier = [r for r in group if r.tier == tier]
            chances = {r.probability for r in in_tier}
            assert len(chances) == 1
            chance = chances.pop()
            chosen = sum(r.outcome == "selected" for r in in_tier)
            if chance == "1":
                assert chosen == len(in_tier)
            elif chance == "0":
                assert chosen == 0
            else:
                numerator, denominator = map(int, chance.split("/"))
                assert denominator == len(in_tier)
                assert 0 < numerator == chosen < denominator
                assert Fraction(numerator, denominator) == Fraction(chosen, len(in_tier))


@settings(max_examples=200, deadline=None)
@given(leaves=st.lists(st.binary(max_size=12), max_size=70), pick=st.integers(min_value=0))
def test_merkle_tree_matches_the_recursive_definition_and_every_path_verifies(leaves: list[bytes], pick: int) -> None:
    tree = lottery.MerkleTree(leaves)
    assert tree.root == mth(leaves) == lottery.merkle_root(leaves)
    if leaves:
        index = pick % len(leaves)
        assert tree.path(index) == rfc_path(index, leaves)
        assert lottery.root_from_path(leaves[index], index, len(leaves), tree.path(index)) == tree.root

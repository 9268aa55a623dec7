"""The lottery's helper processes change nothing but the time: the Merkle root, every tier's ranking, the streamed
tiers and ``results.csv`` are the same bytes with and without them."""

from __future__ import annotations

import hashlib
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.lottery import drawing, merkle, parallel


def _lines(count: int, strata: int, tiers: int) -> list[bytes]:
    rows = []
    for index in range(count):
        digest = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
        rows.append(f"{digest},{3201 + index % strata},{index % tiers}".encode())
    return sorted(rows)


def test_merkle_root_with_helpers_equals_the_plain_root() -> None:
    for count in (1, 2, merkle.CHUNK - 1, merkle.CHUNK, merkle.CHUNK + 1, 3 * merkle.CHUNK + 7, 5 * merkle.CHUNK):
        leaves = [os.urandom(8).hex().encode() for _ in range(count)]
        for helpers in (1, 2):
            with parallel.pool(10**9, helpers=helpers) as executor:
                assert executor is not None
                assert merkle.merkle_root_on(leaves, executor) == merkle.merkle_root(leaves)


def test_a_helper_that_fails_leaves_its_work_to_this_process() -> None:
    """A helper that dies (here: its first result larger than announced) changes nothing but the time."""
    helpers = parallel.Helpers(1)
    results = list(helpers.run(6, [1, 1, 1, 1, 1, 0], lambda i: bytes([i])))
    assert [index for index, _ in results] == list(range(6))
    assert all(result in (None, bytes([index])) for index, result in results)
    assert results[5] == (5, None)


@settings(max_examples=15, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=3000),
    strata=st.integers(min_value=1, max_value=9),
    tiers=st.integers(min_value=1, max_value=3),
    quota=st.integers(min_value=0, max_value=400),
    seed=st.binary(min_size=1, max_size=100),
)
def test_a_draw_with_helpers_is_the_same_draw(count: int, strata: int, tiers: int, quota: int, seed: bytes) -> None:
    lines = _lines(count, strata, tiers)
    quotas = {str(3201 + s): quota + s for s in range(strata)}
    alone_seen: list[tuple[str, int, int]] = []
    alone = drawing.draw_lines(lines, quotas, seed, lambda t: alone_seen.append((t.stratum, t.tier, t.first_rank)))
    with parallel.pool(10**9, helpers=1) as executor:
        helped_seen: list[tuple[str, int, int]] = []
        helped = drawing.draw_lines(
            lines, quotas, seed, lambda t: helped_seen.append((t.stratum, t.tier, t.first_rank)), executor
        )
    assert helped.results_csv == alone.results_csv
    assert [t.keys for t in helped.tiers] == [t.keys for t in alone.tiers]
    assert helped_seen == alone_seen
    rebuilt = drawing.Drawn(alone.tiers)  # from the tiers alone, as a verifier holding only the ranking would
    assert rebuilt.results_csv == alone.results_csv


@given(seed=st.binary(min_size=0, max_size=200), entry=st.binary(min_size=32, max_size=32))
def test_tickets_are_hmac_sha256_of_the_entry_under_the_seed(seed: bytes, entry: bytes) -> None:
    inner, outer = drawing._keyed(seed)
    (key,) = drawing._sorted_keys(inner, outer, [entry])
    assert key == drawing.hmac.digest(seed, entry, "sha256") + entry

"""The lottery's helper processes change nothing but the time: the Merkle root, every tier's ranking, the streamed
tiers and ``results.csv`` are the same bytes with and without them."""

from __future__ import annotations

import hashlib
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.lottery import LotteryError, drawing, entries, files, merkle, parallel


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
    unordered = sorted(helpers.run(6, [1, 1, 1, 1, 1, 0], lambda i: bytes([i]), ordered=False))
    assert [index for index, _ in unordered] == list(range(6))
    assert all(result in (None, bytes([index])) for index, result in unordered)
    assert unordered[5] == (5, None)
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
    # every tier streamed once (a helper's as soon as it is done: not necessarily in the file's order)
    assert sorted(helped_seen) == sorted(alone_seen) and len(set(helped_seen)) == len(helped_seen)
    rebuilt = drawing.Drawn(alone.tiers)  # from the tiers alone, as a verifier holding only the ranking would
    assert rebuilt.results_csv == alone.results_csv


@given(seed=st.binary(min_size=0, max_size=200), entry=st.binary(min_size=32, max_size=32))
def test_tickets_are_hmac_sha256_of_the_entry_under_the_seed(seed: bytes, entry: bytes) -> None:
    inner, outer = drawing._keyed(seed)
    (key,) = drawing._sorted_keys(inner, outer, [entry])
    assert key == drawing.hmac.digest(seed, entry, "sha256") + entry


def _body(count: int, salt: bytes) -> bytes:
    digests = [hashlib.sha256(salt + i.to_bytes(4, "big")).hexdigest() for i in range(count)]
    rows = sorted(f"{digest},{3201 + i % 3},{i % 2}" for i, digest in enumerate(digests))
    return "".join(row + "\n" for row in rows).encode()


def _alone(body: bytes) -> tuple[list[bytes], bytes, bytes] | tuple[str, str]:
    try:
        lines, checked = entries.checked_rows(body)
    except LotteryError as error:
        return error.code, str(error)
    return lines, checked, merkle.merkle_root(lines)


_BREAKS = st.sampled_from(["none", "swap", "repeat", "tier 01", "upper hex", "no newline", "short row", "comma"])


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=70),
    salt=st.binary(max_size=4),
    chunk=st.sampled_from([1, 2, 4, 8, 16]),
    damage=_BREAKS,
    where=st.integers(min_value=0, max_value=10**6),
)
def test_rows_checked_by_the_processes_that_hash_them_give_the_single_process_result(
    count: int, salt: bytes, chunk: int, damage: str, where: int
) -> None:
    """Rows checked block by block by this process and a helper (``checked_rows_and_root``), for any block size:
    the same rows, body and Merkle root as ``checked_rows`` and the plain tree in one process, or the same
    refusal (code and message), whatever the damage and wherever it is."""
    lines = _body(count, salt).split(b"\n")[:-1]
    at = where % count
    if damage == "swap" and count > 1:
        at = min(at, count - 2)
        lines[at], lines[at + 1] = lines[at + 1], lines[at]
    elif damage == "repeat" and count > 1:
        lines[min(at + 1, count - 1)] = lines[min(at, count - 2)]
    elif damage == "tier 01":
        lines[at] = lines[at][:-1] + b"01"
    elif damage == "upper hex":
        lines[at] = lines[at][:3].upper() + lines[at][3:]
    elif damage == "short row":
        lines[at] = lines[at][:40]
    elif damage == "comma":
        lines[at] = lines[at] + b",7"
    body = b"".join(line + b"\n" for line in lines)
    if damage == "no newline":
        body = body[:-1]
    expected = _alone(body)
    with parallel.pool(10**9, helpers=1) as executor:
        assert executor is not None
        try:
            found: object = files.checked_rows_and_root(body, executor, chunk)
        except LotteryError as error:
            found = (error.code, str(error))
    assert found == expected


def test_a_block_refused_in_a_helper_is_refused_as_in_one_process() -> None:
    """A malformed row in the last block (which the helper claims first) and one across two blocks' edge."""
    lines = _body(40, b"x").split(b"\n")[:-1]
    late = [*lines[:-1], lines[-1][:-1] + b"x"]
    # out of order across the edge of the second and third blocks of 8
    edge = [*lines[:15], lines[17], lines[16], *lines[18:]]
    for rows in (late, edge):
        body = b"".join(row + b"\n" for row in rows)
        with parallel.pool(10**9, helpers=1) as executor:
            try:
                found: object = files.checked_rows_and_root(body, executor, 8)
            except LotteryError as error:
                found = (error.code, str(error))
        assert found == _alone(body)

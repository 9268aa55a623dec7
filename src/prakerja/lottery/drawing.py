"""Contract section 5: tickets, ranks, outcomes and probabilities, and ``results.csv``."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from prakerja.lottery.commitment import checked_quotas
from prakerja.lottery.entries import Entry, bulk, check_entries
from prakerja.lottery.errors import LotteryError
from prakerja.lottery.parallel import Helpers

RESULTS_HEADER = "stratum,tier,rank,entry_hash,ticket,outcome,probability"
SELECTED = "selected"
WAITLIST = "waitlist"


class ResultRow(NamedTuple):
    """One row of ``results.csv``."""

    stratum: str
    tier: int
    rank: int
    entry_hash: str
    ticket: str
    outcome: str
    probability: str


def ticket(seed: bytes, entry_hash_hex: str) -> str:
    """HMAC-SHA256 keyed by the seed over the raw entry hash, as hex."""
    return hmac.digest(seed, bytes.fromhex(entry_hash_hex), "sha256").hex()


def probability(quota: int, above: int, in_tier: int) -> str:
    """Section 5: ``1``, ``0`` or the unreduced fraction ``A/B``."""
    if above + in_tier <= quota:
        return "1"
    if above >= quota:
        return "0"
    return f"{quota - above}/{in_tier}"


@dataclass(frozen=True, slots=True)
class TierDraw:
    """One priority tier of one stratum after the draw, its entries in rank order.

    ``keys[i]`` is the i-th entry's ticket followed by its entry hash (32 raw bytes each): sorting these
    byte strings is the contract's order within a tier (ticket, then entry_hash). The first ``selected``
    entries are selected, the others wait; every entry of the tier has the same ``probability``."""

    stratum: str
    tier: int
    first_rank: int
    selected: int
    probability: str
    keys: list[bytes] = field(repr=False)

    def rows(self) -> Iterator[ResultRow]:
        for offset, key in enumerate(self.keys):
            outcome = SELECTED if offset < self.selected else WAITLIST
            rank = self.first_rank + offset
            yield ResultRow(self.stratum, self.tier, rank, key[32:].hex(), key[:32].hex(), outcome, self.probability)


@dataclass(frozen=True)
class Drawn:
    """A draw: its tiers in ``results.csv`` order (stratum as a string, then tier, i.e. rank)."""

    tiers: list[TierDraw] = field(repr=False)
    csv_parts: Sequence[bytes | None] | None = field(default=None, repr=False)
    """The tiers' ``results.csv`` rows where the draw already made them (a helper process); the others (None, or
    all when not given) are built from ``tiers`` when first asked for."""

    @property
    def selected_count(self) -> int:
        return sum(t.selected for t in self.tiers)

    def rows(self) -> Iterator[ResultRow]:
        for tier in self.tiers:
            yield from tier.rows()

    def row_of(self, entry_hash_hex: str) -> ResultRow | None:
        raw = bytes.fromhex(entry_hash_hex)
        for tier in self.tiers:
            for offset, key in enumerate(tier.keys):
                if key[32:] == raw:
                    return next(itertools.islice(tier.rows(), offset, None))
        return None

    @cached_property
    def results_csv(self) -> bytes:
        """``results.csv``, assembled from byte pieces in C loops (no per-row formatting in Python)."""
        return self._results_csv()

    def _results_csv(self) -> bytes:
        return b"".join(self.results_parts())

    def results_parts(self) -> list[bytes]:
        """``results.csv`` in pieces (the header, then the tiers' rows), to write or hash without joining them."""
        return [RESULTS_HEADER.encode() + b"\n", *self._tier_parts]

    @cached_property
    def _tier_parts(self) -> list[bytes]:
        given = self.csv_parts if self.csv_parts is not None else [None] * len(self.tiers)
        return [
            _tier_csv(t.stratum, t.tier, t.first_rank, t.selected, t.probability, t.keys) if part is None else part
            for t, part in zip(self.tiers, given, strict=True)
        ]

    @cached_property
    def results_sha256(self) -> str:
        """SHA-256 of ``results.csv`` (hex), hashed piece by piece."""
        digest = hashlib.sha256()
        for part in self.results_parts():
            digest.update(part)
        return digest.hexdigest()


def _keyed(seed: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states for the key ``seed`` (RFC 2104): each ticket then costs two
    copies and two short hashes, the same bytes as ``hmac.digest`` without keying every message again."""
    key = hashlib.sha256(seed).digest() if len(seed) > 64 else seed
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def _sorted_keys(inner: Any, outer: Any, hashes: list[bytes]) -> list[bytes]:
    """Each raw entry hash's ticket followed by the hash itself, sorted: the tier's rank order."""
    copy_in, copy_out = inner.copy, outer.copy
    keys: list[bytes] = []
    append = keys.append
    for entry in hashes:
        state = copy_in()
        state.update(entry)
        final = copy_out()
        final.update(state.digest())
        append(final.digest() + entry)
    keys.sort()
    return keys


class _Tier(NamedTuple):
    """A tier as planned before its tickets exist: everything but the order of its entries."""

    stratum: str
    tier: int
    first_rank: int
    selected: int
    probability: str
    lines: list[bytes]


def _tier_csv(stratum: str, tier: int, first_rank: int, selected: int, chance: str, keys: list[bytes]) -> bytes:
    """A tier's rows of ``results.csv``, assembled from byte pieces in C loops (no per-row formatting)."""
    head = f"{stratum},{tier},".encode()
    ranks = [b"%d," % rank for rank in range(first_rank, first_rank + len(keys))]
    # "ticket,entry_hash,ticket,entry_hash,..." in hex, split into the two columns
    fields = binascii.hexlify(b"".join(keys), b",", 32).split(b",") if keys else []
    tickets, hashes = fields[0::2], fields[1::2]
    parts = []
    for low, high, outcome in ((0, selected, SELECTED), (selected, len(keys), WAITLIST)):
        tail = f",{outcome},{chance}\n".encode()
        pieces = zip(
            itertools.repeat(head),
            ranks[low:high],
            hashes[low:high],
            itertools.repeat(b","),
            tickets[low:high],
            itertools.repeat(tail),
            strict=False,
        )
        parts.append(b"".join(itertools.chain.from_iterable(pieces)))
    return b"".join(parts)


def _raw_hashes(lines: list[bytes]) -> list[bytes]:
    """The raw entry hashes of a tier's rows. The rows of a tier differ only in their hash (same stratum and tier),
    so they have one length: their hex columns are cut out of the joined rows at once and decoded in one call."""
    if not lines:
        return []
    width = len(lines[0])
    grid = np.frombuffer(b"".join(lines), dtype=np.uint8).reshape(len(lines), width)
    raw = binascii.unhexlify(grid[:, :64].tobytes())
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def _draw_tiers(seed: bytes, tiers: Sequence[_Tier], csv: bool = True) -> list[tuple[list[bytes], bytes | None]]:
    """Each tier's sorted keys and ``results.csv`` rows (None unless ``csv``: built later by :class:`Drawn`)."""
    inner, outer = _keyed(seed)
    done: list[tuple[list[bytes], bytes | None]] = []
    for t in tiers:
        keys = _sorted_keys(inner, outer, _raw_hashes(t.lines))
        rows = _tier_csv(t.stratum, t.tier, t.first_rank, t.selected, t.probability, keys) if csv else None
        done.append((keys, rows))
    return done


def _draw_joined(seed: bytes, tiers: Sequence[_Tier]) -> bytes:
    """:func:`_draw_tiers` as one byte string (for a helper process): every tier's keys joined (64 bytes each),
    then the tiers' CSV rows."""
    done = _draw_tiers(seed, tiers)
    return b"".join([*(b"".join(keys) for keys, _ in done), *(csv or b"" for _, csv in done)])


def _csv_bound(t: _Tier) -> int:
    """At least the length of the tier's ``results.csv`` rows (:func:`_tier_csv`)."""
    count = len(t.lines)
    widest = max(len(f",{outcome},{t.probability}\n") for outcome in (SELECTED, WAITLIST))
    return count * (len(f"{t.stratum},{t.tier},") + len(str(t.first_rank + count)) + 1 + 129 + widest)


def _plan(lines: Sequence[bytes], quotas: Mapping[str, int]) -> list[_Tier]:
    """Every tier in ``results.csv`` order with its first rank, selected count and probability."""
    groups: dict[bytes, list[bytes]] = {}
    for line in lines:
        suffix = line[65:]
        group = groups.get(suffix)
        if group is None:
            groups[suffix] = [line]
        else:
            group.append(line)
    by_stratum: dict[str, list[tuple[int, list[bytes]]]] = {}
    for suffix, members in groups.items():
        stratum, tier_digits = suffix.decode().split(",")
        by_stratum.setdefault(stratum, []).append((int(tier_digits), members))
    plan: list[_Tier] = []
    for stratum in sorted(by_stratum):
        in_stratum = sorted(by_stratum[stratum], key=operator.itemgetter(0))
        quota = quotas.get(stratum, 0)
        chosen = min(quota, sum(len(members) for _, members in in_stratum))
        above = 0
        for tier, members in in_stratum:
            count = len(members)
            selected = max(0, min(count, chosen - above))
            plan.append(_Tier(stratum, tier, above + 1, selected, probability(quota, above, count), members))
            above += count
    return plan


SEGMENTS_PER_PROCESS = 8
"""A draw is cut in this many pieces per process: this process streams the first ones out while a helper hashes the
last ones, and they meet near the middle."""


def draw_lines(
    lines: Sequence[bytes],
    quotas: Mapping[str, int],
    seed: bytes,
    on_tier: Callable[[TierDraw], object] | None = None,
    executor: Helpers | None = None,
) -> Drawn:
    """Section 5 over checked ``eligible.csv`` rows (``entry_hash,stratum,tier`` as bytes); ``on_tier`` sees each
    tier once, as soon as it is ranked (e.g. to stream it into the database while the next one is drawn). With
    ``executor`` (helpers from :func:`prakerja.lottery.parallel.pool`), a forked helper hashes tiers from the end
    while this process hashes tiers from the start; ``on_tier`` then sees this process's tiers as they are ranked
    and a helper's as soon as it has finished them (so the database stores both halves while the tickets are
    drawn), in that order rather than the file's: the same tiers, and the same :class:`Drawn`, either way."""
    plan = _plan(lines, quotas)

    def emit(t: _Tier, keys: list[bytes], csv: bytes | None) -> tuple[TierDraw, bytes | None]:
        drawn = TierDraw(t.stratum, t.tier, t.first_rank, t.selected, t.probability, keys)
        if on_tier is not None:
            on_tier(drawn)
        return drawn, csv

    # The tiers ranked here get their results.csv rows only when the file is written (Drawn builds them), after
    # the last tier was handed to ``on_tier``: the database finishes storing them meanwhile.
    if executor is None:
        done = [emit(t, keys, csv) for t, (keys, csv) in zip(plan, _draw_tiers(seed, plan, csv=False), strict=True)]
        return Drawn([tier for tier, _ in done], csv_parts=[csv for _, csv in done])
    size = max(1, len(lines) // (SEGMENTS_PER_PROCESS * (executor.count + 1)))
    segments: list[list[_Tier]] = [[]]
    filled = 0
    for t in plan:
        if filled >= size:
            segments.append([])
            filled = 0
        segments[-1].append(t)
        filled += len(t.lines)
    bounds = [sum(64 * len(t.lines) + _csv_bound(t) for t in segment) for segment in segments]
    by_segment: dict[int, list[tuple[TierDraw, bytes | None]]] = {}
    work = executor.run(len(segments), bounds, lambda i: _draw_joined(seed, segments[i]), ordered=False)
    for index, joined in work:
        segment = segments[index]
        if joined is None:  # this process's share (or a helper's that failed): hashed here, streamed on at once
            ranked = zip(segment, _draw_tiers(seed, segment, csv=False), strict=True)
            by_segment[index] = [emit(t, keys, csv) for t, (keys, csv) in ranked]
            continue
        start = 0
        end = 64 * sum(len(t.lines) for t in segment)
        csv = joined[end:]
        out = by_segment[index] = []
        for position, t in enumerate(segment):
            count = len(t.lines)
            keys = [joined[i : i + 64] for i in range(start, start + 64 * count, 64)]
            start += 64 * count
            # the segment's CSV is handed over whole with its last tier (the parts are only ever joined)
            out.append(emit(t, keys, csv if position == len(segment) - 1 else b""))
    done = [pair for index in range(len(segments)) for pair in by_segment[index]]
    return Drawn([tier for tier, _ in done], csv_parts=[csv for _, csv in done])


@bulk
def draw(entries: Iterable[Entry], quotas: Mapping[str, int], seed: bytes) -> list[ResultRow]:
    """Section 5: every entry's ticket, rank and outcome, ordered by stratum (as a string) then rank."""
    if not seed:
        raise LotteryError("seed_invalid", "the seed must not be empty")
    checked = list(entries)
    check_entries(checked)
    return list(draw_lines([e.row.encode() for e in checked], checked_quotas(quotas), seed).rows())


@bulk
def results_csv(rows: Iterable[ResultRow]) -> bytes:
    """``results.csv``: header, rows by stratum then rank, LF line endings, trailing newline."""
    ordered = sorted(rows, key=operator.itemgetter(0, 2))
    lines = [f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]}" for r in ordered]
    return "\n".join([RESULTS_HEADER, *lines, ""]).encode()

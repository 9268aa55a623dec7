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
from typing import NamedTuple

from prakerja.lottery.commitment import checked_quotas
from prakerja.lottery.entries import Entry, bulk, check_entries
from prakerja.lottery.errors import LotteryError

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
        longest = max((t.first_rank - 1 + len(t.keys) for t in self.tiers), default=0)
        ranks = [b"%d," % rank for rank in range(1, longest + 1)]
        parts = [RESULTS_HEADER.encode() + b"\n"]
        comma, chain, repeat = b",", itertools.chain.from_iterable, itertools.repeat
        for t in self.tiers:
            head = f"{t.stratum},{t.tier},".encode()
            # "ticket,entry_hash,ticket,entry_hash,..." in hex, split into the two columns
            fields = binascii.hexlify(b"".join(t.keys), b",", 32).split(b",")
            tickets, hashes = fields[0::2], fields[1::2]
            start = t.first_rank - 1
            for low, high, outcome in ((0, t.selected, SELECTED), (t.selected, len(t.keys), WAITLIST)):
                tail = f",{outcome},{t.probability}\n".encode()
                pieces = zip(
                    repeat(head),
                    ranks[start + low : start + high],
                    hashes[low:high],
                    repeat(comma),
                    tickets[low:high],
                    repeat(tail),
                    strict=False,
                )
                parts.append(b"".join(chain(pieces)))
        return b"".join(parts)


def _tickets(mac: hmac.HMAC, messages: list[bytes]) -> list[bytes]:
    """HMAC-SHA256 of each message under one key: copies of a keyed state (the standard library's way to
    reuse a key) instead of keying each message again."""
    copy = mac.copy
    tickets: list[bytes] = []
    append = tickets.append
    for message in messages:
        state = copy()
        state.update(message)
        append(state.digest())
    return tickets


def draw_lines(
    lines: Sequence[bytes],
    quotas: Mapping[str, int],
    seed: bytes,
    on_tier: Callable[[TierDraw], object] | None = None,
) -> Drawn:
    """Section 5 over checked ``eligible.csv`` rows (``entry_hash,stratum,tier`` as bytes); ``on_tier`` sees each
    tier as soon as it is ranked (e.g. to stream it into the database while the next one is drawn)."""
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
    mac = hmac.new(seed, digestmod=hashlib.sha256)
    unhex = binascii.unhexlify
    tiers: list[TierDraw] = []
    for stratum in sorted(by_stratum):
        in_stratum = sorted(by_stratum[stratum], key=operator.itemgetter(0))
        quota = quotas.get(stratum, 0)
        chosen = min(quota, sum(len(members) for _, members in in_stratum))
        above = 0
        for tier, members in in_stratum:
            hashes = [unhex(line[:64]) for line in members]
            tickets = _tickets(mac, hashes)
            keys = list(map(bytes.__add__, tickets, hashes))
            keys.sort()
            count = len(keys)
            selected = max(0, min(count, chosen - above))
            drawn = TierDraw(stratum, tier, above + 1, selected, probability(quota, above, count), keys)
            tiers.append(drawn)
            if on_tier is not None:
                on_tier(drawn)
            above += count
    return Drawn(tiers)


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

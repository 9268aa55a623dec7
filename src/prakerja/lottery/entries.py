"""Contract section 1 and ``eligible.csv``'s rows: entry secrets and hashes, the eligible list, checked and in
file order. Pure: no database, settings or clock."""

from __future__ import annotations

import gc
import hashlib
import operator
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from prakerja.lottery.errors import LotteryError

ELIGIBLE_HEADER = "entry_hash,stratum,tier"
MAX_JSON_INT = 2**53 - 1
"""RFC 8785 numbers are IEEE doubles: larger integers cannot be written canonically."""

_ENTRY_PREFIX = b"prakerja/entry/v1\x00"
HASH_RE = re.compile(r"[0-9a-f]{64}")
_STRATUM_RE = re.compile(r"[0-9]+")
_HEX_DIGITS_RE = re.compile(r"[0-9a-f]*")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def bulk(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Pauses the cyclic garbage collector: a million-entry draw allocates millions of acyclic tuples, and
    the collections they trigger would otherwise cost more than the draw itself."""

    @wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


def new_entry_secret() -> bytes:
    """The 32 random bytes shown only to the applicant."""
    return secrets.token_bytes(32)


def entry_hash(wave_id: str, entry_secret: bytes) -> str:
    """Section 1: the public, anonymous name of an entry, as lowercase hex."""
    if len(entry_secret) != 32:
        raise LotteryError("entry_secret_invalid", "an entry secret is exactly 32 bytes")
    return hashlib.sha256(_ENTRY_PREFIX + wave_id.encode() + b"\x00" + entry_secret).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of ``eligible.csv``."""

    entry_hash: str
    stratum: str
    tier: int

    @property
    def row(self) -> str:
        """The CSV row without its newline, which is also the Merkle leaf input."""
        return f"{self.entry_hash},{self.stratum},{self.tier}"


def is_stratum(code: object) -> bool:
    """Digits only (ASCII), at least one."""
    return isinstance(code, str) and _STRATUM_RE.fullmatch(code) is not None


def is_count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_JSON_INT


def check_entries(entries: Sequence[Entry]) -> None:
    hashes = [e.entry_hash for e in entries]
    uniform = not hashes or (set(map(type, hashes)) == {str} and set(map(len, hashes)) == {64})
    if not uniform or _HEX_DIGITS_RE.fullmatch("".join(hashes)) is None:
        bad = next(h for h in hashes if not isinstance(h, str) or HASH_RE.fullmatch(h) is None)
        raise LotteryError("entry_hash_invalid", f"entry_hash must be 64 lowercase hex digits: {bad!r}")
    for stratum in {e.stratum for e in entries}:
        if not is_stratum(stratum):
            raise LotteryError("stratum_invalid", f"stratum must be digits only: {stratum!r}")
    tiers = [e.tier for e in entries]
    if tiers and (set(map(type, tiers)) != {int} or min(tiers) < 0 or max(tiers) > MAX_JSON_INT):
        bad_tier = next(t for t in tiers if not is_count(t))
        raise LotteryError("tier_invalid", f"tier must be an integer >= 0: {bad_tier!r}")
    if len(set(hashes)) != len(hashes):
        twice = next(h for h, n in Counter(hashes).items() if n > 1)
        raise LotteryError("entry_duplicate", f"entry_hash appears twice: {twice}")


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """The entries in file order, refusing anything the contract cannot publish."""
    checked = list(entries)
    check_entries(checked)
    return sorted(checked, key=operator.attrgetter("entry_hash"))


def _eligible_bytes(ordered: Iterable[Entry]) -> bytes:
    return "\n".join([ELIGIBLE_HEADER, *(e.row for e in ordered), ""]).encode()


def eligible_csv(entries: Iterable[Entry]) -> bytes:
    """``eligible.csv``: header, rows sorted by entry_hash, LF line endings, trailing newline."""
    return _eligible_bytes(sorted_entries(entries))


_HEX_AND_COMMA = b"0123456789abcdef,"
_SUFFIX_RE = re.compile(rb"[0-9]+,(?:0|[1-9][0-9]*)")


def split_rows(body: bytes) -> tuple[list[bytes], list[bytes]] | None:
    """``eligible.csv``'s rows and their first 65 bytes (entry hash and comma), when every row is
    ``entry_hash,stratum,tier`` in canonical form (as ``_ROW_RE``); None otherwise. A regular expression over the
    whole body costs about a microsecond a row: here the hash columns are checked in one pass over their bytes and
    the few distinct ``stratum,tier`` endings one by one."""
    if not body:
        return [], []
    if not body.endswith(b"\n"):
        return None
    lines = body.split(b"\n")
    lines.pop()
    if not all(_SUFFIX_RE.fullmatch(suffix) for suffix in {line[65:] for line in lines}):
        return None  # also every row shorter than a hash and a comma: its ending is empty
    heads = [line[:65] for line in lines]
    joined = b"".join(heads)
    well_formed = (
        len(joined) == 65 * len(lines)
        and joined[64::65] == b"," * len(lines)
        and joined.count(b",") == len(lines)
        and not joined.translate(None, _HEX_AND_COMMA)
    )
    return (lines, heads) if well_formed else None


def rows_in_order(lines: Sequence[bytes]) -> bool:
    """Whether every row is ``entry_hash,stratum,tier`` in canonical form (as :func:`split_rows` checks) and the
    rows are in strictly increasing entry_hash order: what :func:`checked_rows` accepts without change, checked on
    any run of consecutive rows (a helper process checks the rows it hashes; the runs' edges are compared apart)."""
    if not all(_SUFFIX_RE.fullmatch(suffix) for suffix in {line[65:] for line in lines}):
        return False
    heads = [line[:65] for line in lines]
    joined = b"".join(heads)
    return (
        len(joined) == 65 * len(lines)
        and joined[64::65] == b"," * len(lines)
        and joined.count(b",") == len(lines)
        and not joined.translate(None, _HEX_AND_COMMA)
        and all(map(operator.lt, heads, heads[1:]))
    )


def eligible_lines(body: bytes) -> list[bytes]:
    """The rows of an eligible list given as ``eligible.csv``'s body (rows ending in LF, no header), checked
    and in file order: the fast path for millions of rows that are already text (e.g. straight from the
    database), refusing what :func:`sorted_entries` refuses, with the same error codes."""
    return checked_rows(body)[0]


def checked_rows(body: bytes) -> tuple[list[bytes], bytes]:
    """:func:`eligible_lines` and the body in file order: ``body`` itself when its rows already were (no copy),
    else the sorted rows joined again."""
    split = split_rows(body)
    if split is None:
        text = body.decode(errors="replace")
        entries = []
        for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
            fields = line.split(",")
            if len(fields) != 3:
                raise LotteryError("eligible_malformed", f"an eligible row is not entry_hash,stratum,tier: {line!r}")
            tier: object = int(fields[2]) if fields[2].isascii() and fields[2].isdigit() else fields[2]
            entries.append(Entry(fields[0], fields[1], tier))  # type: ignore[arg-type]
        check_entries(entries)
        raise LotteryError("eligible_malformed", "an eligible row is not in canonical form (e.g. a tier like 01)")
    lines, heads = split
    if not all(map(operator.lt, heads, heads[1:])):
        hashes = [head[:64] for head in heads]
        if len(set(hashes)) != len(hashes):
            twice = next(h for h, n in Counter(hashes).items() if n > 1)
            raise LotteryError("entry_duplicate", f"entry_hash appears twice: {twice.decode()}")
        lines.sort()  # distinct 64-digit prefixes: the whole row sorts like its entry_hash
        return lines, b"".join([b"\n".join(lines), b"\n"])
    return lines, body

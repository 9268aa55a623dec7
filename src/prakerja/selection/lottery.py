"""The publicly verifiable lottery, ``prakerja-lottery-v1`` (contract: ``shared/contracts/lottery.md``).

Pure functions over plain data and a folder of published files: entry hashes, the eligible list and its
RFC 6962 Merkle tree, the signed commitment, the draw, and the verifier an outsider can run. No database,
no settings, no clock: callers pass keys, times and seeds in.
"""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import hmac
import itertools
import json
import operator
import os
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prakerja.selection.phases import phase

ALGORITHM = "prakerja-lottery-v1"
ELIGIBLE_HEADER = "entry_hash,stratum,tier"
RESULTS_HEADER = "stratum,tier,rank,entry_hash,ticket,outcome,probability"
SELECTED = "selected"
WAITLIST = "waitlist"
MAX_JSON_INT = 2**53 - 1
"""RFC 8785 numbers are IEEE doubles: larger integers cannot be written canonically."""

ELIGIBLE_FILE = "eligible.csv"
COMMITMENT_FILE = "commitment.json"
SIGNATURE_FILE = "commitment.sig"
PUBLIC_KEY_FILE = "public-key.pem"
SEED_FILE = "seed.json"
RESULTS_FILE = "results.csv"

_ENTRY_PREFIX = b"prakerja/entry/v1\x00"
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_STRATUM_RE = re.compile(r"[0-9]+")
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
_HEX_DIGITS_RE = re.compile(r"[0-9a-f]*")
_ROW_RE = re.compile(rb"[0-9a-f]{64},[0-9]+,(?:0|[1-9][0-9]*)")
_SIGNATURE_RE = re.compile(rb"[A-Za-z0-9+/]{86}==\n")
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_COMMITMENT_KEYS = frozenset(
    {"algorithm", "wave_id", "scheme", "strata", "eligible_count", "merkle_root", "randomness", "committed_at"}
)
_PROOF_KEYS = frozenset({"wave_id", "entry_secret", "leaf_index", "tree_size", "audit_path", "stratum", "tier"})

_P = ParamSpec("_P")
_R = TypeVar("_R")


class LotteryError(ValueError):
    """Input the contract cannot represent, or a published folder that fails a check; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _bulk(function: Callable[_P, _R]) -> Callable[_P, _R]:
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


# ---------------------------------------------------------------------------------------------------- entries


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


def _is_count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_JSON_INT


def _check_entries(entries: Sequence[Entry]) -> None:
    hashes = [e.entry_hash for e in entries]
    uniform = not hashes or (set(map(type, hashes)) == {str} and set(map(len, hashes)) == {64})
    if not uniform or _HEX_DIGITS_RE.fullmatch("".join(hashes)) is None:
        bad = next(h for h in hashes if not isinstance(h, str) or _HASH_RE.fullmatch(h) is None)
        raise LotteryError("entry_hash_invalid", f"entry_hash must be 64 lowercase hex digits: {bad!r}")
    for stratum in {e.stratum for e in entries}:
        if not is_stratum(stratum):
            raise LotteryError("stratum_invalid", f"stratum must be digits only: {stratum!r}")
    tiers = [e.tier for e in entries]
    if tiers and (set(map(type, tiers)) != {int} or min(tiers) < 0 or max(tiers) > MAX_JSON_INT):
        bad_tier = next(t for t in tiers if not _is_count(t))
        raise LotteryError("tier_invalid", f"tier must be an integer >= 0: {bad_tier!r}")
    if len(set(hashes)) != len(hashes):
        twice = next(h for h, n in Counter(hashes).items() if n > 1)
        raise LotteryError("entry_duplicate", f"entry_hash appears twice: {twice}")


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """The entries in file order, refusing anything the contract cannot publish."""
    checked = list(entries)
    _check_entries(checked)
    return sorted(checked, key=operator.attrgetter("entry_hash"))


def _eligible_bytes(ordered: Iterable[Entry]) -> bytes:
    return "\n".join([ELIGIBLE_HEADER, *(e.row for e in ordered), ""]).encode()


def eligible_csv(entries: Iterable[Entry]) -> bytes:
    """``eligible.csv``: header, rows sorted by entry_hash, LF line endings, trailing newline."""
    return _eligible_bytes(sorted_entries(entries))


def leaves_of(entries: Iterable[Entry]) -> list[bytes]:
    """Merkle leaf inputs in file order."""
    return [e.row.encode() for e in sorted_entries(entries)]


_HEX_AND_COMMA = b"0123456789abcdef,"
_SUFFIX_RE = re.compile(rb"[0-9]+,(?:0|[1-9][0-9]*)")


def _split_rows(body: bytes) -> tuple[list[bytes], list[bytes]] | None:
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


def eligible_lines(body: bytes) -> list[bytes]:
    """The rows of an eligible list given as ``eligible.csv``'s body (rows ending in LF, no header), checked
    and in file order: the fast path for millions of rows that are already text (e.g. straight from the
    database), refusing what :func:`sorted_entries` refuses, with the same error codes."""
    split = _split_rows(body)
    if split is None:
        text = body.decode(errors="replace")
        entries = []
        for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
            fields = line.split(",")
            if len(fields) != 3:
                raise LotteryError("eligible_malformed", f"an eligible row is not entry_hash,stratum,tier: {line!r}")
            tier: object = int(fields[2]) if fields[2].isdigit() else fields[2]
            entries.append(Entry(fields[0], fields[1], tier))  # type: ignore[arg-type]
        _check_entries(entries)
        raise LotteryError("eligible_malformed", "an eligible row is not in canonical form (e.g. a tier like 01)")
    lines, heads = split
    if not all(map(operator.lt, heads, heads[1:])):
        hashes = [head[:64] for head in heads]
        if len(set(hashes)) != len(hashes):
            twice = next(h for h, n in Counter(hashes).items() if n > 1)
            raise LotteryError("entry_duplicate", f"entry_hash appears twice: {twice.decode()}")
        lines.sort()  # distinct 64-digit prefixes: the whole row sorts like its entry_hash
    return lines


# ---------------------------------------------------------------------------------------------- Merkle tree


def _leaf_level(leaves: Iterable[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    return [sha(b"\x00" + leaf).digest() for leaf in leaves]


def _parent_level(level: list[bytes]) -> list[bytes]:
    """Pairs left to right; an odd last node moves up unchanged, which is RFC 6962's split at the largest
    power of two below n, computed bottom-up."""
    sha = hashlib.sha256
    pairs = iter(level)
    parents = [sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


class MerkleTree:
    """Every level of the tree, kept so that many audit paths cost O(log n) each."""

    def __init__(self, leaves: Iterable[bytes]) -> None:
        self.levels: list[list[bytes]] = [_leaf_level(leaves)]
        while len(self.levels[-1]) > 1:
            self.levels.append(_parent_level(self.levels[-1]))

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.size else hashlib.sha256().digest()

    def path(self, index: int) -> list[bytes]:
        """RFC 6962 audit path of leaf ``index``, from the leaf's sibling up to the root's child."""
        if not 0 <= index < self.size:
            raise LotteryError("leaf_index_invalid", f"leaf index {index} is outside a tree of {self.size}")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash of the leaf inputs (not yet hashed)."""
    level = _leaf_level(leaves)
    if not level:
        return hashlib.sha256().digest()
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def audit_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path for leaf ``index``; build a :class:`MerkleTree` once for many paths."""
    return MerkleTree(leaves).path(index)


def root_from_path(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes]) -> bytes:
    """The root an audit path leads to from a leaf input (RFC 9162 section 2.1.3.2); raises
    :class:`LotteryError` when the path cannot belong to a tree of that size."""
    if not 0 <= index < tree_size:
        raise LotteryError("proof_path_invalid", f"leaf index {index} is outside a tree of {tree_size}")
    sha = hashlib.sha256
    node, last = index, tree_size - 1
    digest = sha(b"\x00" + leaf).digest()
    for sibling in path:
        if len(sibling) != 32 or last == 0:
            raise LotteryError("proof_path_invalid", "the audit path does not fit the tree size")
        if node % 2 == 1 or node == last:
            digest = sha(b"\x01" + sibling + digest).digest()
            while node % 2 == 0 and node != 0:
                node >>= 1
                last >>= 1
        else:
            digest = sha(b"\x01" + digest + sibling).digest()
        node >>= 1
        last >>= 1
    if last != 0:
        raise LotteryError("proof_path_invalid", "the audit path is too short for the tree size")
    return digest


# ----------------------------------------------------------------------------------------------- commitment


def format_timestamp(moment: datetime) -> str:
    """RFC 3339, UTC, whole seconds (truncated), ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LotteryError("timestamp_invalid", "committed_at must carry a time zone")
    t = moment.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _checked_quotas(quotas: Mapping[str, int]) -> dict[str, int]:
    for code, quota in quotas.items():
        if not is_stratum(code):
            raise LotteryError("stratum_invalid", f"stratum must be digits only: {code!r}")
        if not _is_count(quota):
            raise LotteryError("quota_invalid", f"quota of stratum {code} must be an integer >= 0: {quota!r}")
    return dict(quotas)


def commitment_json(
    *,
    wave_id: str,
    scheme: str,
    quotas: Mapping[str, int],
    eligible_count: int,
    merkle_root: bytes,
    randomness_source: str,
    randomness_reference: str,
    committed_at: datetime,
) -> bytes:
    """Section 3, canonicalised with RFC 8785 (no trailing newline: any extra byte breaks canonical form)."""
    if len(merkle_root) != 32:
        raise LotteryError("merkle_root_invalid", "merkle_root is a 32-byte SHA-256 value")
    if not _is_count(eligible_count):
        raise LotteryError("eligible_count_invalid", "eligible_count must be an integer >= 0")
    checked = _checked_quotas(quotas)
    document: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "wave_id": wave_id,
        "scheme": scheme,
        "strata": [{"code": code, "quota": checked[code]} for code in sorted(checked)],
        "eligible_count": eligible_count,
        "merkle_root": merkle_root.hex(),
        "randomness": {"source": randomness_source, "reference": randomness_reference},
        "committed_at": format_timestamp(committed_at),
    }
    return rfc8785.dumps(document)


def signature_file(commitment: bytes, key: Ed25519PrivateKey) -> bytes:
    """``commitment.sig``: standard padded base64 of the Ed25519 signature, one line ending in LF."""
    return base64.b64encode(key.sign(commitment)) + b"\n"


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    """``public-key.pem``: SubjectPublicKeyInfo PEM."""
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------------------------------------------- draw


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
        with phase("draw: results.csv bytes"):
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


def _draw_lines(
    lines: Sequence[bytes],
    quotas: Mapping[str, int],
    seed: bytes,
    on_tier: Callable[[TierDraw], object] | None = None,
) -> Drawn:
    """Section 5 over checked ``eligible.csv`` rows (``entry_hash,stratum,tier`` as bytes); ``on_tier`` sees each
    tier as soon as it is ranked (e.g. to stream it into the database while the next one is drawn)."""
    with phase("draw: group by stratum and tier"):
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
            with phase("draw: tickets (HMAC-SHA256)"):
                hashes = [unhex(line[:64]) for line in members]
                tickets = _tickets(mac, hashes)
            with phase("draw: rank (sort)"):
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


@_bulk
def draw(entries: Iterable[Entry], quotas: Mapping[str, int], seed: bytes) -> list[ResultRow]:
    """Section 5: every entry's ticket, rank and outcome, ordered by stratum (as a string) then rank."""
    if not seed:
        raise LotteryError("seed_invalid", "the seed must not be empty")
    checked = list(entries)
    _check_entries(checked)
    return list(_draw_lines([e.row.encode() for e in checked], _checked_quotas(quotas), seed).rows())


@_bulk
def results_csv(rows: Iterable[ResultRow]) -> bytes:
    """``results.csv``: header, rows by stratum then rank, LF line endings, trailing newline."""
    ordered = sorted(rows, key=operator.itemgetter(0, 2))
    lines = [f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]}" for r in ordered]
    return "\n".join([RESULTS_HEADER, *lines, ""]).encode()


def seed_json(reference: str, value_hex: str) -> bytes:
    """``seed.json``, canonicalised with RFC 8785 like the commitment."""
    return rfc8785.dumps({"reference": reference, "value": value_hex})


# ------------------------------------------------------------------------------------------------ proofs


def proof_for(
    tree: MerkleTree | Sequence[bytes],
    index: int,
    *,
    wave_id: str,
    entry_secret: bytes,
    stratum: str,
    tier: int,
) -> dict[str, Any]:
    """An applicant's proof file (section 6) for the leaf at ``index`` of the eligible list."""
    tree = tree if isinstance(tree, MerkleTree) else MerkleTree(tree)
    leaf = Entry(entry_hash(wave_id, entry_secret), stratum, tier).row.encode()
    path = tree.path(index)
    if root_from_path(leaf, index, tree.size, path) != tree.root:
        raise LotteryError("proof_leaf_mismatch", f"leaf {index} is not this entry")
    return {
        "wave_id": wave_id,
        "entry_secret": entry_secret.hex(),
        "leaf_index": index,
        "tree_size": tree.size,
        "audit_path": [p.hex() for p in path],
        "stratum": stratum,
        "tier": tier,
    }


def proof_json(proof: Mapping[str, Any]) -> bytes:
    """A proof file's bytes (RFC 8785, so the same proof is always the same file)."""
    return rfc8785.dumps(dict(proof))


# -------------------------------------------------------------------------------------------- publishing


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Commitment:
    """What :func:`write_commitment_files` published; ``tree`` serves the applicants' proofs."""

    commitment: bytes
    signature: bytes
    merkle_root: str
    eligible_count: int
    eligible_sha256: str
    """SHA-256 of ``eligible.csv``: lets the draw check the file is still the committed one without
    recomputing the Merkle tree."""
    leaves: Sequence[bytes] = field(repr=False)

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree(self.leaves)


@_bulk
def write_commitment_files(
    folder: Path,
    *,
    entries: Iterable[Entry] = (),
    eligible_rows: bytes | None = None,
    wave_id: str,
    scheme: str,
    quotas: Mapping[str, int],
    randomness_source: str,
    randomness_reference: str,
    committed_at: datetime,
    signing_key: Ed25519PrivateKey,
) -> Commitment:
    """Writes ``eligible.csv``, ``commitment.json``, ``commitment.sig`` and ``public-key.pem``.

    The eligible list is either ``entries`` or, for millions of entries, ``eligible_rows``: ``eligible.csv``'s
    body as bytes (``entry_hash,stratum,tier`` rows ending in LF), checked by :func:`eligible_lines`."""
    with phase("commit: check eligible rows"):
        if eligible_rows is not None:
            lines = eligible_lines(eligible_rows)
        else:
            lines = [e.row.encode() for e in sorted_entries(entries)]
        eligible = b"\n".join([ELIGIBLE_HEADER.encode(), *lines, b""])
    with phase("commit: Merkle tree"):
        root = merkle_root(lines)
    commitment = commitment_json(
        wave_id=wave_id,
        scheme=scheme,
        quotas=quotas,
        eligible_count=len(lines),
        merkle_root=root,
        randomness_source=randomness_source,
        randomness_reference=randomness_reference,
        committed_at=committed_at,
    )
    with phase("commit: sign and write the files"):
        signature = signature_file(commitment, signing_key)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / ELIGIBLE_FILE, eligible)
        _write_atomic(folder / COMMITMENT_FILE, commitment)
        _write_atomic(folder / SIGNATURE_FILE, signature)
        _write_atomic(folder / PUBLIC_KEY_FILE, public_key_pem(signing_key))
        digest = hashlib.sha256(eligible).hexdigest()
    return Commitment(commitment, signature, root.hex(), len(lines), digest, lines)


@_bulk
def write_draw_files(
    folder: Path,
    seed_reference: str,
    seed_value_hex: str,
    *,
    eligible_sha256: str | None = None,
    commitment_sha256: str | None = None,
    on_tier: Callable[[TierDraw], object] | None = None,
) -> Drawn:
    """Draws from the folder's own published commitment and writes ``seed.json`` and ``results.csv``.

    The folder is verified first (signature, canonical form, eligible list and Merkle root, seed reference),
    so the draw can only use the eligible set and quotas that were committed. ``eligible_sha256``, the digest
    :func:`write_commitment_files` returned (kept by the caller since), stands in for recomputing the Merkle
    root: a file with that digest is the one whose root was committed (and whose rows were checked then);
    ``commitment_sha256``, when given, pins ``commitment.json`` to the one the caller recorded.
    ``on_tier`` sees each tier of the draw as soon as it is ranked. Running it again with the same seed rewrites
    the same bytes; a different seed after one is published is refused."""
    seed = seed_json(seed_reference, seed_value_hex)
    existing = folder / SEED_FILE
    if existing.exists() and existing.read_bytes() != seed:
        raise LotteryError("already_drawn", "a different seed is already published for this wave")
    published = _load(folder, [], seed_file=seed, eligible_sha256=eligible_sha256, commitment_sha256=commitment_sha256)
    drawn = _draw_lines(published.entries, published.quotas, bytes.fromhex(seed_value_hex), on_tier)
    results = drawn.results_csv
    with phase("draw: write seed.json and results.csv"):
        _write_atomic(folder / SEED_FILE, seed)
        _write_atomic(folder / RESULTS_FILE, results)
    return drawn


# ---------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class ProofReport:
    """What an applicant's proof shows: the entry is in the committed list, and how the draw treated it."""

    entry_hash: str
    leaf_index: int
    stratum: str
    tier: int
    ticket: str | None = None
    rank: int | None = None
    outcome: str | None = None
    probability: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    """Section 6's verdict: ``code`` names the first failed check (``None`` when every check passed)."""

    ok: bool
    code: str | None
    message: str
    passed: tuple[str, ...] = ()
    drawn: bool = False
    proof: ProofReport | None = None


@dataclass(frozen=True)
class _Published:
    commitment: dict[str, Any]
    entries: list[bytes]
    """``eligible.csv``'s rows, checked."""
    quotas: dict[str, int]
    seed: bytes | None


def _read(path: Path, code: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LotteryError(f"{code}_missing", f"{path.name} is missing") from None
    except OSError as exc:
        raise LotteryError(f"{code}_unreadable", f"{path.name} cannot be read ({exc.strerror})") from None


def _raw_key(key: bytes | Ed25519PublicKey) -> bytes:
    if isinstance(key, bytes):
        try:
            loaded = serialization.load_pem_public_key(key)
        except (ValueError, TypeError):
            loaded = None
        if not isinstance(loaded, Ed25519PublicKey):
            raise LotteryError("public_key_malformed", "the pinned public key is not an Ed25519 PEM key")
        key = loaded
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_signature(commitment: bytes, signature: bytes, pem: bytes, pinned: bytes | None) -> None:
    raw = base64.b64decode(signature[:-1]) if _SIGNATURE_RE.fullmatch(signature) else b""
    if base64.b64encode(raw) + b"\n" != signature:
        raise LotteryError("signature_malformed", "commitment.sig must be one line of base64 (64 bytes) ending in LF")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise LotteryError("public_key_malformed", f"public-key.pem cannot be read: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise LotteryError("public_key_malformed", "public-key.pem is not an Ed25519 public key")
    if pinned is not None and _raw_key(pinned) != _raw_key(key):
        raise LotteryError("public_key_mismatch", "public-key.pem is not the program's published key")
    try:
        key.verify(raw, commitment)
    except InvalidSignature:
        raise LotteryError("bad_signature", "commitment.sig is not a valid signature of commitment.json") from None


def _canonical_document(commitment: bytes) -> Any:
    try:
        document = json.loads(commitment)
        canonical = rfc8785.dumps(document)
    except (ValueError, RecursionError, rfc8785.CanonicalizationError) as exc:
        raise LotteryError("not_canonical", f"commitment.json is not canonical JSON: {exc}") from None
    if canonical != commitment:
        raise LotteryError("not_canonical", "commitment.json is not in RFC 8785 canonical form")
    return document


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str) or _TIMESTAMP_RE.fullmatch(value) is None:
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _commitment_fields(document: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """Checks section 3's members and types; returns the document and its quotas."""

    def invalid(why: str) -> LotteryError:
        return LotteryError("commitment_invalid", f"commitment.json: {why}")

    if not isinstance(document, dict) or set(document) != _COMMITMENT_KEYS:
        raise invalid(f"members must be exactly {', '.join(sorted(_COMMITMENT_KEYS))}")
    if document["algorithm"] != ALGORITHM:
        raise LotteryError("unsupported_algorithm", f"algorithm {document['algorithm']!r} is not {ALGORITHM}")
    if not isinstance(document["wave_id"], str) or not isinstance(document["scheme"], str):
        raise invalid("wave_id and scheme must be strings")
    strata = document["strata"]
    if not isinstance(strata, list) or not all(isinstance(s, dict) and set(s) == {"code", "quota"} for s in strata):
        raise invalid('strata must be an array of {"code", "quota"} objects')
    if not all(is_stratum(s["code"]) and _is_count(s["quota"]) for s in strata):
        raise invalid("each stratum code is digits only and each quota an integer >= 0")
    if any(a["code"] >= b["code"] for a, b in itertools.pairwise(strata)):
        raise invalid("strata must be sorted by code, without repeats")
    if not _is_count(document["eligible_count"]):
        raise invalid("eligible_count must be an integer >= 0")
    if not isinstance(document["merkle_root"], str) or _HASH_RE.fullmatch(document["merkle_root"]) is None:
        raise invalid("merkle_root must be 64 lowercase hex digits")
    randomness = document["randomness"]
    if not isinstance(randomness, dict) or set(randomness) != {"source", "reference"}:
        raise invalid('randomness must be {"source", "reference"}')
    if not all(isinstance(v, str) for v in randomness.values()):
        raise invalid("randomness source and reference must be strings")
    if not _is_timestamp(document["committed_at"]):
        raise invalid("committed_at must be an RFC 3339 UTC time in whole seconds ending in Z")
    return document, {s["code"]: s["quota"] for s in strata}


def _check_eligible(raw: bytes, document: Mapping[str, Any], digest: str | None = None) -> list[bytes]:
    header = ELIGIBLE_HEADER.encode() + b"\n"
    if not raw.startswith(header):
        raise LotteryError("eligible_malformed", "eligible.csv must start with the line entry_hash,stratum,tier")
    body = raw[len(header) :]
    if digest is not None and hashlib.sha256(raw).hexdigest() == digest:
        # the very bytes whose rows were checked and whose Merkle root was computed at commitment
        lines = body.split(b"\n")
        lines.pop()
        if len(lines) != document["eligible_count"]:
            count = document["eligible_count"]
            raise LotteryError("eligible_count_mismatch", f"eligible.csv has {len(lines)} rows, the commitment {count}")
        return lines
    with phase("verify: eligible.csv rows"):
        split = _split_rows(body)
        if split is None:
            lines = body.split(b"\n")
            number = (
                next((n for n, line in enumerate(lines[:-1], 2) if _ROW_RE.fullmatch(line) is None), 0)
                if lines[-1] == b""
                else 0
            )
            where = f"line {number} is not entry_hash,stratum,tier" if number else "does not end with a newline"
            raise LotteryError("eligible_malformed", f"eligible.csv {where}")
        lines, heads = split
        if not all(map(operator.lt, heads, heads[1:])):
            hashes = [line[:64] for line in lines]
            if any(map(operator.gt, hashes, hashes[1:])):
                number = next(n for n, pair in enumerate(itertools.pairwise(hashes), 3) if pair[0] > pair[1])
                raise LotteryError("eligible_not_sorted", f"eligible.csv line {number} is out of entry_hash order")
            number = next(n for n, pair in enumerate(itertools.pairwise(hashes), 3) if pair[0] == pair[1])
            raise LotteryError("eligible_duplicate", f"eligible.csv line {number} repeats the entry_hash above it")
    if len(lines) != document["eligible_count"]:
        count = document["eligible_count"]
        raise LotteryError("eligible_count_mismatch", f"eligible.csv has {len(lines)} rows, the commitment {count}")
    with phase("verify: Merkle root"):
        if merkle_root(lines).hex() != document["merkle_root"]:
            raise LotteryError("merkle_root_mismatch", "the Merkle root of eligible.csv differs from the commitment's")
    if digest is not None:
        raise LotteryError("eligible_changed", "eligible.csv is not the file the commitment was computed from")
    return lines


def _seed_value(raw: bytes, document: Mapping[str, Any]) -> bytes:
    try:
        seed = json.loads(raw)
    except (ValueError, RecursionError):
        seed = None
    if not isinstance(seed, dict) or not isinstance(seed.get("reference"), str):
        raise LotteryError("seed_malformed", 'seed.json must be {"reference": "...", "value": "<hex>"}')
    value = seed.get("value")
    if not isinstance(value, str) or _HEX_RE.fullmatch(value) is None:
        raise LotteryError("seed_malformed", "seed.json's value must be non-empty lowercase hex")
    if seed["reference"] != document["randomness"]["reference"]:
        raise LotteryError("seed_reference_mismatch", "seed.json's reference is not the one the commitment named")
    return bytes.fromhex(value)


def _load(
    folder: Path,
    passed: list[str],
    *,
    seed_file: bytes | None = None,
    public_key: bytes | None = None,
    eligible_sha256: str | None = None,
    commitment_sha256: str | None = None,
) -> _Published:
    """Checks 1 to 3 of section 6, appending each passed check's name (``seed_file`` stands in for
    ``seed.json`` when drawing; a matching ``eligible_sha256`` for the Merkle root, see
    :func:`write_draw_files`)."""
    commitment = _read(folder / COMMITMENT_FILE, "commitment")
    if commitment_sha256 is not None and hashlib.sha256(commitment).hexdigest() != commitment_sha256:
        raise LotteryError("commitment_changed", "commitment.json is not the commitment that was recorded")
    signature = _read(folder / SIGNATURE_FILE, "signature")
    pem = _read(folder / PUBLIC_KEY_FILE, "public_key")
    _check_signature(commitment, signature, pem, public_key)
    passed.append("signature")
    document, quotas = _commitment_fields(_canonical_document(commitment))
    passed.append("canonical")
    entries = _check_eligible(_read(folder / ELIGIBLE_FILE, "eligible"), document, eligible_sha256)
    passed.append("eligible")
    if seed_file is None and (folder / SEED_FILE).exists():
        seed_file = _read(folder / SEED_FILE, "seed")
    value = _seed_value(seed_file, document) if seed_file is not None else None
    if value is not None:
        passed.append("seed_reference")
    return _Published(document, entries, quotas, value)


def _first_difference(expected: bytes, actual: bytes) -> str:
    ours, theirs = expected.split(b"\n"), actual.split(b"\n")
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), 1):
        if a != b:
            return f"line {number}: expected {a.decode(errors='replace')!r}, found {b.decode(errors='replace')!r}"
    return f"expected {len(ours) - 1} lines, found {len(theirs) - 1}"


def _check_results(folder: Path, published: _Published, require_draw: bool) -> Drawn | None:
    if published.seed is None:
        if require_draw or (folder / RESULTS_FILE).exists():
            raise LotteryError("seed_missing", "seed.json is missing")
        return None
    actual = _read(folder / RESULTS_FILE, "results")
    drawn = _draw_lines(published.entries, published.quotas, published.seed)
    expected = drawn.results_csv
    if actual != expected:
        difference = _first_difference(expected, actual)
        raise LotteryError("results_mismatch", f"results.csv is not what the draw produces ({difference})")
    return drawn


def _proof_entry(proof: Any) -> tuple[Entry, int, int, list[bytes]]:
    """The entry a proof file names, its leaf index, the tree size and the audit path."""
    if not isinstance(proof, dict) or not set(proof) >= _PROOF_KEYS:
        raise LotteryError("proof_malformed", f"the proof must be a JSON object with {', '.join(sorted(_PROOF_KEYS))}")
    secret, steps = proof["entry_secret"], proof["audit_path"]
    well_formed = (
        isinstance(proof["wave_id"], str)
        and isinstance(secret, str)
        and _HASH_RE.fullmatch(secret) is not None
        and _is_count(proof["leaf_index"])
        and _is_count(proof["tree_size"])
        and isinstance(steps, list)
        and all(isinstance(s, str) and _HASH_RE.fullmatch(s) for s in steps)
        and is_stratum(proof["stratum"])
        and _is_count(proof["tier"])
    )
    if not well_formed:
        raise LotteryError("proof_malformed", "the proof's members have the wrong types or encodings")
    entry = Entry(entry_hash(proof["wave_id"], bytes.fromhex(secret)), proof["stratum"], proof["tier"])
    return entry, proof["leaf_index"], proof["tree_size"], [bytes.fromhex(s) for s in steps]


def _check_proof(path: Path, published: _Published, drawn: Drawn | None) -> ProofReport:
    raw = _read(path, "proof")
    try:
        proof = json.loads(raw)
    except (ValueError, RecursionError):
        proof = None
    entry, index, size, steps = _proof_entry(proof)
    if proof["wave_id"] != published.commitment["wave_id"]:
        raise LotteryError("proof_wave_mismatch", "the proof is for another wave")
    if size != published.commitment["eligible_count"]:
        raise LotteryError("proof_tree_size_mismatch", "the proof's tree_size is not the commitment's eligible_count")
    try:
        root = root_from_path(entry.row.encode(), index, size, steps)
    except LotteryError as exc:
        raise LotteryError("proof_path_invalid", exc.message) from None
    if root.hex() != published.commitment["merkle_root"]:
        raise LotteryError("proof_root_mismatch", "the entry is not in the committed eligible list at that position")
    report = ProofReport(entry.entry_hash, index, entry.stratum, entry.tier)
    if drawn is None:
        return report
    row = drawn.row_of(entry.entry_hash)
    if row is None:
        raise LotteryError("proof_not_in_results", "the entry is in the eligible list but not in results.csv")
    return replace(report, ticket=row.ticket, rank=row.rank, outcome=row.outcome, probability=row.probability)


@_bulk
def verify_folder(
    folder: Path, proof: Path | None = None, *, public_key: bytes | None = None, require_draw: bool = False
) -> VerifyResult:
    """Section 6, in its order, stopping at the first failure.

    ``public_key`` pins the program's published PEM (otherwise the folder's own key is trusted). A folder with
    neither ``seed.json`` nor ``results.csv`` is a commitment awaiting its draw: it passes with
    ``drawn=False`` unless ``require_draw``."""
    passed: list[str] = []
    try:
        published = _load(folder, passed, public_key=public_key)
        rows = _check_results(folder, published, require_draw)
        if rows is not None:
            passed.append("results")
        report = _check_proof(proof, published, rows) if proof is not None else None
        if report is not None:
            passed.append("proof")
    except LotteryError as failure:
        return VerifyResult(False, failure.code, failure.message, tuple(passed))
    drawn = rows is not None
    message = "all checks passed" if drawn else "the commitment checks passed; the draw is not published yet"
    return VerifyResult(True, None, message, tuple(passed), drawn, report)

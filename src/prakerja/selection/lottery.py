"""The publicly verifiable lottery, ``prakerja-lottery-v1`` (contract: ``shared/contracts/lottery.md``).

Pure functions over plain data and a folder of published files: entry hashes, the eligible list and its
RFC 6962 Merkle tree, the signed commitment, the draw, and the verifier an outsider can run. No database,
no settings, no clock: callers pass keys, times and seeds in.
"""

from __future__ import annotations

import base64
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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
_ROWS_RE = re.compile(rb"(?:[0-9a-f]{64},[0-9]+,(?:0|[1-9][0-9]*)\n)*")
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


# ---------------------------------------------------------------------------------------------- Merkle tree


def _leaf_level(leaves: Iterable[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    return [sha(b"\x00" + leaf).digest() for leaf in leaves]


def _parent_level(level: list[bytes]) -> list[bytes]:
    """Pairs left to right; an odd last node moves up unchanged, which is RFC 6962's split at the largest
    power of two below n, computed bottom-up."""
    sha = hashlib.sha256
    parents = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
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


class _Columns(NamedTuple):
    """The eligible list column by column: the draw's loops then run in C (``map``, ``zip``, ``sort``)."""

    hashes: Sequence[str]
    strata: Sequence[str]
    tiers: Sequence[int]


def _draw_rows(columns: _Columns, quotas: Mapping[str, int], seed: bytes) -> list[ResultRow]:
    """The draw over checked columns."""
    digest, unhex = hmac.digest, bytes.fromhex
    tickets = [digest(seed, unhex(h), "sha256") for h in columns.hashes]
    groups: dict[str, list[tuple[int, bytes, str]]] = {}
    for stratum, key in zip(columns.strata, zip(columns.tiers, tickets, columns.hashes, strict=True), strict=True):
        group = groups.get(stratum)
        if group is None:
            groups[stratum] = [key]
        else:
            group.append(key)
    rows: list[ResultRow] = []
    for stratum in sorted(groups):
        members = groups[stratum]
        members.sort()
        tiers, ticks, hashes = zip(*members, strict=True)
        count, quota = len(members), quotas.get(stratum, 0)
        odds, above = {}, 0
        for tier, in_tier in sorted(Counter(tiers).items()):
            odds[tier] = probability(quota, above, in_tier)
            above += in_tier
        chosen = min(quota, count)
        outcomes = [SELECTED] * chosen + [WAITLIST] * (count - chosen)
        fields = zip(
            itertools.repeat(stratum),
            tiers,
            range(1, count + 1),
            hashes,
            map(bytes.hex, ticks),
            outcomes,
            map(odds.__getitem__, tiers),
            strict=False,
        )
        # tuple.__new__ builds each row in C; the NamedTuple constructor would be one Python call per row.
        rows.extend(map(tuple.__new__, itertools.repeat(ResultRow), fields))
    return rows


@_bulk
def draw(entries: Iterable[Entry], quotas: Mapping[str, int], seed: bytes) -> list[ResultRow]:
    """Section 5: every entry's ticket, rank and outcome, ordered by stratum (as a string) then rank."""
    if not seed:
        raise LotteryError("seed_invalid", "the seed must not be empty")
    checked = list(entries)
    _check_entries(checked)
    columns = _Columns([e.entry_hash for e in checked], [e.stratum for e in checked], [e.tier for e in checked])
    return _draw_rows(columns, _checked_quotas(quotas), seed)


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
    tree: MerkleTree = field(repr=False)


@_bulk
def write_commitment_files(
    folder: Path,
    *,
    entries: Iterable[Entry],
    wave_id: str,
    scheme: str,
    quotas: Mapping[str, int],
    randomness_source: str,
    randomness_reference: str,
    committed_at: datetime,
    signing_key: Ed25519PrivateKey,
) -> Commitment:
    """Writes ``eligible.csv``, ``commitment.json``, ``commitment.sig`` and ``public-key.pem``."""
    ordered = sorted_entries(entries)
    tree = MerkleTree(e.row.encode() for e in ordered)
    commitment = commitment_json(
        wave_id=wave_id,
        scheme=scheme,
        quotas=quotas,
        eligible_count=len(ordered),
        merkle_root=tree.root,
        randomness_source=randomness_source,
        randomness_reference=randomness_reference,
        committed_at=committed_at,
    )
    signature = signature_file(commitment, signing_key)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / ELIGIBLE_FILE, _eligible_bytes(ordered))
    _write_atomic(folder / COMMITMENT_FILE, commitment)
    _write_atomic(folder / SIGNATURE_FILE, signature)
    _write_atomic(folder / PUBLIC_KEY_FILE, public_key_pem(signing_key))
    return Commitment(commitment, signature, tree.root.hex(), len(ordered), tree)


@_bulk
def write_draw_files(folder: Path, seed_reference: str, seed_value_hex: str) -> list[ResultRow]:
    """Draws from the folder's own published commitment and writes ``seed.json`` and ``results.csv``.

    The folder is verified first (signature, canonical form, eligible list and Merkle root, seed reference),
    so the draw can only use the eligible set and quotas that were committed. Running it again with the same
    seed rewrites the same bytes; a different seed after one is published is refused."""
    seed = seed_json(seed_reference, seed_value_hex)
    existing = folder / SEED_FILE
    if existing.exists() and existing.read_bytes() != seed:
        raise LotteryError("already_drawn", "a different seed is already published for this wave")
    published = _load(folder, [], seed_file=seed)
    rows = _draw_rows(published.entries, published.quotas, bytes.fromhex(seed_value_hex))
    _write_atomic(folder / SEED_FILE, seed)
    _write_atomic(folder / RESULTS_FILE, results_csv(rows))
    return rows


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
    entries: _Columns
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


def _check_eligible(raw: bytes, document: Mapping[str, Any]) -> _Columns:
    header = ELIGIBLE_HEADER.encode() + b"\n"
    if not raw.startswith(header):
        raise LotteryError("eligible_malformed", "eligible.csv must start with the line entry_hash,stratum,tier")
    body = raw[len(header) :]
    if _ROWS_RE.fullmatch(body) is None:
        lines = body.split(b"\n")
        number = (
            next(n for n, line in enumerate(lines[:-1], 2) if _ROW_RE.fullmatch(line) is None)
            if lines[-1] == b""
            else 0
        )
        where = f"line {number} is not entry_hash,stratum,tier" if number else "does not end with a newline"
        raise LotteryError("eligible_malformed", f"eligible.csv {where}")
    lines = body.split(b"\n")[:-1]
    hashes = [line[:64] for line in lines]
    if any(map(operator.gt, hashes, hashes[1:])):
        number = next(n for n, pair in enumerate(itertools.pairwise(hashes), 3) if pair[0] > pair[1])
        raise LotteryError("eligible_not_sorted", f"eligible.csv line {number} is out of entry_hash order")
    if any(map(operator.eq, hashes, hashes[1:])):
        number = next(n for n, pair in enumerate(itertools.pairwise(hashes), 3) if pair[0] == pair[1])
        raise LotteryError("eligible_duplicate", f"eligible.csv line {number} repeats the entry_hash above it")
    if len(lines) != document["eligible_count"]:
        count = document["eligible_count"]
        raise LotteryError("eligible_count_mismatch", f"eligible.csv has {len(lines)} rows, the commitment {count}")
    if merkle_root(lines).hex() != document["merkle_root"]:
        raise LotteryError("merkle_root_mismatch", "the Merkle root of eligible.csv differs from the commitment's")
    if not lines:
        return _Columns([], [], [])
    hashes_, strata, tiers = zip(*(line.split(",") for line in body.decode().split("\n")[:-1]), strict=True)
    return _Columns(hashes_, strata, list(map(int, tiers)))


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
    folder: Path, passed: list[str], *, seed_file: bytes | None = None, public_key: bytes | None = None
) -> _Published:
    """Checks 1 to 3 of section 6, appending each passed check's name (``seed_file`` stands in for
    ``seed.json`` when drawing)."""
    commitment = _read(folder / COMMITMENT_FILE, "commitment")
    signature = _read(folder / SIGNATURE_FILE, "signature")
    pem = _read(folder / PUBLIC_KEY_FILE, "public_key")
    _check_signature(commitment, signature, pem, public_key)
    passed.append("signature")
    document, quotas = _commitment_fields(_canonical_document(commitment))
    passed.append("canonical")
    entries = _check_eligible(_read(folder / ELIGIBLE_FILE, "eligible"), document)
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


def _check_results(folder: Path, published: _Published, require_draw: bool) -> list[ResultRow] | None:
    if published.seed is None:
        if require_draw or (folder / RESULTS_FILE).exists():
            raise LotteryError("seed_missing", "seed.json is missing")
        return None
    actual = _read(folder / RESULTS_FILE, "results")
    rows = _draw_rows(published.entries, published.quotas, published.seed)
    expected = results_csv(rows)
    if actual != expected:
        difference = _first_difference(expected, actual)
        raise LotteryError("results_mismatch", f"results.csv is not what the draw produces ({difference})")
    return rows


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


def _check_proof(path: Path, published: _Published, rows: list[ResultRow] | None) -> ProofReport:
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
    if rows is None:
        return report
    row = next((r for r in rows if r.entry_hash == entry.entry_hash), None)
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

"""Contract section 6: the verifier anyone can run over a wave's folder, and the applicant's proof file."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import operator
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prakerja.lottery.commitment import ALGORITHM
from prakerja.lottery.drawing import Drawn, draw_lines
from prakerja.lottery.entries import ELIGIBLE_HEADER, HASH_RE, Entry, bulk, entry_hash, is_count, is_stratum, split_rows
from prakerja.lottery.errors import LotteryError
from prakerja.lottery.merkle import MerkleTree, merkle_root_on, root_from_path
from prakerja.lottery.names import (
    COMMITMENT_FILE,
    ELIGIBLE_FILE,
    PUBLIC_KEY_FILE,
    RESULTS_FILE,
    SEED_FILE,
    SIGNATURE_FILE,
)
from prakerja.lottery.parallel import pool

_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
_ROW_RE = re.compile(rb"[0-9a-f]{64},[0-9]+,(?:0|[1-9][0-9]*)")
_SIGNATURE_RE = re.compile(rb"[A-Za-z0-9+/]{86}==\n")
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_COMMITMENT_KEYS = frozenset(
    {"algorithm", "wave_id", "scheme", "strata", "eligible_count", "merkle_root", "randomness", "committed_at"}
)
_PROOF_KEYS = frozenset({"wave_id", "entry_secret", "leaf_index", "tree_size", "audit_path", "stratum", "tier"})


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
    key_pinned: bool = False
    """Whether the signature was checked against the program's key given to the verifier (``--public-key``);
    otherwise the folder's own ``public-key.pem`` was trusted, and the verifier says so."""


@dataclass(frozen=True)
class Published:
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
    if not all(is_stratum(s["code"]) and is_count(s["quota"]) for s in strata):
        raise invalid("each stratum code is digits only and each quota an integer >= 0")
    if any(a["code"] >= b["code"] for a, b in itertools.pairwise(strata)):
        raise invalid("strata must be sorted by code, without repeats")
    if not is_count(document["eligible_count"]):
        raise invalid("eligible_count must be an integer >= 0")
    if not isinstance(document["merkle_root"], str) or HASH_RE.fullmatch(document["merkle_root"]) is None:
        raise invalid("merkle_root must be 64 lowercase hex digits")
    randomness = document["randomness"]
    if not isinstance(randomness, dict) or set(randomness) != {"source", "reference"}:
        raise invalid('randomness must be {"source", "reference"}')
    if not all(isinstance(v, str) for v in randomness.values()):
        raise invalid("randomness source and reference must be strings")
    if not _is_timestamp(document["committed_at"]):
        raise invalid("committed_at must be an RFC 3339 UTC time in whole seconds ending in Z")
    return document, {s["code"]: s["quota"] for s in strata}


def _sha256_meanwhile(data: bytes, work: Callable[[], list[bytes]]) -> tuple[str, list[bytes]]:
    """SHA-256 of ``data`` (hex), computed on a thread while this one runs ``work``, and ``work``'s result."""
    if len(data) < 1 << 20:  # a thread costs more than it saves
        return hashlib.sha256(data).hexdigest(), work()
    digest: list[str] = []
    thread = threading.Thread(target=lambda: digest.append(hashlib.sha256(data).hexdigest()), name="lottery-sha256")
    thread.start()
    try:
        done = work()
    finally:
        thread.join()
    if not digest:
        raise LotteryError("eligible_unreadable", "eligible.csv could not be hashed")
    return digest[0], done


def _check_eligible(raw: bytes, document: Mapping[str, Any], digest: str | None = None) -> list[bytes]:
    header = ELIGIBLE_HEADER.encode() + b"\n"
    if not raw.startswith(header):
        raise LotteryError("eligible_malformed", "eligible.csv must start with the line entry_hash,stratum,tier")
    body = raw[len(header) :]
    if digest is not None:
        # hashed on a thread while this one splits the rows (hashlib lets go of the GIL for large inputs)
        found, lines = _sha256_meanwhile(raw, lambda: body.split(b"\n"))
    if digest is not None and found == digest:
        # the very bytes whose rows were checked and whose Merkle root was computed at commitment
        lines.pop()
        if len(lines) != document["eligible_count"]:
            count = document["eligible_count"]
            raise LotteryError("eligible_count_mismatch", f"eligible.csv has {len(lines)} rows, the commitment {count}")
        return lines
    split = split_rows(body)
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
    with pool(len(lines)) as executor:
        root = merkle_root_on(lines, executor)
    if root.hex() != document["merkle_root"]:
        raise LotteryError("merkle_root_mismatch", "the Merkle root of eligible.csv differs from the commitment's")
    if digest is not None:
        raise LotteryError("eligible_changed", "eligible.csv is not the file the commitment was computed from")
    return lines


def _seed_value(raw: bytes, document: Mapping[str, Any]) -> bytes:
    try:
        seed = json.loads(raw)
    except (ValueError, RecursionError):
        seed = None
    if not isinstance(seed, dict) or set(seed) != {"reference", "value"} or not isinstance(seed["reference"], str):
        raise LotteryError("seed_malformed", 'seed.json must be {"reference": "...", "value": "<hex>"}')
    value = seed["value"]
    if not isinstance(value, str) or _HEX_RE.fullmatch(value) is None:
        raise LotteryError("seed_malformed", "seed.json's value must be non-empty lowercase hex")
    if rfc8785.dumps(seed) != raw:
        raise LotteryError("seed_not_canonical", "seed.json is not in RFC 8785 canonical form")
    if seed["reference"] != document["randomness"]["reference"]:
        raise LotteryError("seed_reference_mismatch", "seed.json's reference is not the one the commitment named")
    return bytes.fromhex(value)


def load(
    folder: Path,
    passed: list[str],
    *,
    seed_file: bytes | None = None,
    public_key: bytes | None = None,
    eligible_sha256: str | None = None,
    commitment_sha256: str | None = None,
) -> Published:
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
    return Published(document, entries, quotas, value)


def _first_difference(expected: bytes, actual: bytes) -> str:
    ours, theirs = expected.split(b"\n"), actual.split(b"\n")
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), 1):
        if a != b:
            return f"line {number}: expected {a.decode(errors='replace')!r}, found {b.decode(errors='replace')!r}"
    return f"expected {len(ours) - 1} lines, found {len(theirs) - 1}"


def _check_results(folder: Path, published: Published, require_draw: bool) -> Drawn | None:
    if published.seed is None:
        if require_draw or (folder / RESULTS_FILE).exists():
            raise LotteryError("seed_missing", "seed.json is missing")
        return None
    actual = _read(folder / RESULTS_FILE, "results")
    with pool(len(published.entries)) as executor:
        drawn = draw_lines(published.entries, published.quotas, published.seed, executor=executor)
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
        and HASH_RE.fullmatch(secret) is not None
        and is_count(proof["leaf_index"])
        and is_count(proof["tree_size"])
        and isinstance(steps, list)
        and all(isinstance(s, str) and HASH_RE.fullmatch(s) for s in steps)
        and is_stratum(proof["stratum"])
        and is_count(proof["tier"])
    )
    if not well_formed:
        raise LotteryError("proof_malformed", "the proof's members have the wrong types or encodings")
    entry = Entry(entry_hash(proof["wave_id"], bytes.fromhex(secret)), proof["stratum"], proof["tier"])
    return entry, proof["leaf_index"], proof["tree_size"], [bytes.fromhex(s) for s in steps]


def _check_proof(path: Path, published: Published, drawn: Drawn | None) -> ProofReport:
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


@bulk
def verify_folder(
    folder: Path, proof: Path | None = None, *, public_key: bytes | None = None, require_draw: bool = False
) -> VerifyResult:
    """Section 6, in its order, stopping at the first failure.

    ``public_key`` pins the program's published PEM (otherwise the folder's own key is trusted). A folder with
    neither ``seed.json`` nor ``results.csv`` is a commitment awaiting its draw: it passes with
    ``drawn=False`` unless ``require_draw``."""
    passed: list[str] = []
    try:
        published = load(folder, passed, public_key=public_key)
        rows = _check_results(folder, published, require_draw)
        if rows is not None:
            passed.append("results")
        report = _check_proof(proof, published, rows) if proof is not None else None
        if report is not None:
            passed.append("proof")
    except LotteryError as failure:
        return VerifyResult(False, failure.code, failure.message, tuple(passed), key_pinned=public_key is not None)
    drawn = rows is not None
    message = "all checks passed" if drawn else "the commitment checks passed; the draw is not published yet"
    return VerifyResult(True, None, message, tuple(passed), drawn, report, key_pinned=public_key is not None)

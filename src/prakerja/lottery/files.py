"""Contract section 2: a wave's folder, written atomically: the commitment's four files, then ``seed.json`` and
``results.csv`` drawn from the folder's own verified commitment."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prakerja.lottery.commitment import commitment_json, public_key_pem, signature_file
from prakerja.lottery.drawing import Drawn, TierDraw, draw_lines
from prakerja.lottery.entries import ELIGIBLE_HEADER, Entry, bulk, checked_rows, rows_in_order, sorted_entries
from prakerja.lottery.errors import LotteryError
from prakerja.lottery.merkle import CHUNK, MerkleTree, checked_root_on, merkle_root_on
from prakerja.lottery.names import (
    COMMITMENT_FILE,
    ELIGIBLE_FILE,
    PUBLIC_KEY_FILE,
    RESULTS_FILE,
    SEED_FILE,
    SIGNATURE_FILE,
)
from prakerja.lottery.parallel import Helpers, pool
from prakerja.lottery.verify import load


def seed_json(reference: str, value_hex: str) -> bytes:
    """``seed.json``, canonicalised with RFC 8785 like the commitment."""
    return rfc8785.dumps({"reference": reference, "value": value_hex})


def _write_atomic(path: Path, data: bytes | Sequence[bytes]) -> None:
    """Readers never see half a file: write beside it, then rename over it. ``data`` may be the file's bytes in
    pieces, written one after the other (a large file is then never joined in memory first)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                out.writelines(data)
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


def checked_rows_and_root(
    body: bytes, executor: Helpers | None, chunk: int = CHUNK
) -> tuple[list[bytes], bytes, bytes]:
    """:func:`checked_rows` of ``eligible.csv``'s body and the Merkle root of its rows. With helpers, the rows are
    checked block by block by the process that hashes the block (both cores for the checks as for the tree); a
    block refused there is checked again by :func:`checked_rows`, which raises what it always raised (or, for
    rows out of order, sorts them, and the tree is computed again): the same rows, body and root either way."""
    if executor is not None and body.endswith(b"\n"):
        lines = body.split(b"\n")
        lines.pop()
        root = checked_root_on(lines, executor, rows_in_order, chunk)
        if root is not None:
            return lines, body, root
    lines, body = checked_rows(body)
    return lines, body, merkle_root_on(lines, executor)


@bulk
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
    body as bytes (``entry_hash,stratum,tier`` rows ending in LF), checked by :func:`checked_rows`."""
    head = ELIGIBLE_HEADER.encode() + b"\n"
    if eligible_rows is not None:
        # the rows as given when they were already in file order (as the database sends them): eligible.csv is
        # the header and those bytes, written and hashed in two pieces, never joined again
        with pool(eligible_rows.count(b"\n")) as executor:
            lines, body, root = checked_rows_and_root(eligible_rows, executor)
    else:
        lines = [e.row.encode() for e in sorted_entries(entries)]
        body = b"".join([b"\n".join(lines), b"\n"]) if lines else b""
        with pool(len(lines)) as executor:
            root = merkle_root_on(lines, executor)
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
    signature = signature_file(commitment, signing_key)
    hashed = hashlib.sha256(head)
    # eligible.csv is hashed on a thread while the files are written (hashlib and file writes let go of the GIL)
    hashing = threading.Thread(target=hashed.update, args=(body,), name="lottery-sha256")
    hashing.start()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / ELIGIBLE_FILE, [head, body])
        _write_atomic(folder / COMMITMENT_FILE, commitment)
        _write_atomic(folder / SIGNATURE_FILE, signature)
        _write_atomic(folder / PUBLIC_KEY_FILE, public_key_pem(signing_key))
    finally:
        hashing.join()
    digest = hashed.hexdigest()
    return Commitment(commitment, signature, root.hex(), len(lines), digest, lines)


@bulk
def write_draw_files(
    folder: Path,
    seed_reference: str,
    seed_value_hex: str,
    *,
    eligible_sha256: str | None = None,
    commitment_sha256: str | None = None,
    on_tier: Callable[[TierDraw], object] | None = None,
    on_drawn: Callable[[], object] | None = None,
) -> Drawn:
    """Draws from the folder's own published commitment and writes ``seed.json`` and ``results.csv``.

    The folder is verified first (signature, canonical form, eligible list and Merkle root, seed reference),
    so the draw can only use the eligible set and quotas that were committed. ``eligible_sha256``, the digest
    :func:`write_commitment_files` returned (kept by the caller since), stands in for recomputing the Merkle
    root: a file with that digest is the one whose root was committed (and whose rows were checked then);
    ``commitment_sha256``, when given, pins ``commitment.json`` to the one the caller recorded.
    ``on_tier`` sees each tier of the draw as soon as it is ranked, and ``on_drawn`` is called once after the
    last one, before the files are written (e.g. to let the database finish storing the tiers meanwhile).
    Running it again with the same seed rewrites the same bytes; a different seed after one is published is
    refused."""
    seed = seed_json(seed_reference, seed_value_hex)
    existing = folder / SEED_FILE
    if existing.exists() and existing.read_bytes() != seed:
        raise LotteryError("already_drawn", "a different seed is already published for this wave")
    published = load(folder, [], seed_file=seed, eligible_sha256=eligible_sha256, commitment_sha256=commitment_sha256)
    with pool(len(published.entries)) as executor:
        drawn = draw_lines(published.entries, published.quotas, bytes.fromhex(seed_value_hex), on_tier, executor)
    if on_drawn is not None:
        on_drawn()
    # While on_drawn's work may still run: the rows of the tiers ranked in this process are built, then
    # results.csv is written (the tiers' rows as drawn, never joined) and hashed on a thread at the same time
    # (file writes and hashlib let go of the GIL).
    parts = drawn.results_parts()
    hashing = threading.Thread(target=lambda: drawn.results_sha256, name="lottery-sha256")
    hashing.start()
    try:
        _write_atomic(folder / SEED_FILE, seed)
        _write_atomic(folder / RESULTS_FILE, parts)
    finally:
        hashing.join()
    drawn.results_sha256  # noqa: B018 - computed by the thread above (or now, had it failed)
    return drawn

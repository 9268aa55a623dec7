"""Contract section 4: the RFC 6962 Merkle tree over ``eligible.csv``'s rows, audit paths and roots from them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from prakerja.lottery.errors import LotteryError
from prakerja.lottery.parallel import Helpers


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


CHUNK = 1 << 15
"""Leaves per chunk sent to a helper: an aligned block of 2**15 leaves is a whole subtree of the RFC 6962 tree."""


def merkle_root_on(leaves: Sequence[bytes], helpers: Helpers | None) -> bytes:
    """:func:`merkle_root`, with the hashing shared between this process and forked ``helpers``. Bottom-up, an
    aligned block of ``2**k`` leaves becomes one node at level ``k`` (and the last, shorter block its own tree's
    root, as the odd node moves up unchanged), so the root is the tree over the blocks' roots."""
    root = checked_root_on(leaves, helpers)
    assert root is not None  # nothing to check
    return root


def checked_root_on(
    leaves: Sequence[bytes],
    helpers: Helpers | None,
    check: Callable[[Sequence[bytes]], bool] | None = None,
    chunk: int = CHUNK,
) -> bytes | None:
    """:func:`merkle_root_on`, and ``check`` run over each block of leaves by the process that hashes it (``chunk``
    leaves, a power of two): None when ``check`` refused a block (or the blocks' edges, which it is also given as
    pairs of leaves), else the root."""
    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError("chunk must be a power of two")
    if helpers is None or len(leaves) <= chunk:
        if check is not None and not check(leaves):
            return None
        return merkle_root(leaves)
    blocks = (len(leaves) + chunk - 1) // chunk

    def block_root(index: int) -> bytes:
        block = leaves[index * chunk : (index + 1) * chunk]
        if check is not None and not check(block):
            return b""
        return merkle_root(block)

    roots = [b""] * blocks
    for index, root in helpers.run(blocks, [32] * blocks, block_root, ordered=False):
        roots[index] = block_root(index) if root is None else root
        if not roots[index]:
            return None
    if check is not None and not all(check(leaves[i - 1 : i + 1]) for i in range(chunk, len(leaves), chunk)):
        return None
    level = roots
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

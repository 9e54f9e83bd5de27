"""A Merkle tree over the audit log, hashed as RFC 6962 (section 2) and RFC 9162 (section 2.1) say.

A leaf is SHA-256(0x00 || leaf bytes), an inner node SHA-256(0x01 || left || right); a tree of n
leaves splits at k, the largest power of two smaller than n. The audit log's leaf bytes are its
entries' stored hashes (the 64 ASCII hex characters of ``audit.entry_hash``): each is the SHA-256
of the entry's canonical content, so a leaf binds the whole entry, and a tree of any prefix of
the log is computed from one column without decoding a single entry.

What it gives: the root of the first n leaves, the audit path that proves one leaf is in a tree
of n (inclusion), and the proof that a tree of m leaves is the prefix of a tree of n
(consistency), each with its verification - so a signed root pins the log as it stood, and a
log rewritten below a signed size no longer reproduces it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over leaf hashes already computed."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root_of_hashes(hashes[:k]), root_of_hashes(hashes[k:]))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 section 2.1, over the leaves' bytes."""
    return root_of_hashes([leaf_hash(x) for x in leaves])


# -- inclusion ---------------------------------------------------------------------------------
def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1: the audit path of leaf ``index`` (0-based) in the
    tree over ``hashes`` (leaf hashes), nearest sibling first."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(index, hashes[:k]) + [root_of_hashes(hashes[k:])]
    return inclusion_proof(index - k, hashes[k:]) + [root_of_hashes(hashes[:k])]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to from a leaf hash (RFC 9162 section 2.1.3.2); None when the
    path cannot belong to a tree of ``size`` (wrong length)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` with ``expected_root``."""
    return root_from_inclusion(index, size, leaf, path) == expected_root


# -- consistency -------------------------------------------------------------------------------
def consistency_proof(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 section 2.1.2: that the tree of the first m leaves is a prefix of
    the tree over all of ``hashes``."""
    n = len(hashes)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from {m} to {n} leaves")
    return _subproof(m, hashes, True)


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [root_of_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return _subproof(m, hashes[:k], whole) + [root_of_hashes(hashes[k:])]
    return _subproof(m - k, hashes[k:], False) + [root_of_hashes(hashes[:k])]


def verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: whether the tree of m leaves with ``old_root`` is the prefix of the
    tree of n leaves with ``new_root``."""
    if not 0 < m <= n:
        return False
    if m == n:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m a power of two: the old root is the first node of the proof
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# -- a tree that grows -------------------------------------------------------------------------
class Accumulator:
    """The roots of the perfect subtrees a tree of ``size`` leaves is made of (largest first): the
    tree's root in O(log n), and new leaves added without rehashing the old ones."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (leaves under it, its hash)

    def add(self, data: bytes) -> None:
        self.add_hash(leaf_hash(data))

    def add_hash(self, h: bytes) -> None:
        self.size += 1
        height, node = 1, h
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            node, height = node_hash(left, node), height * 2
        self._stack.append((height, node))

    def extend(self, leaves: Iterable[bytes]) -> None:
        for data in leaves:
            self.add(data)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            r = node_hash(h, r)
        return r


class PrefixTree:
    """Every perfect subtree's root, kept as the leaves are added: the root of any prefix of the
    log in O(log n), in any order, after one pass over it. ``audit verify`` holds many signed roots
    (checkpoints, sign-offs) against one log; rehashing the prefix for each would cost entries x
    roots. ``levels[h][i]`` is the root of leaves i*2^h to (i+1)*2^h - 1 (about 2n hashes kept)."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def add(self, data: bytes) -> None:
        self.add_hash(leaf_hash(data))

    def add_hash(self, h: bytes) -> None:
        self.levels[0].append(h)
        i, level = self.size - 1, 0
        while i & 1:  # a right child completes its pair: the parent is known from now on
            row = self.levels[level]
            if len(self.levels) == level + 1:
                self.levels.append([])
            self.levels[level + 1].append(node_hash(row[i - 1], row[i]))
            i, level = i >> 1, level + 1

    def root_at(self, size: int) -> bytes:
        """MTH of the first ``size`` leaves: the perfect subtrees of its binary digits, largest first,
        folded from the right (as RFC 6962's split at the largest power of two below n gives)."""
        if not 0 <= size <= self.size:
            raise ValueError(f"no prefix of {size} leaves in a tree of {self.size}")
        if size == 0:
            return EMPTY_ROOT
        parts, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                parts.append(self.levels[level][start >> level])
                start += 1 << level
        r = parts[-1]
        for h in reversed(parts[:-1]):
            r = node_hash(h, r)
        return r

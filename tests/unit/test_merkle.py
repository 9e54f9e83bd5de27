"""The audit log's Merkle tree (console/store/merkle.py) against RFC 6962: every proof of every
small tree verifies, and no proof survives a changed leaf, a changed root or a wrong size."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.store import merkle

LEAVES = [f"entry {i}".encode() for i in range(40)]


def reference_root(leaves):
    """MTH straight from the RFC's definition, written independently of the module."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])).digest()


def hashes(leaves):
    return [merkle.leaf_hash(x) for x in leaves]


def test_roots_match_the_rfc_definition_and_the_growing_tree():
    acc = merkle.Accumulator()
    assert acc.root() == merkle.root([]) == hashlib.sha256(b"").digest()
    for n in range(1, len(LEAVES) + 1):
        acc.add(LEAVES[n - 1])
        assert merkle.root(LEAVES[:n]) == reference_root(LEAVES[:n]) == acc.root(), n


def test_a_known_vector():
    # Two leaves by hand: H(1 || H(0 || a) || H(0 || b)).
    a, b = hashlib.sha256(b"\x00a").digest(), hashlib.sha256(b"\x00b").digest()
    assert merkle.root([b"a", b"b"]) == hashlib.sha256(b"\x01" + a + b).digest()


def test_every_inclusion_proof_of_small_trees_verifies_and_a_changed_leaf_fails_attack():
    for n in range(1, 34):
        hs = hashes(LEAVES[:n])
        top = merkle.root_of_hashes(hs)
        for i in range(n):
            path = merkle.inclusion_proof(i, hs)
            assert merkle.verify_inclusion(i, n, hs[i], path, top), (i, n)
            assert not merkle.verify_inclusion(i, n, merkle.leaf_hash(b"forged"), path, top)
            if n > 1:
                assert not merkle.verify_inclusion((i + 1) % n, n, hs[i], path, top)
                assert not merkle.verify_inclusion(i, n, hs[i], path[:-1], top)
        changed = list(LEAVES[:n])
        changed[n // 2] = b"changed"
        assert merkle.root(changed) != top


def test_every_consistency_proof_of_small_trees_verifies_and_a_rewritten_prefix_fails_attack():
    for n in range(1, 34):
        hs = hashes(LEAVES[:n])
        new = merkle.root_of_hashes(hs)
        for m in range(1, n + 1):
            old = merkle.root_of_hashes(hs[:m])
            proof = merkle.consistency_proof(m, hs)
            assert merkle.verify_consistency(m, n, old, new, proof), (m, n)
            if m < n:
                assert not merkle.verify_consistency(m, n, merkle.leaf_hash(b"x"), new, proof)
                assert not merkle.verify_consistency(m, n, old, merkle.leaf_hash(b"x"), proof)
                assert not merkle.verify_consistency(m, n, old, new, [])
                for j in range(m):  # any leaf of the old tree changed: the signed old root no longer follows
                    forged = list(hs)
                    forged[j] = merkle.leaf_hash(b"forged")
                    forged_new = merkle.root_of_hashes(forged)
                    assert not merkle.verify_consistency(m, n, old, forged_new,
                                                         merkle.consistency_proof(m, forged))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_random_trees_prove_inclusion_and_consistency(leaves, data):
    hs = hashes(leaves)
    n = len(hs)
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    top = merkle.root_of_hashes(hs)
    assert merkle.verify_inclusion(i, n, hs[i], merkle.inclusion_proof(i, hs), top)
    assert merkle.verify_consistency(m, n, merkle.root_of_hashes(hs[:m]), top, merkle.consistency_proof(m, hs))


# -- the edges the mutation check found untested (issue 32) -------------------------------------
def test_a_leaf_outside_the_tree_has_no_proof_and_no_root():
    hs = hashes(LEAVES[:3])
    for bad in (-1, 3):
        with pytest.raises(ValueError, match=f"^leaf {bad} is not in a tree of 3$"):
            merkle.inclusion_proof(bad, hs)
        assert merkle.root_from_inclusion(bad, 3, hs[0], merkle.inclusion_proof(0, hs)) is None


def test_an_audit_path_one_node_short_or_long_leads_nowhere():
    hs = hashes(LEAVES[:5])
    path = merkle.inclusion_proof(1, hs)
    assert merkle.root_from_inclusion(1, 5, hs[1], path) == merkle.root_of_hashes(hs)
    assert merkle.root_from_inclusion(1, 5, hs[1], path[:-1]) is None
    assert merkle.root_from_inclusion(1, 5, hs[1], path + [hs[0]]) is None


def test_no_consistency_proof_from_an_empty_tree_or_from_a_larger_one():
    hs = hashes(LEAVES[:3])
    for m in (0, 4):
        with pytest.raises(ValueError, match=f"^no consistency proof from {m} to 3 leaves$"):
            merkle.consistency_proof(m, hs)
    root = merkle.root_of_hashes(hs)
    assert not merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, root, [hs[0], hs[1]])  # nor with a made-up proof
    assert not merkle.verify_consistency(4, 3, root, root, [])


def test_a_tree_is_consistent_with_itself_only_with_an_empty_proof_and_the_same_root():
    hs = hashes(LEAVES[:6])
    root = merkle.root_of_hashes(hs)
    assert merkle.verify_consistency(6, 6, root, root, [])
    assert not merkle.verify_consistency(6, 6, root, root, [hs[0]])
    assert not merkle.verify_consistency(6, 6, root, merkle.root_of_hashes(hs[:5]), [])


def test_a_consistency_proof_with_a_node_too_many_is_refused():
    hs = hashes(LEAVES[:7])
    proof = merkle.consistency_proof(3, hs)
    old, new = merkle.root_of_hashes(hs[:3]), merkle.root_of_hashes(hs)
    assert merkle.verify_consistency(3, 7, old, new, proof)
    assert not merkle.verify_consistency(3, 7, old, new, proof + [hs[0]])


def test_a_tree_grown_from_many_leaves_at_once_has_the_same_root():
    acc = merkle.Accumulator()
    acc.extend(LEAVES[:11])
    assert acc.size == 11 and acc.root() == reference_root(LEAVES[:11])


def test_the_prefix_tree_gives_the_root_of_every_prefix_after_one_pass():
    leaves = [f"entry {i}".encode() for i in range(70)]
    tree = merkle.PrefixTree()
    for x in leaves:
        tree.add(x)
    assert tree.size == 70
    for m in reversed(range(71)):  # any order: asked after the pass, largest first
        assert tree.root_at(m) == reference_root(leaves[:m]), m
    for bad in (-1, 71):
        try:
            tree.root_at(bad)
        except ValueError as exc:
            assert str(exc) == f"no prefix of {bad} leaves in a tree of 70"
            continue
        raise AssertionError(f"a prefix of {bad} leaves was given a root")


def test_a_changed_leaf_changes_the_root_of_every_prefix_that_holds_it_attack():
    leaves = [f"entry {i}".encode() for i in range(37)]
    plain, changed = merkle.PrefixTree(), merkle.PrefixTree()
    for i, x in enumerate(leaves):
        plain.add(x)
        changed.add(b"rewritten" if i == 20 else x)
    for m in range(38):
        assert (plain.root_at(m) == changed.root_at(m)) == (m <= 20), m

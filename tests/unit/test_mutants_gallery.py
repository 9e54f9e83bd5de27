"""Tests that kill the mutants ``python main.py bench mutation --module gallery`` found alive:
the two-level top-k against brute force, the padding of the last block, one subject filling
the short list, and the empty and one-image galleries."""

import numpy as np
import pytest

from console.pipeline import gallery as gallery_module
from console.pipeline.gallery import BLOCK, Gallery, _top_indices


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _same_as_brute(idx: np.ndarray, scores: np.ndarray, take: int, valid: int) -> bool:
    """The same best scores in the same order (ties may pick either column) and distinct real columns."""
    best = -np.sort(-scores[:, :valid], axis=1)[:, :take]
    distinct = all(len(set(row)) == len(row) for row in idx.tolist())
    return idx.shape == best.shape and distinct and bool((idx < valid).all()) and np.array_equal(
        np.take_along_axis(scores, idx, axis=1), best)


@pytest.mark.parametrize("valid, take", [(10_000, 12), (79 * BLOCK, 12), (1_000, 12), (650, 1), (8 * BLOCK, 3),
                                         (8 * BLOCK + 1, 1)])
def test_top_indices_are_the_exact_best_first_on_either_path(valid, take):
    rng = np.random.default_rng(valid + take)
    padded = -(-valid // BLOCK) * BLOCK  # the gallery's width: whole blocks, zero rows after the last image
    scores = np.zeros((5, padded), np.float32)
    scores[:, :valid] = rng.standard_normal((5, valid))
    assert _same_as_brute(_top_indices(scores, take, valid), scores, take, valid)


def _all_negative(valid: int = 10_000) -> np.ndarray:
    rng = np.random.default_rng(1)
    padded = -(-valid // BLOCK) * BLOCK
    scores = np.zeros((2, padded), np.float32)  # the padding columns score 0, as zero rows do
    scores[:, :valid] = -rng.random((2, valid)).astype(np.float32) - 0.1
    return scores


def test_block_padding_never_wins_even_when_every_real_score_is_negative():
    scores = _all_negative()
    idx = _top_indices(scores, 12, 10_000)
    assert (idx < 10_000).all() and all(len(set(row)) == 12 for row in idx.tolist())
    best = -np.sort(-scores[:, :10_000], axis=1)
    assert np.array_equal(np.take_along_axis(scores, idx, axis=1)[:, :11], best[:, :11])


def test_the_take_th_best_is_found_even_when_every_real_score_is_negative():
    """Found by the mutation check: the padded last block's maximum (0) took one of the ``take``
    block slots, so with fewer than ``take`` real scores above 0 the take-th best was missed."""
    scores = _all_negative()
    assert _same_as_brute(_top_indices(scores, 12, 10_000), scores, 12, 10_000)


def test_a_large_gallery_finds_planted_matches_exactly():
    rng = np.random.default_rng(2)
    n = 10_000
    matrix = _unit(rng.standard_normal((n, 64)))
    g = Gallery(matrix, np.arange(n) + 100_000, np.arange(n))
    probes = matrix[[0, 4_321, n - 1]]
    found = g.search(probes, k=3)
    assert [r[0].entry_id for r in found] == [0, 4_321, n - 1]
    assert [r[0].image_id for r in found] == [100_000, 104_321, 100_000 + n - 1]
    expected = np.argsort(-(probes.astype(np.float32) @ matrix.T.astype(np.float32)), axis=1)[:, :3]
    assert [[c.entry_id for c in r] for r in found] == expected.tolist()


def test_one_subject_filling_the_short_list_still_leaves_k_subjects():
    rng = np.random.default_rng(3)
    probe = _unit(rng.standard_normal((1, 32)))[0]
    near = _unit(probe + 0.01 * rng.standard_normal((60, 32)))  # 60 photos of subject 1, all closer than anyone else
    far = _unit(rng.standard_normal((200, 32)))
    matrix = np.vstack([near, far])
    entries = np.array([1] * 60 + list(range(2, 202)))
    g = Gallery(matrix, np.arange(len(matrix)), entries)
    cands = g.search(probe, k=3)[0]
    assert len(cands) == 3 and cands[0].entry_id == 1
    assert len({c.entry_id for c in cands}) == 3
    others = far @ probe
    assert [c.entry_id for c in cands[1:]] == [int(e) + 2 for e in np.argsort(-others)[:2]]


def test_default_k_is_three_and_scores_are_plain_floats():
    rng = np.random.default_rng(4)
    matrix = _unit(rng.standard_normal((10, 16)))
    g = Gallery(matrix, np.arange(10), np.arange(10))
    cands = g.search(matrix[0])[0]
    assert len(cands) == 3 and type(cands[0].score) is float
    assert g.matrix.dtype == np.float32 and g.matrix.shape == (10, 16)


def test_a_one_image_gallery_finds_its_image_and_empty_ones_find_nothing():
    g = Gallery(np.array([[1.0, 0.0]]), np.array([7]), np.array([3]))
    assert g.search(np.array([1.0, 0.0])) == [[gallery_module.Candidate(3, 7, 1.0)]]
    empty = Gallery.empty()
    assert (empty.dim, len(empty), len(empty.image_ids), len(empty.entry_ids)) == (128, 0, 0, 0)
    assert empty.image_ids.dtype.kind == "i" and empty.entry_ids.dtype.kind == "i"
    assert empty.matrix.dtype == np.float32
    assert empty.search(np.ones((2, 128))) == [[], []]
    flat = Gallery(np.zeros(0), np.zeros(0, int), np.zeros(0, int))
    assert flat.dim == 0 and flat.search(np.ones(4)) == [[]]
    assert g.search(np.zeros((0, 2))) == []

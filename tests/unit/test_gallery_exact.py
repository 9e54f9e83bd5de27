"""The int8 pass of the gallery search (issue 18): exact against brute force, on data made
hard for it, and its error bound checked against the real error. The int8 path is forced on
small galleries (``int8_min_size``) so the tests stay fast."""

import numpy as np
import pytest

from console.pipeline.gallery import INT8_MIN_SIZE, Gallery
from console.pipeline.int8_product import GALLERY_LEVELS, QUERY_LEVELS, QUERY_ZERO, Int8Product, model_bytes

SCORE_TOL = 5e-6  # float32 against float64 for unit vectors of dimension <= 128 (bound: 7.6e-6, seen: ~1e-6)


def _unit(rows) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def _brute(matrix, image_ids, entry_ids, probe, k):
    """Every row scored in float64, best first (ties: the earlier row), one per subject."""
    scores = matrix.astype(np.float64) @ np.asarray(probe, np.float64)
    picked, seen = [], set()
    for i in np.argsort(-scores, kind="stable"):
        if int(entry_ids[i]) not in seen:
            seen.add(int(entry_ids[i]))
            picked.append((int(entry_ids[i]), int(image_ids[i]), float(scores[i])))
            if len(picked) == k:
                break
    return picked


def _assert_exact(gallery, matrix, image_ids, entry_ids, probes, k):
    """The same subjects, images and scores as brute force; where brute-force scores tie (within
    float32 noise), either of the tied subjects is right, so those are checked by score only."""
    for probe, found in zip(probes, gallery.search(probes, k=k), strict=True):
        want = _brute(matrix, image_ids, entry_ids, probe, k)
        assert len(found) == len(want)
        np.testing.assert_allclose([c.score for c in found], [w[2] for w in want], atol=SCORE_TOL, rtol=0)
        want_scores = np.array([w[2] for w in want])
        for pos, (cand, (entry, image, score)) in enumerate(zip(found, want, strict=True)):
            row = int(np.flatnonzero(image_ids == cand.image_id)[0])
            assert entry_ids[row] == cand.entry_id  # the image is one of the subject's
            assert abs(float(matrix[row].astype(np.float64) @ probe) - cand.score) < SCORE_TOL
            others = np.delete(want_scores, pos)
            if not len(others) or np.abs(others - score).min() > 2 * SCORE_TOL:  # no tie: the very same
                assert (cand.entry_id, cand.image_id) == (entry, image)
        assert len({c.entry_id for c in found}) == len(found)


def _gallery_data(rng, n, dim=128, per_subject=3):
    matrix = _unit(rng.standard_normal((n, dim)))
    image_ids = rng.permutation(n) + 1_000
    entry_ids = rng.permutation(np.arange(n) // per_subject)  # several images per subject, scattered
    return matrix, image_ids, entry_ids


def _near(rng, rows, noise):
    return _unit(rows + noise * rng.standard_normal(rows.shape))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("int8_min_size", [0, INT8_MIN_SIZE])
def test_search_equals_brute_force_with_planted_near_duplicates(seed, k, int8_min_size):
    rng = np.random.default_rng(seed)
    matrix, image_ids, entry_ids = _gallery_data(rng, 3_000)
    targets = rng.choice(3_000, 6, replace=False)
    # Near-duplicates of the targets, filed under other subjects: close seconds to the true match.
    for j, t in enumerate(targets):
        matrix[100 + 10 * j : 106 + 10 * j] = _near(rng, np.repeat(matrix[t : t + 1], 6, axis=0), 0.03)
    probes = _near(rng, matrix[targets], 0.02)
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=int8_min_size)
    assert (g._int8 is not None) == (int8_min_size == 0)
    _assert_exact(g, matrix, image_ids, entry_ids, probes, k)


def test_the_int8_path_reranks_few_rows_and_both_paths_agree():
    rng = np.random.default_rng(3)
    matrix, image_ids, entry_ids = _gallery_data(rng, 20_000)
    probes = _near(rng, matrix[[5, 50, 5_000]], 0.05)
    fast = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    plain = Gallery(matrix, image_ids, entry_ids, int8_min_size=20_001)
    got, want = fast.search(probes, k=3), plain.search(probes, k=3)
    assert [[(c.entry_id, c.image_id) for c in r] for r in got] == [[(c.entry_id, c.image_id) for c in r] for r in want]
    np.testing.assert_allclose([c.score for r in got for c in r], [c.score for r in want for c in r], atol=SCORE_TOL)
    assert fast.full_scans == 0 and 3 * 12 <= fast.reranked < 3 * 2_000  # a short list, not the gallery
    assert fast.matrix.shape == plain.matrix.shape and np.array_equal(fast.matrix, plain.matrix)


@pytest.mark.parametrize("int8_min_size", [0, INT8_MIN_SIZE])
def test_exact_ties_at_the_cut(int8_min_size):
    rng = np.random.default_rng(4)
    matrix, image_ids, entry_ids = _gallery_data(rng, 3_000, per_subject=1)
    probe = _unit(rng.standard_normal(128))
    second = _near(rng, probe[None, :], 0.05)[0]
    matrix[[10, 700, 2_999]] = probe  # three subjects tie for first
    matrix[[20, 30, 1_500, 2_000]] = second  # four tie for the rest, across the k-th place
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=int8_min_size)
    _assert_exact(g, matrix, image_ids, entry_ids, probe[None, :], 5)
    found = g.search(probe, k=5)[0]
    assert {c.entry_id for c in found[:3]} == set(entry_ids[[10, 700, 2_999]].tolist())
    assert {c.entry_id for c in found[3:]} <= set(entry_ids[[20, 30, 1_500, 2_000]].tolist())


def test_many_rows_within_the_bound_of_the_cut_are_told_apart_in_float32():
    """600 rows whose scores lie 3e-5 apart, all closer together than the int8 pass can
    resolve: every one is a candidate and the float32 scores decide."""
    rng = np.random.default_rng(5)
    matrix, image_ids, entry_ids = _gallery_data(rng, 20_000, dim=64, per_subject=2)
    probe = _unit(rng.standard_normal(64))
    other = _unit(rng.standard_normal((600, 64)))
    other = _unit(other - (other @ probe)[:, None] * probe)  # orthogonal to the probe
    alpha = 0.5 + 3e-5 * rng.permutation(600)
    rows = rng.choice(20_000, 600, replace=False)
    matrix[rows] = _unit(alpha[:, None] * probe + np.sqrt(1 - alpha**2)[:, None] * other)
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    _, _, unit, bound = g._int8.probe(probe[None, :])
    assert 2 * bound[0] > 600 * 3e-5  # the int8 pass cannot order them
    _assert_exact(g, matrix, image_ids, entry_ids, probe[None, :], 3)
    assert g.full_scans == 0 and g.reranked >= 600


def test_one_huge_component_makes_the_scale_coarse_and_the_search_stays_exact():
    rng = np.random.default_rng(6)
    matrix, image_ids, entry_ids = _gallery_data(rng, 3_000)
    matrix[7] = np.eye(1, 128, 0, dtype=np.float32)  # max |x| = 1: every other row gets a few levels
    probes = np.vstack([_near(rng, matrix[[7, 42]], 0.02), _unit(np.eye(1, 128, 3) * 40 + rng.standard_normal(128))])
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    assert g._int8.scale == pytest.approx(1 / GALLERY_LEVELS)
    _assert_exact(g, matrix, image_ids, entry_ids, probes, 3)


@pytest.mark.parametrize("n, k", [(1, 3), (2, 3), (5, 3), (11, 3), (200, 60)])
def test_galleries_smaller_than_the_short_list(n, k):
    rng = np.random.default_rng(n)
    matrix, image_ids, entry_ids = _gallery_data(rng, n, per_subject=2)
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    probes = _near(rng, matrix[[0, n - 1]], 0.1)
    _assert_exact(g, matrix, image_ids, entry_ids, probes, k)


def test_one_subject_filling_the_short_list_on_the_int8_path():
    rng = np.random.default_rng(7)
    matrix, image_ids, entry_ids = _gallery_data(rng, 3_000, dim=32, per_subject=1)
    probe = _unit(rng.standard_normal(32))
    matrix[:60] = _near(rng, np.repeat(probe[None, :], 60, axis=0), 0.01)
    entry_ids[:60] = 99_999  # 60 photos of one subject, closer than anyone else
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    found = g.search(probe, k=3)[0]
    assert len(found) == 3 and found[0].entry_id == 99_999
    _assert_exact(g, matrix, image_ids, entry_ids, probe[None, :], 3)


def test_rows_too_alike_to_bound_apart_are_all_scored_in_float32():
    rng = np.random.default_rng(8)
    base = _unit(rng.standard_normal(128))
    matrix = _near(rng, np.repeat(base[None, :], 3_000, axis=0), 1e-3)
    image_ids, entry_ids = np.arange(3_000) + 5, rng.permutation(np.arange(3_000) // 2)
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    _assert_exact(g, matrix, image_ids, entry_ids, base[None, :], 3)
    assert g.full_scans == 1
    g.search(base, k=3)
    assert (g.full_scans, g.reranked) == (2, 0)


def test_the_counts_add_up_over_searches():
    rng = np.random.default_rng(14)
    matrix, image_ids, entry_ids = _gallery_data(rng, 5_000)
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    assert (g.reranked, g.full_scans) == (0, 0)
    g.search(matrix[:4], k=3)
    once = g.reranked
    g.search(matrix[:4], k=3)
    assert g.reranked == 2 * once and once >= 4 * 12 and g.full_scans == 0


def test_the_int8_path_starts_at_int8_min_size():
    rng = np.random.default_rng(15)
    matrix, image_ids, entry_ids = _gallery_data(rng, 700)
    assert Gallery(matrix, image_ids, entry_ids, int8_min_size=700)._int8 is not None
    assert Gallery(matrix, image_ids, entry_ids, int8_min_size=701)._int8 is None
    assert Gallery.empty()._int8 is None and Gallery(matrix[:0], image_ids[:0], entry_ids[:0], 0)._int8 is None


@pytest.mark.parametrize("int8_min_size, alike", [(INT8_MIN_SIZE, False), (0, False), (0, True)])
def test_the_take_th_row_can_hold_the_only_third_subject(int8_min_size, alike):
    """The 11 best rows belong to two subjects, so the third subject is the 12th row: the last
    of the short list (k = 3 takes 12). On the float32 block path, the int8 path, and the int8
    path's scan of every row (rows too alike to bound apart)."""
    rng = np.random.default_rng(13)
    n, dim = 8_000, 64
    probe = _unit(rng.standard_normal(dim))
    matrix = _near(rng, np.repeat(probe[None, :], n, axis=0), 0.03) if alike else _unit(rng.standard_normal((n, dim)))
    order = np.argsort(-(matrix.astype(np.float64) @ probe))
    entry_ids = np.arange(n) + 10
    entry_ids[order[:11]] = [1, 2] * 5 + [1]
    image_ids = np.arange(n) + 100
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=int8_min_size)
    _assert_exact(g, matrix, image_ids, entry_ids, probe[None, :], 3)
    assert g.search(probe, k=3)[0][2].image_id == order[11] + 100
    assert g.full_scans == (2 if alike else 0)


def test_a_zero_probe_and_float64_input():
    rng = np.random.default_rng(9)
    matrix, image_ids, entry_ids = _gallery_data(rng, 500)
    g = Gallery(matrix.astype(np.float64), image_ids, entry_ids, int8_min_size=0)
    zero, near = g.search(np.vstack([np.zeros(128), matrix[3].astype(np.float64)]), k=3)
    assert [c.score for c in zero] == [0.0, 0.0, 0.0] and len({c.entry_id for c in zero}) == 3
    assert (near[0].image_id, type(near[0].score)) == (image_ids[3], float)
    assert g.search(np.zeros((0, 128))) == [] and g.search(matrix[0], k=0) == [[]]


@pytest.mark.parametrize("huge", [False, True])
def test_the_bound_covers_the_real_error_of_every_row(huge):
    """The proof in gallery.py, checked: |q . x_i - a_i| <= W for every row and probe, and W
    small enough to be worth having."""
    rng = np.random.default_rng(10 + huge)
    matrix = _unit(rng.standard_normal((3_000, 128)))
    probes = _unit(rng.standard_normal((20, 128)))
    if huge:
        matrix[:50] = _unit(matrix[:50] + 30 * np.eye(1, 128, 5))
        probes[:5] = _unit(probes[:5] + 30 * np.eye(1, 128, 9))
    g = Gallery(matrix, np.arange(3_000), np.arange(3_000), int8_min_size=0)
    ints, _, unit, bound = g._int8.probe(probes)
    approx = unit[:, None] * ints[:, :3_000].astype(np.float64)
    error = np.abs(probes.astype(np.float64) @ matrix.T.astype(np.float64) - approx)
    assert (error <= bound[:, None]).all()
    assert (bound < 0.1).all() and error.max() > bound.min() / 20
    assert (ints[:, 3_000:] == 0).all()  # the padding scores nothing


def test_the_integer_product_is_exact_at_its_extremes():
    """Codes at +-63 times +-127 in every column: on CPUs whose kernel adds products in pairs
    into int16, a full-range uint8 query would saturate here."""
    rng = np.random.default_rng(11)
    dim = 256
    columns = np.stack([np.full(dim, 127), np.full(dim, -127), np.where(np.arange(dim) % 2, 127, -127),
                        *rng.integers(-GALLERY_LEVELS, GALLERY_LEVELS + 1, (61, dim))], axis=1).astype(np.int8)
    codes = np.vstack([np.full(dim, QUERY_LEVELS), np.full(dim, -QUERY_LEVELS),
                       rng.integers(-QUERY_LEVELS, QUERY_LEVELS + 1, (6, dim))])
    got, maxima = Int8Product(columns, 16)((codes + QUERY_ZERO).astype(np.uint8))
    want = codes.astype(np.int64) @ columns.astype(np.int64)
    assert got.dtype == maxima.dtype == np.int32
    assert np.array_equal(got, want) and np.array_equal(maxima, want.reshape(8, 4, 16).max(axis=2))
    assert got[0, 0] == QUERY_LEVELS * 127 * dim


def test_the_hand_written_model_is_valid_onnx():
    onnx = pytest.importorskip("onnx")  # a development tool; the product writes the bytes itself
    columns = np.arange(-12, 12, dtype=np.int8).reshape(4, 6)
    model = onnx.load_from_string(model_bytes(columns, 3))
    onnx.checker.check_model(model, full_check=True)
    assert [(n.op_type, list(n.input), list(n.output)) for n in model.graph.node] == [
        ("MatMulInteger", ["A", "B", "zero"], ["Y"]), ("Reshape", ["Y", "blocks"], ["Y3"]), ("ReduceMax", ["Y3"], ["M"])]
    reduce = {a.name: onnx.helper.get_attribute_value(a) for a in model.graph.node[2].attribute}
    assert reduce == {"axes": [2], "keepdims": 0}
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert np.array_equal(weights["B"], columns) and weights["zero"] == QUERY_ZERO
    assert weights["blocks"].tolist() == [0, -1, 3]


def _probe_term_case(rng, dim=128):
    """Rows exactly on the int8 grid (e = 0) and a probe whose codes all sit 0.49 of a level off
    (|f| as large as it gets), with a row whose signs follow f: the error is s f . c, nearly B."""
    sign = np.where(rng.random(dim) < 0.5, -1.0, 1.0)
    probe = sign * (rng.integers(0, 63, dim) + 0.49) / 63
    probe[0] = 1.0  # the largest component: t = 1/63 exactly, and f_0 = 0
    matrix = np.where(rng.random((300, dim)) < 0.5, -1.0, 1.0)
    matrix[17] = sign
    return 3 * matrix / np.sqrt(dim), probe  # rows of norm 3: |s c| is not 1


def _gallery_term_case(rng, dim=128):
    """A probe exactly on its grid (f = 0) and rows 0.49 of a level off the gallery's grid in the
    direction of the probe's signs: the error is q . e, nearly B."""
    sign = np.where(rng.random(dim) < 0.5, -1.0, 1.0)
    scale = 1 / GALLERY_LEVELS  # fixed by the one row with a component of 1
    matrix = scale * (rng.integers(-5, 6, (300, dim)) + 0.49 * sign)
    matrix[0] = np.eye(1, dim, 0)
    return matrix, sign / np.sqrt(dim)


@pytest.mark.parametrize("case", [_gallery_term_case, _probe_term_case])
def test_data_built_to_meet_the_bound_comes_within_one_percent_of_it(case):
    """Each term of B met almost with equality: a bound a term short, or half as large, fails here."""
    matrix, probe = case(np.random.default_rng(12))
    matrix, probe = matrix.astype(np.float32), probe.astype(np.float32)
    g = Gallery(matrix, np.arange(len(matrix)), np.arange(len(matrix)), int8_min_size=0)
    ints, _, unit, bound = g._int8.probe(probe[None, :])
    error = np.abs(matrix.astype(np.float64) @ probe - unit[0] * ints[0, : len(matrix)])
    assert (error <= bound[0]).all() and error.max() > 0.99 * bound[0]


@pytest.mark.parametrize("n", [3_001, 3_072])
def test_every_score_below_zero_and_the_padding_scoring_zero(n):
    """The last block's zero padding scores 0, above every real row: it must neither raise the
    cut nor come back as a row."""
    rng = np.random.default_rng(n)
    probe = _unit(rng.standard_normal(128))
    noise = rng.standard_normal((n, 128))
    noise -= (noise @ probe)[:, None] * probe
    matrix = _unit(-(0.3 + 60 * rng.random(n))[:, None] * probe + noise)  # every score below zero
    image_ids, entry_ids = np.arange(n), np.arange(n) // 2
    g = Gallery(matrix, image_ids, entry_ids, int8_min_size=0)
    _assert_exact(g, matrix, image_ids, entry_ids, probe[None, :], 5)
    assert g.search(probe, k=5)[0][0].score < 0 and g.full_scans == 0

"""The watchlist gallery: every entry image's embedding in one normalised matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from console.pipeline.int8_product import GALLERY_LEVELS, QUERY_LEVELS, QUERY_ZERO, Int8Product

BLOCK = 128  # rows per block for the two-level top-k (see _top_indices)
# From this many images the int8 pass pays (docs/performance.md): 10 faces at 20,000-50,000 take
# 0.45-0.7 of the float32 search's time; below, either is within about 0.1 ms of the other.
INT8_MIN_SIZE = 20_000
RERANK_SHARE = 16  # more candidates than one row in this many: score the probe against every row instead


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    image_id: int
    score: float


def _top_indices(scores: np.ndarray, take: int, valid: int) -> np.ndarray:
    """Exact indices of the ``take`` largest scores of each row, best first.

    A full argpartition over 100,000 scores costs about 1 ms a row. Instead the scores are
    cut into blocks of BLOCK: the ``take`` blocks with the largest maxima hold every one of
    the ``take`` largest scores (each such score lies in a block whose maximum is at least
    as large, and at most ``take`` blocks can have a maximum at or above the take-th
    score), so only those blocks are searched exactly.
    """
    p, n = scores.shape
    take = min(take, valid)
    if n <= 8 * BLOCK or take * 4 >= n // BLOCK:
        idx = np.argpartition(-scores[:, :valid], take - 1, axis=1)[:, :take]
    else:
        maxima = scores.reshape(p, n // BLOCK, BLOCK).max(axis=2)
        if valid < n:  # padding (zero rows) must not lend a block its maximum: real rows only
            last = valid // BLOCK
            maxima[:, last:] = -np.inf
            if valid % BLOCK:
                maxima[:, last] = scores[:, last * BLOCK:valid].max(axis=1)
        top_blocks = np.argpartition(-maxima, take - 1, axis=1)[:, :take]  # (p, take)
        cols = (top_blocks[:, :, None] * BLOCK + np.arange(BLOCK)).reshape(p, -1)  # (p, take*BLOCK)
        sub = np.take_along_axis(scores, cols, axis=1)
        sub[cols >= valid] = -np.inf  # padding rows
        pick = np.argpartition(-sub, take - 1, axis=1)[:, :take]
        idx = np.take_along_axis(cols, pick, axis=1)
    order = np.argsort(-np.take_along_axis(scores, idx, axis=1), axis=1)
    return np.take_along_axis(idx, order, axis=1)


class _Int8Scores:
    """Approximate scores from an int8 copy of the gallery, with a bound on their error.

    The gallery's rows x_i get one scale s = max|x| / 127 and codes c_i = round(x_i / s); a probe
    q gets its own scale t = max|q| / 63 and codes d = round(q / t). The approximate score is
    a_i = t s (d . c_i), from onnxruntime's exact int32 product. With e_i = x_i - s c_i and
    f = q - t d (both real, not rounded):

        q . x_i - t s (d . c_i) = q . e_i + s (f . c_i)

    (expand: q.x_i - s q.c_i + s q.c_i - t s d.c_i), so by Cauchy-Schwarz

        |q . x_i - a_i| <= |q| max_j |e_j| + |f| max_j |s c_j| =: B,

    the max norms taken once, here, and |f| per probe. The ranking itself uses float32 scores
    r_i, computed the same way for every row; they differ from the real q . x_i by at most
    gamma_d |q| |x_i| with gamma_d = d u / (1 - d u), u = 2^-24 (the standard bound for a
    float32 dot product of length d, in any order). The slack 2 d u |q| max_j |x_j| covers it
    and the float64 rounding of a_i and of B (about 1e-16 of them) many times over. So with
    W = B + slack, |r_i - a_i| <= W for every row (``Gallery._int8_top`` uses it).
    """

    def __init__(self, rows: np.ndarray, padded: int) -> None:
        n, dim = rows.shape
        largest = max(float(rows.max()), -float(rows.min()))  # max |x| without a temporary the size of rows
        self.scale = largest / GALLERY_LEVELS or 1.0
        codes = np.zeros((dim, padded), np.int8)  # zero columns pad the last block
        squares = np.zeros(3)  # the largest |e_i|^2, |c_i|^2 and |x_i|^2
        for start in range(0, n, 4096):  # slices: float64 copies stay small, transposing stays in cache
            x = rows[start : start + 4096].astype(np.float64)
            c = np.clip(np.rint(x / self.scale), -GALLERY_LEVELS, GALLERY_LEVELS)
            codes[:, start : start + len(x)] = c.astype(np.int8).T
            e = x - self.scale * c
            squares = np.maximum(squares, [np.einsum("ij,ij->i", v, v).max() for v in (e, c, x)])
        self.error_norm, code_norm, self.row_norm = np.sqrt(squares).tolist()
        self.code_norm = self.scale * code_norm
        self.dim = dim
        self.product = Int8Product(codes, BLOCK)

    def probe(self, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each probe's integer scores d . c_i and their maxima by block, its unit t s
        (a_i = t s d . c_i) and its W."""
        q = probes.astype(np.float64)
        t = np.abs(q).max(axis=1) / QUERY_LEVELS
        t[t == 0] = 1.0  # a zero probe: codes 0, f = 0
        d = np.clip(np.rint(q / t[:, None]), -QUERY_LEVELS, QUERY_LEVELS)
        q_norm = np.linalg.norm(q, axis=1)
        f_norm = np.linalg.norm(q - t[:, None] * d, axis=1)
        slack = 2 * self.dim * 2.0**-24 * q_norm * self.row_norm
        bound = q_norm * self.error_norm + f_norm * self.code_norm + slack
        return *self.product((d + QUERY_ZERO).astype(np.uint8)), t * self.scale, bound


class Gallery:
    """Top-k search by cosine similarity (dot product of L2-normalised rows).

    Several images of one subject count once: the k candidates are k different
    subjects, each with the score of its best-matching image. Exact either way: below
    ``int8_min_size`` images one float32 product scores every row (the matrix kept transposed
    and padded to whole blocks); from it an int8 pass bounds every row's score and only the
    rows that could be among the best are scored in float32 (``_int8_top``).
    """

    def __init__(self, matrix: np.ndarray, image_ids: np.ndarray, entry_ids: np.ndarray,
                 int8_min_size: int = INT8_MIN_SIZE) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        self.size = int(matrix.shape[0])
        self.dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0
        padded = -(-self.size // BLOCK) * BLOCK
        self.image_ids = np.asarray(image_ids)
        self.entry_ids = np.asarray(entry_ids)
        self.reranked = 0  # rows scored in float32 by the int8 path, and probes it scored against every row
        self.full_scans = 0  # (counted without a lock: figures for the benchmark, not for decisions)
        self._int8: _Int8Scores | None = None
        if self.size and self.size >= int8_min_size:
            self._rows = np.array(matrix, order="C")  # a copy, row-major: a candidate's row is one read
            self._int8 = _Int8Scores(self._rows, padded)
        else:
            self._by_column = np.zeros((self.dim, padded), dtype=np.float32)
            self._by_column[:, : self.size] = matrix.T

    def __len__(self) -> int:
        return self.size

    @property
    def matrix(self) -> np.ndarray:
        return self._rows if self._int8 is not None else self._by_column[:, : self.size].T

    @classmethod
    def empty(cls, dim: int = 128) -> Gallery:
        return cls(np.zeros((0, dim), np.float32), np.zeros(0, int), np.zeros(0, int))

    def search(self, probes: np.ndarray, k: int = 3) -> list[list[Candidate]]:
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        if self.size == 0 or len(probes) == 0 or k < 1:
            return [[] for _ in range(len(probes))]
        top = self._float_top(probes) if self._int8 is None else self._int8_top(probes)
        take = min(self.size, k * 4)  # more rows than k, so that k distinct subjects survive de-duplication
        results = []
        for row in range(len(probes)):
            cands = self._distinct(*top(row, take), k)
            if len(cands) < k and take < self.size:  # one subject filled the short list
                cands = self._distinct(*top(row, min(self.size, take * 16)), k)
            results.append(cands)
        return results

    def _float_top(self, probes: np.ndarray):
        """``top(row, take)``: probe ``row``'s best ``take`` rows, best first, and their scores."""
        scores = probes @ self._by_column  # (p, padded)

        def top(row: int, take: int) -> tuple[np.ndarray, np.ndarray]:
            idx = _top_indices(scores[row : row + 1], take, self.size)[0]
            return idx, scores[row, idx]

        return top

    def _int8_top(self, probes: np.ndarray):
        """As ``_float_top``, exactly, from the int8 pass (``_Int8Scores``: |r_i - a_i| <= W).

        Let A be the take-th largest a_i. At least ``take`` rows have a_i >= A, so r_i >= A - W,
        so the take-th largest r is >= A - W. A row j of the exact top ``take`` has r_j at least
        that, so a_j >= r_j - W >= A - 2 W. The cut used is the take-th largest block maximum,
        which is <= A (those ``take`` maxima are ``take`` distinct rows at or above it), so every
        such row has a_j >= cut - 2 W and lies in a block whose maximum clears it. Those rows
        (ties at the take-th score included) are scored in float32 and the best ``take`` kept.
        """
        ints, maxima, unit, bound = self._int8.probe(probes)
        margins = np.ceil(2 * bound / unit).astype(np.int64)  # 2 W in integer units, rounded up: wider, still exact
        p, padded = ints.shape
        blocks = ints.reshape(p, padded // BLOCK, BLOCK)
        if self.size % BLOCK:  # the zero padding must not lend the last block its maximum
            maxima[:, -1] = ints[:, self.size - self.size % BLOCK : self.size].max(axis=1)
        n_blocks = maxima.shape[1]

        def top(row: int, take: int) -> tuple[np.ndarray, np.ndarray]:
            if take <= n_blocks:
                cut = np.partition(maxima[row], n_blocks - take)[n_blocks - take]
            else:  # fewer blocks than rows wanted: the take-th largest score itself
                cut = np.partition(ints[row, : self.size], self.size - take)[self.size - take]
            floor = np.int64(cut) - margins[row]
            hit = np.flatnonzero(maxima[row] >= floor)
            rows = (hit[:, None] * BLOCK + np.arange(BLOCK))[blocks[row, hit] >= floor]  # ascending
            rows = rows[rows < self.size]
            probe = probes[row]
            if len(rows) * RERANK_SHARE > self.size:  # scores too close to tell apart: every row, in float32
                self.full_scans += 1
                scores = self._rows @ probe
                idx = np.argpartition(-scores, take - 1)[:take]
                idx = idx[np.argsort(-scores[idx], kind="stable")]
                return idx, scores[idx]
            self.reranked += len(rows)
            exact = (self._rows[rows] * probe).sum(axis=1)  # the same sum for every row: equal rows tie exactly
            order = np.argsort(-exact, kind="stable")[:take]  # ties: the earlier row first
            return rows[order], exact[order]

        return top

    def _distinct(self, indices: np.ndarray, scores: np.ndarray, k: int) -> list[Candidate]:
        seen: set[int] = set()
        cands = []
        for i, score in zip(indices, scores, strict=True):
            entry = int(self.entry_ids[i])
            if entry in seen:
                continue
            seen.add(entry)
            cands.append(Candidate(entry, int(self.image_ids[i]), float(score)))
            if len(cands) == k:
                break
        return cands

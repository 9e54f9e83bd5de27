"""The watchlist gallery: every entry image's embedding in one normalised matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 128  # rows per block for the two-level top-k (see _top_indices)


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


class Gallery:
    """Top-k search by cosine similarity (dot product of L2-normalised rows).

    Several images of one subject count once: the k candidates are k different
    subjects, each with the score of its best-matching image. The matrix is kept
    transposed and padded to whole blocks so one BLAS call scores every probe.
    """

    def __init__(self, matrix: np.ndarray, image_ids: np.ndarray, entry_ids: np.ndarray) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        self.size = int(matrix.shape[0])
        self.dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0
        padded = -(-self.size // BLOCK) * BLOCK
        self._by_column = np.zeros((self.dim, padded), dtype=np.float32)
        self._by_column[:, : self.size] = matrix.T
        self.image_ids = np.asarray(image_ids)
        self.entry_ids = np.asarray(entry_ids)

    def __len__(self) -> int:
        return self.size

    @property
    def matrix(self) -> np.ndarray:
        return self._by_column[:, : self.size].T

    @classmethod
    def empty(cls, dim: int = 128) -> Gallery:
        return cls(np.zeros((0, dim), np.float32), np.zeros(0, int), np.zeros(0, int))

    def search(self, probes: np.ndarray, k: int = 3) -> list[list[Candidate]]:
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        if self.size == 0 or len(probes) == 0:
            return [[] for _ in range(len(probes))]
        scores = probes @ self._by_column  # (p, padded)
        results = []
        take = k * 4  # more rows than k, so that k distinct subjects survive de-duplication
        idx = _top_indices(scores, take, self.size)
        for row, (cand_idx, probe_scores) in enumerate(zip(idx, scores, strict=True)):
            cands = self._distinct(cand_idx, probe_scores, k)
            if len(cands) < k and len(cand_idx) < self.size:  # one subject filled the short list
                wide = _top_indices(scores[row : row + 1], min(self.size, take * 16), self.size)[0]
                cands = self._distinct(wide, probe_scores, k)
            results.append(cands)
        return results

    def _distinct(self, indices: np.ndarray, scores: np.ndarray, k: int) -> list[Candidate]:
        seen: set[int] = set()
        cands = []
        for i in indices:
            entry = int(self.entry_ids[i])
            if entry in seen:
                continue
            seen.add(entry)
            cands.append(Candidate(entry, int(self.image_ids[i]), float(scores[i])))
            if len(cands) == k:
                break
        return cands


ANN_MIN_SIZE = 1_000_000


class ApproximateGallery(Gallery):
    """FAISS inverted-file index for galleries past a million images (optional extra 'ann').

    Exact search scans every row (about 60 ms for a million on two cores); the index scans
    the ``nprobe`` nearest of ``nlist`` clusters. It can miss a match that exact search
    would find; the benchmark reports how often (recall on planted matches).
    """

    def __init__(self, matrix: np.ndarray, image_ids: np.ndarray, entry_ids: np.ndarray,
                 nlist: int | None = None, nprobe: int = 128) -> None:
        import faiss

        super().__init__(matrix, image_ids, entry_ids)
        data = np.ascontiguousarray(matrix, dtype=np.float32)
        nlist = nlist or max(64, int(4 * np.sqrt(len(data))))
        quantiser = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantiser, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = data[rng.choice(len(data), size=min(len(data), nlist * 40), replace=False)]
        index.train(sample)
        index.add(data)
        index.nprobe = nprobe
        self._index = index

    def search(self, probes: np.ndarray, k: int = 3) -> list[list[Candidate]]:
        probes = np.ascontiguousarray(np.atleast_2d(probes), dtype=np.float32)
        scores, idx = self._index.search(probes, k * 4)
        results = []
        for row_scores, row_idx in zip(scores, idx, strict=True):
            valid = row_idx >= 0
            lookup = np.full(self.size, -np.inf, dtype=np.float32)
            lookup[row_idx[valid]] = row_scores[valid]
            results.append(self._distinct(row_idx[valid], lookup, k))
        return results


def build_gallery(matrix: np.ndarray, image_ids: np.ndarray, entry_ids: np.ndarray) -> Gallery:
    """Exact search up to a million images; the FAISS index beyond, when installed."""
    if len(matrix) >= ANN_MIN_SIZE:
        try:
            return ApproximateGallery(matrix, image_ids, entry_ids)
        except ImportError:
            pass
    return Gallery(matrix, image_ids, entry_ids)

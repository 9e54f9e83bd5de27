"""The watchlist gallery: every entry image's embedding in one normalised matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    image_id: int
    score: float


class Gallery:
    """Top-k search by cosine similarity (dot product of L2-normalised rows).

    Several images of one subject count once: the k candidates are k different
    subjects, each with the score of its best-matching image.
    """

    def __init__(self, matrix: np.ndarray, image_ids: np.ndarray, entry_ids: np.ndarray) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.image_ids = np.asarray(image_ids)
        self.entry_ids = np.asarray(entry_ids)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def empty(cls, dim: int = 128) -> Gallery:
        return cls(np.zeros((0, dim), np.float32), np.zeros(0, int), np.zeros(0, int))

    def search(self, probes: np.ndarray, k: int = 3) -> list[list[Candidate]]:
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        if len(self) == 0:
            return [[] for _ in range(len(probes))]
        scores = probes @ self.matrix.T  # (p, n)
        results = []
        for row in scores:
            # Take more than k rows so that k distinct subjects survive de-duplication.
            take = min(len(row), max(k * 4, k))
            idx = np.argpartition(-row, take - 1)[:take]
            idx = idx[np.argsort(-row[idx])]
            seen: set[int] = set()
            cands = []
            for i in idx:
                entry = int(self.entry_ids[i])
                if entry in seen:
                    continue
                seen.add(entry)
                cands.append(Candidate(entry, int(self.image_ids[i]), float(row[i])))
                if len(cands) == k:
                    break
            results.append(cands)
        return results

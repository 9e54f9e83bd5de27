"""Watchlist search time against gallery size (exact, and FAISS IVF past a million).

    python main.py bench gallery --sizes 1000,10000,100000,1000000 [--ann]
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import pct


def bench_gallery(sizes: list[int], probes: int, ann: bool) -> dict:
    from console.pipeline.gallery import ApproximateGallery, Gallery

    rng = np.random.default_rng(7)
    rows = []
    largest = None
    for n in sizes:
        matrix = rng.standard_normal((n, 128), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        gallery = Gallery(matrix, np.arange(n), np.arange(n) // 2)  # two images per subject
        targets = rng.choice(n, probes, replace=False)
        q = matrix[targets] + 0.05 * rng.standard_normal((probes, 128), dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        gallery.search(q)
        times = []
        for _ in range(15):
            t = time.perf_counter()
            gallery.search(q)
            times.append(time.perf_counter() - t)
        rows.append({"size": n, "probes": probes, "ms_median": round(pct(times, 50) * 1000, 2),
                     "ms_p95": round(pct(times, 95) * 1000, 2), "index": "exact"})
        print(f"gallery {n:>9,} images, {probes} faces: exact search median {rows[-1]['ms_median']:.2f} ms "
              f"(p95 {rows[-1]['ms_p95']:.2f} ms)", flush=True)
        largest = (matrix, targets, q)
    if ann and largest is not None:
        matrix, targets, q = largest
        n = len(matrix)
        t = time.perf_counter()
        index = ApproximateGallery(matrix, np.arange(n), np.arange(n))
        build = time.perf_counter() - t
        index.search(q)
        times = []
        for _ in range(15):
            t = time.perf_counter()
            found = index.search(q)
            times.append(time.perf_counter() - t)
        recall = float(np.mean([bool(f) and f[0].entry_id == tgt for f, tgt in zip(found, targets, strict=True)]))
        rows.append({"size": n, "probes": probes, "ms_median": round(pct(times, 50) * 1000, 2),
                     "ms_p95": round(pct(times, 95) * 1000, 2), "index": "faiss-ivf", "build_s": round(build, 1),
                     "recall_at_1": recall})
        print(f"gallery {n:>9,} images: FAISS IVF index built in {build:.1f} s, search median "
              f"{rows[-1]['ms_median']:.2f} ms, recall@1 on planted matches {recall:.2f} "
              "(random embeddings: the index's worst case)", flush=True)
    return {"gallery": rows}

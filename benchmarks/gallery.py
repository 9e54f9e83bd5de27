"""Watchlist search time against gallery size, beside a plain float32 matrix product.

    python main.py bench gallery --sizes 1000,10000,100000,1000000 --probes 10

For each size, in the same run: the search as built (the int8 pass from INT8_MIN_SIZE images),
the float32 search it replaced at that size (``int8_min_size`` past the size), and numpy's
``probes @ matrix.T`` alone, which any exhaustive float32 search must at least do.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import pct

REPEATS = 15


def _times(fn, *args) -> list[float]:
    fn(*args)  # warm-up: first-touch page faults, onnxruntime's buffers
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return times


def _ms(times: list[float]) -> dict:
    return {"ms_median": round(pct(times, 50) * 1000, 2), "ms_p95": round(pct(times, 95) * 1000, 2)}


def bench_gallery(sizes: list[int], probes: int) -> dict:
    from console.pipeline.gallery import Gallery

    rng = np.random.default_rng(7)
    rows = []
    for n in sizes:
        matrix = rng.standard_normal((n, 128), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        targets = rng.choice(n, probes, replace=False)
        q = matrix[targets] + 0.05 * rng.standard_normal((probes, 128), dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        t = time.perf_counter()
        gallery = Gallery(matrix, np.arange(n), np.arange(n) // 2)  # two images per subject
        build = time.perf_counter() - t
        search = _times(gallery.search, q)
        found = gallery.search(q)
        hits = float(np.mean([bool(f) and f[0].entry_id == tgt // 2 for f, tgt in zip(found, targets, strict=True)]))
        searches = (REPEATS + 2) * probes
        reranked, full_scans = gallery.reranked / searches, gallery.full_scans
        del gallery
        before = Gallery(matrix, np.arange(n), np.arange(n) // 2, int8_min_size=n + 1)
        previous = _times(before.search, q)
        del before
        plain = _times(np.matmul, q, matrix.T)
        row = {"size": n, "probes": probes, "search": _ms(search), "float32_search": _ms(previous),
               "plain_product": _ms(plain), "build_s": round(build, 2),
               "ratio_to_plain": round(pct(search, 50) / pct(plain, 50), 3),
               "ratio_to_float32_search": round(pct(search, 50) / pct(previous, 50), 3),
               "rows_reranked_per_probe": round(reranked, 1), "full_scans": full_scans, "top1_planted": hits}
        rows.append(row)
        print(f"gallery {n:>9,} images, {probes} faces: search median {row['search']['ms_median']:.2f} ms "
              f"(p95 {row['search']['ms_p95']:.2f}), built in {build:.2f} s; float32 search "
              f"{row['float32_search']['ms_median']:.2f} ms (p95 {row['float32_search']['ms_p95']:.2f}); "
              f"plain probes @ matrix.T {row['plain_product']['ms_median']:.2f} ms "
              f"(p95 {row['plain_product']['ms_p95']:.2f}); search / plain {row['ratio_to_plain']:.2f}, "
              f"search / float32 search {row['ratio_to_float32_search']:.2f}; rows re-ranked per face "
              f"{reranked:.1f}, full scans {full_scans}; planted match first {hits:.2f}", flush=True)
    return {"gallery": rows}

"""Watchlist search time against gallery size, beside a plain float32 matrix product.

    python main.py bench gallery --sizes 1000,10000,100000,1000000 --probes 10

For each size, in the same run, taking turns: the search as built (the int8 pass from
INT8_MIN_SIZE images), the float32 search it replaced at that size (``int8_min_size`` past the
size), and numpy's ``probes @ matrix.T`` alone, which any exhaustive float32 search must do.
"""

from __future__ import annotations

import os
import time

import numpy as np

from benchmarks.common import pct

ROUNDS, REPEATS = 3, 7


def _rotated(calls: dict) -> dict[str, list[float]]:
    """Each call timed REPEATS times in a row, the calls taking turns for ROUNDS rounds, so that
    the shared machine's slow spells fall on all of them alike. Each turn starts with an untimed
    call: right after numpy's product, OpenBLAS's threads still hold the cores for a while (the
    search took 34 ms just after one, 15-20 ms on its own), which is the product's cost, not the
    next call's."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(ROUNDS):
        for name, (fn, *args) in calls.items():
            fn(*args)
            for _ in range(REPEATS):
                t = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - t)
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
        before = Gallery(matrix, np.arange(n), np.arange(n) // 2, int8_min_size=n + 1)
        times = _rotated({"search": (gallery.search, q), "float32": (before.search, q),
                          "plain": (np.matmul, q, matrix.T)})
        search, previous, plain = times["search"], times["float32"], times["plain"]
        found = gallery.search(q)
        hits = float(np.mean([bool(f) and f[0].entry_id == tgt // 2 for f, tgt in zip(found, targets, strict=True)]))
        searches = (ROUNDS * (REPEATS + 1) + 1) * probes
        reranked, full_scans = gallery.reranked / searches, gallery.full_scans
        del gallery, before
        row = {"size": n, "probes": probes, "search": _ms(search), "float32_search": _ms(previous),
               "plain_product": _ms(plain), "build_s": round(build, 2),
               "ratio_to_plain": round(pct(search, 50) / pct(plain, 50), 3),
               "ratio_to_float32_search": round(pct(search, 50) / pct(previous, 50), 3),
               "rows_reranked_per_probe": round(reranked, 1), "full_scans": full_scans, "top1_planted": hits,
               "load_average": round(os.getloadavg()[0], 2)}
        rows.append(row)
        print(f"gallery {n:>9,} images, {probes} faces: search median {row['search']['ms_median']:.2f} ms "
              f"(p95 {row['search']['ms_p95']:.2f}), built in {build:.2f} s; float32 search "
              f"{row['float32_search']['ms_median']:.2f} ms (p95 {row['float32_search']['ms_p95']:.2f}); "
              f"plain probes @ matrix.T {row['plain_product']['ms_median']:.2f} ms "
              f"(p95 {row['plain_product']['ms_p95']:.2f}); search / plain {row['ratio_to_plain']:.2f}, "
              f"search / float32 search {row['ratio_to_float32_search']:.2f}; rows re-ranked per face "
              f"{reranked:.1f}, full scans {full_scans}; planted match first {hits:.2f}; load average "
              f"{row['load_average']:.2f}", flush=True)
    return {"gallery": rows}

"""The decision log over a large history: count and page queries.

    python main.py bench log --alerts 100000
"""

from __future__ import annotations

import time


def bench_log(alerts: int) -> dict:
    """The decision log over a large history: count and page queries (run as background jobs in the UI)."""
    import tempfile

    from console.services.accounts.auth import actor_for
    from console.services.record import stats
    from console.store import open_store, repo

    with tempfile.TemporaryDirectory() as tmp, open_store(tmp) as s:
        sup = repo.create_user(s, "sup", "S", "supervisor")
        dep = repo.create_deployment(s, repo.DeploymentSpec("D", "P", "R", "2026-01-01T08:00:00Z",
                                                            "2026-01-01T18:00:00Z", 0.4, 0.363, "m"), sup, "sup")
        repo.activate_deployment(s, dep, "sup")
        cam = repo.add_camera(s, dep, "C", "demo:0", "sup")
        wl = repo.create_watchlist(s, dep, "W", "sup")
        e = repo.add_entry(s, wl, repo.EntrySpec("R", "N", "missing_person", "b", "r", "s", "2025-01-01",
                                                 "2099-01-01"), sup, "sup")
        with s.transaction() as c:
            c.executemany(
                "INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
                " quality_json, probe_jpeg, probe_sha256, context_jpeg, context_sha256, captured_at, stored_at, priority)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(dep, cam, i, e, 0.4 + (i % 60) / 100, 0.4, "m", "[]", "{}", b"p", "h", b"c", "h",
                  "2026-01-01T09:00:00Z", f"2026-01-01T{9 + i // 360000:02d}:{i // 6000 % 60:02d}:{i // 100 % 60:02d}."
                  f"{i % 100:06d}Z", 2) for i in range(alerts)])
        out = {}
        reader = actor_for(s, "sup")  # the decision log is read as a supervisor, as in the review window
        for name, f in (("all", stats.LogFilter(deployment_id=dep)),
                        ("score >= 0.9", stats.LogFilter(deployment_id=dep, score_min=0.9)),
                        ("text search", stats.LogFilter(deployment_id=dep, text="nothing like this"))):
            t0 = time.perf_counter()
            n = stats.log_count(s, reader, f)
            t1 = time.perf_counter()
            stats.log_page(s, reader, f, 0, 200)
            t2 = time.perf_counter()
            stats.log_page(s, reader, f, n // 2, 200)
            t3 = time.perf_counter()
            out[name] = {"rows": n, "count_ms": round(1000 * (t1 - t0)), "first_page_ms": round(1000 * (t2 - t1)),
                         "middle_page_ms": round(1000 * (t3 - t2))}
            print(f"decision log of {alerts:,} alerts, filter {name}: {n:,} rows; count {out[name]['count_ms']} ms, "
                  f"first page of 200 {out[name]['first_page_ms']} ms, a page in the middle {out[name]['middle_page_ms']} ms")
        return {"log": out}

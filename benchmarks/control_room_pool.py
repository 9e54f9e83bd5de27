"""A control room across processes: a pool of real `main.py worker --pool` processes sharing one
deployment's cameras through leases, the demo's generated video on every camera, real models.

    python main.py bench control-room --cameras 24 --workers 3 [--db postgresql://SERVER/DB] [--seconds 40]

With --db, a fresh database is made on that server for the run and dropped after it (the URL's own
database is only used to make it); without, a temporary SQLite store (one machine). Prints:

- per camera, the analysed frame rate the workers' heartbeats report (mean over the run);
- alert latency across hosts: from the frame's capture to the alert's row in the store (p50, p95);
- failover: one worker is killed with SIGKILL; the time until another worker holds the lease of every
  camera it had, and until every one is reported analysing there (the issue's bound: 10 s).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fresh_store(url: str | None, tmp: Path):
    """(store, location, drop): a new PostgreSQL database on the server of ``url``, or SQLite in ``tmp``."""
    from console.store import open_location

    if not url:
        store = open_location(tmp / "data")
        return store, ["--data-dir", str(tmp / "data")], lambda: None
    import psycopg

    name = f"orc_bench_pool_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    location = url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

    return open_location(location), ["--db", location], drop


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _analysing(store, dep: int) -> dict[int, tuple[str, int, float]]:
    """Camera -> (worker, frames analysed, analysed fps) now."""
    from console.services.runtime.worker import cameras_analysing

    return {c: (s["worker_id"], int(s["analysed"]), float(s["analysed_fps"]))
            for c, s in cameras_analysing(store, dep).items()}


def bench_pool(url: str | None, cameras: int, workers: int, seconds: float) -> dict:
    from console.services.accounts import worker_access
    from console.services.accounts.auth import actor_for
    from console.services.setup import deployments
    from console.services.setup.demo import DEMO_ADMIN, DEMO_OPERATOR, ensure_demo_deployment
    from console.store import leases
    from console.vision.engine import load_engine

    if cameras < 1 or workers < 2:
        raise ValueError("the pool benchmark needs at least 1 camera and 2 workers (one is killed)")
    with tempfile.TemporaryDirectory(prefix="orc-bench-pool-") as tmp:
        store, where, drop = _fresh_store(url, Path(tmp))
        procs: list[subprocess.Popen] = []
        try:
            dep = ensure_demo_deployment(store, load_engine(), cameras)
            deployments.start_or_join(store, actor_for(store, DEMO_OPERATOR), dep)
            admin = actor_for(store, DEMO_ADMIN)
            for i in range(workers):
                token = worker_access.issue(store, admin, dep, f"bench host {i}").token
                procs.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "main.py"), "worker", *where, "--deployment", str(dep), "--pool"],
                    cwd=ROOT, env={**os.environ, "ORC_WORKER_CREDENTIAL": token},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            t0 = time.monotonic()
            while len(_analysing(store, dep)) < cameras and time.monotonic() - t0 < 180:
                time.sleep(0.5)
            shared_out_s = time.monotonic() - t0
            fps: dict[int, list[float]] = {}
            t1 = time.monotonic()
            while time.monotonic() - t1 < seconds:
                for cam, (_w, _n, f) in _analysing(store, dep).items():
                    fps.setdefault(cam, []).append(f)
                time.sleep(1.0)
            per_camera = {cam: statistics.fmean(v) for cam, v in fps.items()}

            held = {int(r["camera_id"]): r["worker_id"] for r in leases.holders(store, dep) if r["live"]}
            victim_id = max(set(held.values()), key=lambda w: list(held.values()).count(w))
            orphaned = sorted(c for c, w in held.items() if w == victim_id)
            victim = next(p for p in procs if str(p.pid) in victim_id.split("-"))
            before = _analysing(store, dep)
            victim.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            failover_s = taken_s = None
            while time.monotonic() - killed < 60:
                if taken_s is None:
                    live = {int(r["camera_id"]): r["worker_id"] for r in leases.holders(store, dep) if r["live"]}
                    if all(live.get(c) not in (None, victim_id) for c in orphaned):
                        taken_s = time.monotonic() - killed
                now = _analysing(store, dep)
                if all(c in now and now[c][0] != victim_id and now[c][1] > 0 for c in orphaned):
                    failover_s = time.monotonic() - killed
                    break
                time.sleep(0.1)
            rows = store.query("SELECT captured_at, stored_at FROM alerts WHERE deployment_id = ?", (dep,))
            latency = sorted(_seconds(r["stored_at"]) - _seconds(r["captured_at"]) for r in rows)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
            store.close()
            drop()

    def pct(q: float) -> float | None:
        return round(latency[min(len(latency) - 1, int(q * len(latency)))], 3) if latency else None

    return {
        "store": "postgresql" if url else "sqlite (one machine)", "cameras": cameras, "workers": workers,
        "cameras_analysing_after_s": round(shared_out_s, 1), "measured_s": seconds,
        "analysed_fps_per_camera": {"min": round(min(per_camera.values()), 2) if per_camera else None,
                                    "mean": round(statistics.fmean(per_camera.values()), 2) if per_camera else None,
                                    "max": round(max(per_camera.values()), 2) if per_camera else None},
        "alerts": len(latency), "alert_latency_s": {"p50": pct(0.5), "p95": pct(0.95)},
        "killed_worker_cameras": len(orphaned),
        "leases_taken_over_s": round(taken_s, 2) if taken_s else None,  # every orphaned lease held by another
        "failover_s": round(failover_s, 2) if failover_s else None,  # ...and reported analysing there
        "failover_bound_s": 10, "cameras_before_kill": len(before),
    }

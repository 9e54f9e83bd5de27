"""A pool of real `main.py worker --pool` processes on one PostgreSQL store: the cameras are shared
out, a worker killed with SIGKILL has its cameras analysed again by the others (the issue's bound is
10 s, measured by `bench control-room --cameras`; asserted loosely here), no camera is handed over
while its lease is live, and the human-oversight stop halts every worker within 2 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from console.services.accounts import worker_access
from console.services.accounts.auth import actor_for
from console.services.runtime.worker import cameras_analysing, worker_states
from console.services.setup import deployments
from console.store import leases, repo
from tests.factories import wait_for

ROOT = Path(__file__).resolve().parents[2]
FAILOVER_LOOSE_S = 30.0  # the benchmark measures against 10 s; a loaded CI machine gets slack here
OBEY_S = 2.0


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def _deployment(store, engine, cameras: int) -> tuple[int, list[int]]:
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor")
    repo.create_user(store, "op", "Operator", "operator")
    repo.create_user(store, "admin", "Admin", "administrator")
    now = datetime.now(UTC)
    dep = repo.create_deployment(store, repo.DeploymentSpec(
        "Pool", "Concourse", "test", _iso(now - timedelta(hours=1)), _iso(now + timedelta(hours=8)),
        engine.default_threshold, engine.default_threshold, engine.model_id, legal_basis="test"), sup, "sup")
    cams = [repo.add_camera(store, dep, f"Cam {i}", f"demo:{i}", "sup") for i in range(cameras)]
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "Somebody", "missing_person", "b", "r", "s",
                                                     "2024-01-01", "2099-01-01"), sup, "sup")
    vector = np.random.default_rng(1).standard_normal(128).astype(np.float32)
    repo.add_entry_image(store, entry, b"jpeg", vector / np.linalg.norm(vector), engine.model_id, {}, "sup")
    deployments.start(store, actor_for(store, "op"), dep)
    return dep, cams


def spawn_pool_worker(store, dep: int, label: str) -> subprocess.Popen:
    """`main.py worker --pool` with a credential of its own, as an administrator issues one per host."""
    token = worker_access.issue(store, actor_for(store, "admin"), dep, label).token
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "worker", "--db", store.url, "--deployment",
                             str(dep), "--pool"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ORC_WORKER_CREDENTIAL": token})


def analysing(store, dep: int) -> dict[int, tuple[str, int]]:
    """Camera id -> (worker, frames analysed) now."""
    return {c: (s["worker_id"], int(s["analysed"])) for c, s in cameras_analysing(store, dep).items()}


def holders(store, dep: int) -> dict[int, str]:
    return {int(r["camera_id"]): r["worker_id"] for r in leases.holders(store, dep) if r["live"]}


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_killed_pool_worker_has_its_cameras_taken_over_and_the_stop_halts_the_rest(db, engine):
    dep, cams = _deployment(db, engine, 4)
    workers = [spawn_pool_worker(db, dep, f"host {i}") for i in range(2)]
    try:
        assert wait_for(lambda: len(holders(db, dep)) == 4 and len(set(holders(db, dep).values())) == 2, 90), \
            f"the pool did not share out its cameras: {leases.holders(db, dep)}"
        assert sorted(list(holders(db, dep).values()).count(w) for w in set(holders(db, dep).values())) == [2, 2]
        assert wait_for(lambda: all(analysing(db, dep).get(c, ("", 0))[1] > 0 for c in cams), 60)

        victim_id = holders(db, dep)[cams[0]]
        pids = {w["worker_id"]: w for w in worker_states(db, dep)}
        victim = next(p for p in workers if str(p.pid) in victim_id.split("-"))
        orphaned = [c for c, w in holders(db, dep).items() if w == victim_id]
        before = {c: analysing(db, dep)[c][1] for c in cams}
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert victim_id in pids

        def taken_over() -> bool:
            now = analysing(db, dep)
            return all(c in now and now[c][0] != victim_id and holders(db, dep).get(c) == now[c][0] for c in orphaned)

        assert wait_for(taken_over, FAILOVER_LOOSE_S), f"not taken over: {leases.holders(db, dep)}"
        failover_s = time.monotonic() - killed
        print(f"\nfailover after SIGKILL: {failover_s:.1f} s for {len(orphaned)} camera(s)")
        assert failover_s < FAILOVER_LOOSE_S
        survivor = holders(db, dep)[orphaned[0]]
        assert all(analysing(db, dep)[c][1] >= 0 for c in orphaned) and before

        # Every hand-over of a camera came after the lease it replaced had lapsed (never two holders).
        taken = db.query("SELECT subject_id, details_json FROM audit_log WHERE action = 'camera.lease_taken' ORDER BY seq")
        for row in taken:
            d = json.loads(row["details_json"])
            if d.get("from_worker"):
                assert d["lapsed_s"] >= 0, d
        epochs: dict[str, list[int]] = {}
        for row in taken:
            epochs.setdefault(row["subject_id"], []).append(json.loads(row["details_json"])["epoch"])
        assert all(e == sorted(set(e)) for e in epochs.values()), epochs
        keys = db.query("SELECT idem_key, COUNT(*) AS n FROM alert_keys GROUP BY idem_key HAVING COUNT(*) > 1")
        assert keys == []

        stopped_at = time.monotonic()
        deployments.stop(db, actor_for(db, "sup"), dep, "pool test: the oversight stop")

        def all_stopped() -> bool:
            states = [w for w in worker_states(db, dep) if w["worker_id"] != victim_id]
            return bool(states) and all(w["state"] == "stopped" for w in states)

        assert wait_for(all_stopped, 10)
        halted_s = time.monotonic() - stopped_at
        print(f"stop reached every live pool worker in {halted_s:.2f} s")
        assert halted_s < OBEY_S + 1.0  # the heartbeat that shows it comes at the next beat after the halt
        assert survivor
    finally:
        for p in workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in workers:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    # A worker that left gave its cameras back: none is held by a process that is gone.
    assert holders(db, dep) == {}

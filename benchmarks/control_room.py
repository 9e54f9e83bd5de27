"""Several seats on one store: workers write alerts while operators claim and decide them.

    python main.py bench control-room --alerts 10000 [--db postgresql://...]
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np


class NotABenchStore(RuntimeError):
    pass


def claim_bench_store(store) -> None:
    """The benchmark writes made-up deployments and password-less accounts: only into a store that is
    empty or already the benchmark's own (marked when it was empty). A store holding any deployment
    or account it did not create is refused, untouched."""
    from console.store import repo

    if repo.get_setting(store, "store", "kind") == "bench":
        return
    held = store.one("SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM deployments) AS deps")
    if held["users"] or held["deps"]:
        raise NotABenchStore("refused: this store holds deployments or accounts the benchmark did not create; "
                             "run it on an empty database (or none: a temporary one is made)")
    repo.set_setting(store, "store", "kind", "bench", None, "bench", "a benchmark's store, made empty")


def bench_control_room(location: str | None, alerts: int, workers: int, feeds: int, operators: int,
                       incident_window_s: int = 300) -> dict:
    """Several seats on one store: simulated workers write alerts while simulated operators claim
    and decide them, all at once. Nothing may be lost, no incident decided twice, nothing left
    pending; the chain must hold. With the default incident window the 20 subjects' alerts group into
    incidents (and later sightings attach to decided ones); ``incident_window_s=0`` decides each alert."""
    import random
    import tempfile

    from console.errors import ConsoleError
    from console.services.accounts import auth
    from console.services.decisions import adjudication
    from console.store import audit, open_location, repo

    tmp = None
    if location is None:
        tmp = tempfile.TemporaryDirectory()
        location = tmp.name
    store = open_location(location)
    try:
        claim_bench_store(store)
        sup = repo.create_user(store, f"bench.sup.{time.time_ns()}", "S", "supervisor")
        ops = [repo.create_user(store, f"bench.op{i}.{time.time_ns()}", f"Op {i}", "operator") for i in range(operators)]
        dep = repo.create_deployment(store, repo.DeploymentSpec("Load test", "P", "R", "2026-01-01T00:00:00Z",
                                                                "2099-01-01T00:00:00Z", 0.4, 0.363, "m",
                                                                incident_window_s=incident_window_s), sup, "bench")
        repo.activate_deployment(store, dep, "bench")
        cams = [repo.add_camera(store, dep, f"Cam {i}", f"demo:{i}", "bench") for i in range(workers * feeds)]
        wl = repo.create_watchlist(store, dep, "WL", "bench")
        entries = []
        for i in range(20):
            e = repo.add_entry(store, wl, repo.EntrySpec(f"R-{i}", f"S{i}", "missing_person", "b", "r", "s",
                                                         "2025-01-01", "2099-01-01"), sup, "bench")
            entries.append((e, repo.add_entry_image(store, e, os.urandom(20000), np.ones(128, np.float32), "m", {},
                                                    "bench")))
        actors = [auth.Actor(uid, store.one("SELECT username FROM users WHERE id = ?", (uid,))["username"], "operator")
                  for uid in ops]
        per_worker = alerts // workers
        written, decided, conflicts = [], [], [0]
        lock = threading.Lock()
        done_writing = threading.Event()
        probe = os.urandom(15000)
        context = os.urandom(120000)

        def worker(w: int) -> None:
            s = store.reopen()
            rng = random.Random(w)
            try:
                for n in range(per_worker):
                    e, img = rng.choice(entries)
                    cam = cams[w * feeds + n % feeds]
                    a = repo.insert_alert(s, repo.AlertRecord(dep, cam, n, [(e, img, 0.5 + rng.random() / 2)], 0.4, "m",
                                                              [0, 0, 1, 1], {}, probe, context, audit.utcnow()))
                    with lock:
                        written.append(a)
            finally:
                s.close()

        def operator(actor) -> None:
            s = store.reopen()
            rng = random.Random(actor.user_id)
            try:
                while True:
                    rows = s.query("SELECT id FROM alerts WHERE deployment_id = ? AND status = 'pending' AND"
                                   " (claimed_by IS NULL OR claim_expires < ?) ORDER BY id LIMIT 8",
                                   (dep, audit.utcnow()))
                    if not rows:
                        if done_writing.is_set():
                            return
                        time.sleep(0.01)
                        continue
                    a = rng.choice(rows)["id"]
                    try:
                        adjudication.open_alert(s, actor, a)
                        if rng.random() < 0.5:
                            adjudication.confirm(s, actor, a)
                        else:
                            adjudication.reject(s, actor, a, "look_alike")
                        with lock:
                            decided.append(a)
                    except ConsoleError:
                        with lock:
                            conflicts[0] += 1  # another seat had it: refused, as it must be
            finally:
                s.close()

        t0 = time.perf_counter()
        ws = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
        os_ = [threading.Thread(target=operator, args=(a,)) for a in actors]
        for t in ws + os_:
            t.start()
        for t in ws:
            t.join()
        t_written = time.perf_counter() - t0
        done_writing.set()
        for t in os_:
            t.join()
        elapsed = time.perf_counter() - t0
        stored = store.one("SELECT COUNT(*) AS n FROM alerts WHERE deployment_id = ?", (dep,))["n"]
        dec_rows = store.query("SELECT a.incident_id, COUNT(*) AS n FROM decisions d JOIN alerts a ON a.id = d.alert_id"
                               " WHERE a.deployment_id = ? GROUP BY a.incident_id", (dep,))
        incidents = store.one("SELECT COUNT(DISTINCT incident_id) AS n FROM alerts WHERE deployment_id = ?",
                              (dep,))["n"]
        pending = store.one("SELECT COUNT(*) AS n FROM alerts WHERE deployment_id = ? AND status = 'pending'",
                            (dep,))["n"]
        chain = audit.verify_chain(store)
        result = {
            "store": getattr(store, "dialect", "sqlite"),
            "alerts_written": len(written), "alerts_stored": stored, "alerts_lost": len(written) - stored,
            "incidents": incidents, "incidents_decided": len(dec_rows),
            "decisions": sum(r["n"] for r in dec_rows), "decided_twice": sum(1 for r in dec_rows if r["n"] > 1),
            "left_pending": pending, "refused_claims_or_decisions": conflicts[0],
            "audit_chain_ok": chain.ok, "audit_entries": chain.entries,
            "write_seconds": round(t_written, 1), "total_seconds": round(elapsed, 1),
            "alerts_per_s": round(len(written) / t_written, 1), "decisions_per_s": round(len(dec_rows) / elapsed, 1),
        }
        print(f"control room on {result['store']}: {workers} workers x {feeds} feeds wrote {len(written):,} alerts "
              f"({result['alerts_per_s']}/s) in {incidents:,} incidents while {operators} operators decided "
              f"{len(dec_rows):,} "
              f"({result['decisions_per_s']}/s); lost {result['alerts_lost']}, decided twice {result['decided_twice']}, "
              f"left pending {pending}, refused (taken by another seat) {conflicts[0]}, audit chain "
              f"{'intact' if chain.ok else 'BROKEN'} ({chain.entries:,} entries)")
        return {"control_room": result}
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()

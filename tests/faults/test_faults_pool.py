"""Faults under a running shift with a pool of workers (``main.py worker --pool``): three real worker
processes, each in its own network namespace, share six cameras through leases on a real PostgreSQL,
with two headless seats deciding. A cut worker pauses its own cameras and the others take them over;
it comes back and gets its share again; a worker killed with SIGKILL has its cameras analysed again
by the others (the issue's bound is 10 s, measured by ``bench control-room --cameras``; asserted
loosely here); a PostgreSQL restart leaves every camera held again; the stop halts every worker
within 2 s; no alert or decision is doubled and the audit chain verifies. The tests run in order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

from console.services.accounts.auth import actor_for
from console.services.runtime.pool import FENCED, LEASE_S
from console.services.setup import deployments
from console.store import open_location
from tests.faults.rig import ROOT

TAKEOVER_LOOSE_S = 30.0
OBEY_S = 2.0


def _worker_id(rig, n: int) -> str:
    pid = rig.workers[n].popen.pid
    ids = {w for w in rig.holders().values()} | {b["worker_id"] for b in rig.heartbeats().values()}
    return next(w for w in ids if f"-{pid}-" in w)


def _shares(rig) -> list[int]:
    return sorted(Counter(rig.holders().values()).values())


def _analysed_by_others(rig, cams: list[int], gone: str, after: float) -> bool:
    """Every camera of ``cams`` held by a worker other than ``gone``, which reported it analysing since ``after``."""
    held, beats = rig.holders(), rig.heartbeats()
    return all(held.get(c) not in (None, gone) and beats[c]["worker_id"] == held[c] and beats[c]["at"] > after
               and beats[c]["analysed"] > 0 and not beats[c]["paused"] for c in cams)


def _handed_over_after_lapse(rig, cams: list[int], from_worker: str) -> None:
    rows = rig.query("SELECT subject_id, details_json FROM audit_log WHERE action = 'camera.lease_taken' ORDER BY seq")
    taken = [json.loads(r["details_json"]) | {"camera": int(r["subject_id"])} for r in rows]
    for cam in cams:
        last = [t for t in taken if t["camera"] == cam][-1]
        assert last["from_worker"] == from_worker and last["lapsed_s"] >= 0, last  # never taken while live


def test_the_pool_shares_the_six_cameras_two_each(pool_rig):
    assert _shares(pool_rig) == [2, 2, 2]


def test_a_cut_worker_pauses_its_cameras_the_others_take_them_and_it_gets_its_share_back(pool_rig):
    rig = pool_rig
    gone = _worker_id(rig, 0)
    mine = sorted(c for c, w in rig.holders().items() if w == gone)
    worker, errors_before = rig.workers[0], len(rig.workers[0].err)
    rig.cut(0)
    cut_at, cut_wall = time.monotonic(), time.time()
    try:
        assert rig.wait_for(lambda: any(FENCED in line for line in worker.err[errors_before:]), LEASE_S + 3), (
            f"the cut worker did not pause its cameras: {worker.err[-5:]}")
        fenced_s = time.monotonic() - cut_at
        assert rig.wait_for(lambda: _analysed_by_others(rig, mine, gone, cut_wall), TAKEOVER_LOOSE_S), rig.holders()
        takeover_s = time.monotonic() - cut_at
        assert fenced_s <= takeover_s  # it had stopped before another worker began
        _handed_over_after_lapse(rig, mine, gone)
    finally:
        rig.restore(0)
    print(f"\npool, cut: worker paused its cameras after {fenced_s:.1f} s; others analysing them after "
          f"{takeover_s:.1f} s")
    assert rig.wait_for(lambda: _shares(rig) == [2, 2, 2] and gone in rig.holders().values(), 40), rig.holders()
    back = [c for c, w in rig.holders().items() if w == gone]
    restored = time.time()
    assert rig.wait_for(lambda: all(rig.heartbeats()[c]["worker_id"] == gone and rig.heartbeats()[c]["at"] > restored
                                    for c in back), 20)
    assert worker.alive()


def test_kill_9_a_pool_worker_and_its_cameras_are_analysed_again_by_the_others(pool_rig):
    rig = pool_rig
    gone = _worker_id(rig, 2)
    mine = sorted(c for c, w in rig.holders().items() if w == gone)
    rig.kill(2)
    killed, killed_wall = time.monotonic(), time.time()
    assert rig.wait_for(lambda: _analysed_by_others(rig, mine, gone, killed_wall), TAKEOVER_LOOSE_S), rig.holders()
    print(f"pool, kill -9: its {len(mine)} cameras analysed again after {time.monotonic() - killed:.1f} s")
    _handed_over_after_lapse(rig, mine, gone)
    assert _shares(rig) == [3, 3]


def test_postgresql_restarted_every_camera_is_held_and_analysed_again(pool_rig):
    rig = pool_rig
    last_decision = max([d["id"] for d in rig.decisions()], default=0)
    rig.pg.restart("fast", down_s=1.0)
    back = time.time()
    assert rig.wait_for(lambda: len(rig.holders()) == 6 and all(b["at"] > back and b["analysed"] > 0
                                                                 for b in rig.heartbeats().values()), 30)
    assert rig.wait_for(lambda: any(d["id"] > last_decision for d in rig.decisions()), 40), "no decision after it"
    assert all(s.alive() for s in rig.seats) and all(w.alive() for w in rig.workers[:2])


def test_the_stop_halts_every_pool_worker_within_2_s(pool_rig):
    rig = pool_rig
    with open_location(rig.owner_url()) as store:
        deployments.stop(store, actor_for(store, "op1"), rig.deployment, "drill: recognition off")
    done = time.time()
    assert rig.wait_for(lambda: all(b["state"] == "stopped" for b in rig.heartbeats().values()
                                    if b["worker_id"] in rig.holders().values()), 10)
    for b in rig.heartbeats().values():
        if b["worker_id"] in rig.holders().values():
            assert not b["recognising"] and b["at"] - done <= OBEY_S


def test_no_alert_or_decision_doubled_and_the_chain_verifies(pool_rig):
    rig = pool_rig
    for n in (0, 1):
        assert rig.workers[n].terminate() == 0, rig.workers[n].err[-5:]
    assert rig.holders() == {}  # a worker that leaves gives its cameras back
    assert rig.wait_for(lambda: all(a["status"] == "decided" for a in rig.alerts()), 30), "alerts left pending"
    for seat in rig.seats:
        assert seat.terminate() == 0, seat.err[-5:]
    keys = rig.query("SELECT a.camera_id, a.track_id, a.entry_id, a.captured_at FROM alerts a WHERE a.deployment_id = ?",
                     (rig.deployment,))
    assert keys and max(Counter(tuple(k.values()) for k in keys).values()) == 1, "an alert was written twice"
    assert max(Counter(d["alert_id"] for d in rig.decisions()).values()) == 1, "an alert was decided twice"
    verify = subprocess.run([sys.executable, str(ROOT / "main.py"), "audit", "verify", "--db", rig.owner_url()],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    print(f"pool faults: {len(keys)} alerts over {len({k['camera_id'] for k in keys})} cameras, "
          f"{len(rig.decisions())} decisions")

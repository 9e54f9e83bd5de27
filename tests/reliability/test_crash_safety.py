"""Crash safety: a process killed with SIGKILL while recording decisions (an operator's seat) or
alerts (a worker) loses none that it had acknowledged, records none twice, and leaves an audit
chain that verifies - on SQLite and on PostgreSQL."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORDER = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from console.services.decisions import adjudication
    from console.services.accounts.auth import actor_for
    from console.store import repo
    from console.store import open_location

    store = open_location({location!r})
    sup = repo.create_user(store, "sup", "S", "supervisor")
    repo.create_user(store, "op", "O", "operator")
    dep = repo.create_deployment(store, repo.DeploymentSpec("D", "P", "R", "2026-01-01T00:00:00Z",
                                                            "2099-01-01T00:00:00Z", 0.4, 0.363, "m",
                                                            incident_window_s=0), sup, "s")  # each alert decided alone
    repo.activate_deployment(store, dep, "s")
    cam = repo.add_camera(store, dep, "C", "demo:0", "s")
    wl = repo.create_watchlist(store, dep, "W", "s")
    e = repo.add_entry(store, wl, repo.EntrySpec("R", "N", "missing_person", "b", "r", "s", "2025-01-01",
                                                 "2099-01-01"), sup, "s")
    img = repo.add_entry_image(store, e, b"j", np.ones(128, np.float32), "m", {{}}, "s")
    op = actor_for(store, "op")
    print("ready", flush=True)
    for n in range(1000):
        a = repo.insert_alert(store, repo.AlertRecord(dep, cam, n, [(e, img, 0.7)], 0.4, "m", [0, 0, 1, 1], {{}},
                                                      b"p" * 5000, b"c" * 20000, "2026-01-01T09:00:00Z"))
        if {what!r} == "alerts":  # a worker: alerts only
            print(f"ack {{a}} 0", flush=True)
            continue
        adjudication.open_alert(store, op, a)
        d = adjudication.confirm(store, op, a) if n % 2 else adjudication.reject(store, op, a, "look_alike")
        print(f"ack {{a}} {{d}}", flush=True)  # acknowledged: the transaction has committed
""")


@pytest.mark.parametrize("what", ["decisions", "alerts"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_while_recording_loses_nothing_acknowledged(tmp_path, kind, what):
    from console.store import open_location
    from console.store.audit import verify_chain, verify_records

    if kind == "postgres":
        base = os.environ.get("ORC_TEST_PG_URL")
        if not base:
            if os.environ.get("CI"):
                pytest.fail("CI must run the crash-safety tests on PostgreSQL too: ORC_TEST_PG_URL is not set")
            pytest.skip("no PostgreSQL server (ORC_TEST_PG_URL)")
        import uuid

        import psycopg

        name = f"orc_crash_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        location = base.rsplit("/", 1)[0] + "/" + name
    else:
        location = str(tmp_path / "sqlite")
    proc = subprocess.Popen([sys.executable, "-c", RECORDER.format(root=str(ROOT), location=location, what=what)],
                            stdout=subprocess.PIPE, text=True)
    acked = {}

    def take(line: str) -> None:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ack":  # (a line cut by the kill is no acknowledgement)
            acked[int(parts[1])] = int(parts[2])

    try:
        assert proc.stdout.readline().strip() == "ready"
        for line in proc.stdout:
            take(line)
            if len(acked) == 300:
                os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the next decision may be half-written
                break
        # The child writes acknowledgements faster than they are read here: those already in the
        # pipe when it died were acknowledged too (their transactions had committed).
        for line in proc.stdout:
            take(line)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    try:
        with open_location(location) as store:
            if what == "alerts":
                stored = {int(r["id"]) for r in store.query("SELECT id FROM alerts")}
                assert set(acked) <= stored and len(stored) - len(acked) in (0, 1)
                assert verify_chain(store).ok and verify_records(store) == []
                return
            rows = store.query("SELECT id, alert_id FROM decisions ORDER BY id")
            by_alert = {}
            for r in rows:
                by_alert.setdefault(int(r["alert_id"]), []).append(int(r["id"]))
            for alert, decision in acked.items():
                assert by_alert.get(alert) == [decision]  # present, exactly once
            assert all(len(v) == 1 for v in by_alert.values())
            assert len(by_alert) in (len(acked), len(acked) + 1)  # at most the one in flight, whole or not at all
            assert verify_chain(store).ok
            assert verify_records(store) == []
    finally:
        if kind == "postgres":
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

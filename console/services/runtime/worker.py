"""A headless recognition worker: the cameras of one deployment, analysed near the cameras,
alerts written to the shared store for the consoles to review.

    python main.py worker --db postgresql://... --deployment 3 --cameras 5,6
    python main.py worker --data-dir DIR --deployment 3            (one PC, SQLite)

It reports every few seconds in ``worker_heartbeats`` (its cameras' states, frame rates and
counts), stops by itself at the end of the deployment's window, and on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
import uuid

from console import clock
from console.clock import utcnow
from console.errors import ConsoleError
from console.feeds.capture import open_source
from console.redaction import redact, redact_value
from console.services.runtime.live import LiveDeployment
from console.services.setup import deployments
from console.services.setup.cameras import connect_string
from console.store import Store, audit, repo
from console.store import runtime as db
from console.vision.engine import load_engine

HEARTBEAT_S = 5.0


def _beat(store: Store, worker_id: str, live: LiveDeployment, started: str) -> None:
    """The worker's state for every console: running, stopped (by a person) or ended, and per camera
    its source, frame rate, counts and the rules in force (threshold, suppressions)."""
    state = "ended" if live.ended else "stopped" if live.stopped else "running"
    cameras = {
        str(cam.camera_id): {"name": cam.name, "state": w.source.state.value, "fps": round(w.source.fps, 1),
                             "analysed_fps": round(w.analysed_fps, 1), "analysed": w.analysed,
                             "embedded": w.embedded_total, "halted": w.halted,
                             "paused": w.paused, "recognising": w.recognising,
                             "threshold": w.recognizer.settings.threshold,
                             "suppressions": len(w.recognizer.suppressed)}
        for cam, w in zip(live.cameras, live.workers, strict=True)
    }
    with store.transaction() as conn:
        db.write_heartbeat(conn, worker_id, socket.gethostname(), live.deployment_id, json.dumps(cameras), started,
                           utcnow(), state)


def _report(row) -> dict:
    """A heartbeat as a screen shows it: its cameras decoded and redacted (a worker of an older
    version may have written a camera's name whole)."""
    out = {k: row[k] for k in row.keys() if k != "cameras_json"}
    return {**out, "cameras": redact_value(json.loads(row["cameras_json"]))}


def alive_workers(store: Store, deployment_id: int, within_s: float = 3 * HEARTBEAT_S) -> list[dict]:
    """Workers that reported in recently, running or stopped by a person."""
    from datetime import timedelta

    since = (clock.now() - timedelta(seconds=within_s)).isoformat(timespec="microseconds")
    rows = db.heartbeats_since(store, deployment_id, since.replace("+00:00", "Z"))
    return [_report(r) for r in rows]


def worker_states(store: Store, deployment_id: int) -> list[dict]:
    """Every worker's last report for this deployment, newest first (for tests and the supervisor)."""
    rows = db.heartbeats(store, deployment_id)
    return [_report(r) for r in rows]


def cameras_analysing(store: Store, deployment_id: int) -> dict[int, dict]:
    """Camera id -> its state in the newest running heartbeat that names it, with ``worker_id``: which
    worker analyses it now (a killed worker's last heartbeat still names the cameras it had, so the
    newest report of a camera wins). Paused and halted cameras are left out."""
    out: dict[int, dict] = {}
    for w in reversed(worker_states(store, deployment_id)):
        if w["state"] == "running":
            for cam, state in w["cameras"].items():
                if not state["paused"] and not state["halted"]:
                    out[int(cam)] = {**state, "worker_id": w["worker_id"]}
    return out


def run_worker(store: Store, deployment_id: int, camera_ids: list[int] | None, seconds: float | None,
               providers: list[str] | None = None, pack: str | None = None, *, credential: str) -> dict:
    """Recognition for a deployment's cameras, headless, as the worker its ``credential`` names
    (console/services/accounts/worker_access.py): refused without a valid one, stopped when it is revoked
    or expires."""
    from console.services.accounts import worker_access

    rows = camera_rows(store, deployment_id, camera_ids)
    actor = worker_access.authenticate(store, credential, deployment_id, host=socket.gethostname())
    return serve(store, actor, deployment_id, rows, seconds, providers, pack)


def camera_rows(store: Store, deployment_id: int, camera_ids: list[int] | None) -> list:
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    rows = repo.cameras(store, deployment_id)
    if camera_ids:
        unknown = set(camera_ids) - {int(r["id"]) for r in rows}
        if unknown:
            raise ConsoleError(f"deployment {deployment_id} has no camera {sorted(unknown)}")
        rows = [r for r in rows if int(r["id"]) in camera_ids]
    if not rows:
        raise ConsoleError(f"deployment {deployment_id} has no cameras to analyse")
    return rows


def serve(store: Store, actor, deployment_id: int, rows: list, seconds: float | None, providers: list[str] | None = None,
          pack: str | None = None, *, worker_id: str = "", stop: threading.Event | None = None,
          on_live=None) -> dict:
    """Recognition for ``rows`` (cameras of the deployment) as ``actor``, reporting in heartbeats until
    the deployment ends, ``seconds`` pass, ``stop`` is set, SIGINT/SIGTERM, or the worker's credential
    lapses. ``on_live(live)`` is called once it runs (a seat's recognition process shows its frames)."""
    from console.services.accounts import worker_access

    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    deployments.start_or_join(store, actor, deployment_id)  # refused outside the window; paused while stopped
    engine = load_engine(pack, providers, threads=1 if len(rows) > 1 else 0)
    live = LiveDeployment(store, engine, deployment_id, actor)
    for r in rows:
        live.add_camera(int(r["id"]), r["name"], open_source(connect_string(store, r)))
    alerts: list[int] = []
    wake = threading.Event()  # a rule changed: report at once, not at the next heartbeat

    def on_event(event) -> None:
        if event.kind == "alert":
            alerts.append(event.alert_id)
        elif event.kind in ("threshold", "suppressed", "stopped", "restarted", "ended"):
            print(f"deployment {deployment_id}: {event.kind}{f' by {event.by}' if event.by else ''}"
                  f"{f': {event.reason}' if event.reason else ''}", file=sys.stderr, flush=True)
            wake.set()

    live.subscribe(on_event)
    stop = stop or threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: (stop.set(), wake.set())) for sig in (signal.SIGINT, signal.SIGTERM)}
    started, t0 = utcnow(), time.monotonic()
    beat_store = store.reopen()
    live.start()
    if on_live is not None:
        on_live(live, stop, wake)
    try:
        while not stop.is_set():
            try:
                _beat(beat_store, worker_id, live, started)
            except ConsoleError as exc:  # a missed heartbeat is not a reason to stop recognising
                print(f"heartbeat not written: {exc}", file=sys.stderr, flush=True)
            for problem in live.problems():
                print(redact(problem), file=sys.stderr)
            try:
                lapsed = worker_access.still_valid(beat_store, actor, deployment_id) if actor.is_worker else ""
            except ConsoleError as exc:  # the store is away (restart, cut link): checked again at the next beat
                print(f"worker credential not checked: {exc}", file=sys.stderr, flush=True)
                lapsed = ""
            if lapsed:
                print(f"worker credential {lapsed}: recognition stops here", file=sys.stderr, flush=True)
                audit.append(beat_store, actor.username, "worker.stopped", "deployment", deployment_id,
                             {"reason": f"credential {lapsed}"})
                break
            if live.ended or all(w.halted for w in live.workers):
                break
            if seconds is not None and time.monotonic() - t0 >= seconds:
                break
            wake.wait(min(HEARTBEAT_S, max(0.1, (seconds or HEARTBEAT_S) - (time.monotonic() - t0))))
            wake.clear()
    finally:
        live.stop()
        try:
            _beat(beat_store, worker_id, live, started)
            if not live.ended:
                with beat_store.transaction() as conn:
                    db.mark_worker_gone(conn, worker_id)

        except ConsoleError as exc:
            print(f"final heartbeat not written: {exc}", file=sys.stderr)
        beat_store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {"worker": worker_id, "deployment": deployment_id, "cameras": [int(r["id"]) for r in rows],
            "seconds": round(time.monotonic() - t0, 1), "alerts": len(alerts),
            "frames_analysed": sum(w.analysed for w in live.workers),
            "stopped": live.stopped, "ended": live.ended,
            "halted": [w.halted for w in live.workers if w.halted]}

"""A pool of recognition workers sharing one deployment's cameras, for a control room across machines.

    python main.py worker --db postgresql://... --deployment 3 --pool      (one per host, one credential each)

Each worker joins the deployment's pool and holds some of its cameras through leases in the store
(console/store/leases.py), renewed every ``RENEW_S``. Each takes its fair share: the cameras divided
by the live members, rounded up; a worker holding more gives the extra back (after it stopped
analysing them), so a worker that joins gets cameras within a few beats. A worker that stops
renewing - killed, its host down, its network cut - loses its leases ``LEASE_S`` after its last
renewal, and the others take its cameras at their next beat.

Two workers never analyse one camera together: a worker that cannot renew pauses its cameras by
itself once its lease could have lapsed (measured from before its last renewal was sent, on its
own monotonic clock, so it stops before the store frees the lease), and every alert is written
under the lease it was raised under: a worker that comes back after its lease lapsed has its
pending alerts refused. An alert's idempotency key makes a write retried after a connection lost
at its commit find its alert instead of making a second one.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import uuid

from console.clock import utcnow
from console.errors import ConsoleError
from console.feeds.capture import open_source
from console.services.runtime.live import LiveDeployment
from console.services.runtime.worker import HEARTBEAT_S, _beat
from console.services.setup import deployments
from console.services.setup.cameras import connect_string
from console.store import Store, audit, leases, repo
from console.store import runtime as db
from console.vision.engine import load_engine

LEASE_S = 4.0  # a lease not renewed for this long lapses (on the store's clock)
RENEW_S = 1.0  # how often a worker renews its leases and looks for cameras to take
FENCED = "this worker's camera lease was not renewed (the store is out of reach): paused until it is"


def run_pool_worker(store: Store, deployment_id: int, seconds: float | None, providers: list[str] | None = None,
                    pack: str | None = None, *, credential: str) -> dict:
    """`main.py worker --pool`: refused without a valid worker credential for the deployment."""
    from console.services.accounts import worker_access

    actor = worker_access.authenticate(store, credential, deployment_id, host=socket.gethostname())
    return PoolWorker(store, actor, deployment_id, providers, pack).run(seconds)


class PoolWorker:
    def __init__(self, store: Store, actor, deployment_id: int, providers: list[str] | None = None,
                 pack: str | None = None, *, worker_id: str = "", lease_s: float = LEASE_S,
                 renew_s: float = RENEW_S) -> None:
        self.store, self.actor, self.deployment_id = store, actor, deployment_id
        self.providers, self.pack = providers, pack
        self.host = socket.gethostname()
        self.worker_id = worker_id or f"{self.host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.lease_s, self.renew_s = lease_s, renew_s
        self.running: dict[int, int] = {}  # camera id -> the lease epoch it runs under here
        self.deadline = 0.0  # monotonic: past it, the leases may have lapsed in the store
        self.held: dict[int, int] = {}  # the latest renewal: camera id -> epoch held in the store
        self.held_sent = 0.0  # monotonic: when that renewal was sent
        self.started: dict[int, float] = {}  # camera id -> monotonic time its lease was taken
        self.fenced = False
        self.live: LiveDeployment | None = None
        self.handed: list[tuple[str, int]] = []  # ("took" | "gave" | "lost", camera id), for the summary
        self._lock = threading.Lock()

    # -- the beat ----------------------------------------------------------------------------
    def _renew_loop(self, stop: threading.Event) -> None:
        """Renew this worker's leases every ``renew_s``, on a connection and a thread of their own, so
        that starting or stopping a camera (seconds, on a loaded host) never makes a renewal late."""
        rstore = self.store.reopen()
        try:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    with rstore.transaction() as conn:
                        held = leases.renew(conn, rstore.dialect, self.worker_id, self.deployment_id, self.host,
                                            self.lease_s)
                    with self._lock:
                        self.held, self.held_sent, self.deadline = held, sent, sent + self.lease_s
                except ConsoleError as exc:  # out of reach: the fence watch pauses the cameras in time
                    print(f"pool {self.deployment_id}: leases not renewed: {exc}", file=sys.stderr, flush=True)
                stop.wait(max(0.0, self.renew_s - (time.monotonic() - sent)))
        finally:
            rstore.close()

    def _balance(self, conn_store: Store) -> None:
        """Follow the renewals: drop what was lost, resume after a fence, then take or give back
        cameras towards the fair share (never taking while the leases may have lapsed)."""
        with self._lock:
            held, sent, deadline = dict(self.held), self.held_sent, self.deadline
        for camera_id, epoch in list(self.running.items()):
            if held.get(camera_id) != epoch and self.started[camera_id] < sent:
                self._drop(camera_id, "lost")  # lapsed here, or taken by another worker
        if time.monotonic() >= deadline:
            return
        if self.fenced:
            with self._lock:
                self.fenced = False
            for w in self.live.workers:
                if w.paused == FENCED and self.live.recognising:
                    w.resume()
        with conn_store.transaction() as conn:
            share = leases.fair_share(conn, conn_store.dialect, self.deployment_id, self.lease_s)
        extra = sorted(self.running)[share:]
        if extra:
            for camera_id in extra:
                self._drop(camera_id, "gave")  # stopped here first, then given back
            with conn_store.transaction() as conn:
                leases.release(conn_store, conn, self.worker_id, self.actor.username, extra,
                               f"fair share: {share} camera(s) per worker")
        elif len(self.running) < share:
            with conn_store.transaction() as conn:
                taken = leases.take(conn_store, conn, self.worker_id, self.actor.username, self.deployment_id,
                                    share - len(self.running), self.lease_s)
            committed = time.monotonic()  # a renewal sent after this moment sees these leases
            rows = {int(r["id"]): r for r in repo.cameras(conn_store, self.deployment_id)}
            for camera_id, epoch in taken.items():
                self.started[camera_id] = committed
                self._start(conn_store, rows[camera_id], epoch)

    def _start(self, conn_store: Store, row, epoch: int) -> None:
        camera_id, dialect, worker_id = int(row["id"]), conn_store.dialect, self.worker_id

        def fence(conn) -> None:
            leases.check_fence(conn, dialect, camera_id, worker_id, epoch)

        self.live.start_camera(camera_id, row["name"], open_source(connect_string(conn_store, row)), fence)
        self.running[camera_id] = epoch
        self.handed.append(("took", camera_id))
        print(f"pool {self.deployment_id}: camera {camera_id} taken (lease {epoch})", file=sys.stderr, flush=True)

    def _drop(self, camera_id: int, how: str) -> None:
        self.live.remove_camera(camera_id)
        self.running.pop(camera_id, None)
        self.handed.append((how, camera_id))
        print(f"pool {self.deployment_id}: camera {camera_id} {'given back' if how == 'gave' else 'lost'}",
              file=sys.stderr, flush=True)

    def _watch_fence(self, stop: threading.Event) -> None:
        """Pause every camera here once the leases may have lapsed in the store (the renewal that
        would have kept them is late: the store is out of reach, or this process was frozen)."""
        while not stop.wait(0.1):
            with self._lock:
                deadline = self.deadline
            if not self.running or time.monotonic() < deadline:
                continue
            workers = [w for w in self.live.workers if not w.paused and not w.halted]
            for w in workers:  # first every camera stops analysing, then each releases its source
                w.paused = FENCED
            for w in workers:
                w.pause(FENCED)
            with self._lock:
                newly, self.fenced = not self.fenced, True
            if newly:
                print(f"pool {self.deployment_id}: {FENCED}", file=sys.stderr, flush=True)

    # -- the run -----------------------------------------------------------------------------
    def run(self, seconds: float | None = None, stop: threading.Event | None = None) -> dict:
        from console.services.accounts import worker_access

        deployments.start_or_join(self.store, self.actor, self.deployment_id)  # refused outside the window
        engine = load_engine(self.pack, self.providers, threads=1)
        self.live = live = LiveDeployment(self.store, engine, self.deployment_id, self.actor)
        wake, stop = threading.Event(), stop or threading.Event()
        live.subscribe(lambda e: wake.set() if e.kind in ("stopped", "restarted", "ended") else None)
        previous = {sig: signal.signal(sig, lambda *_: (stop.set(), wake.set())) for sig in (signal.SIGINT, signal.SIGTERM)}
        started, t0, last_credential_check = utcnow(), time.monotonic(), 0.0
        beat_store = self.store.reopen()
        with beat_store.transaction() as conn:
            leases.join(conn, beat_store.dialect, self.worker_id, self.deployment_id, self.host)
            audit.append(beat_store, self.actor.username, "pool.joined", "deployment", self.deployment_id,
                         {"worker_id": self.worker_id, "host": self.host, "lease_s": self.lease_s})
        live.start()
        watcher = threading.Thread(target=self._watch_fence, args=(stop,), name="pool-fence", daemon=True)
        renew_stop = threading.Event()  # renewals go on until every camera here has stopped
        renewer = threading.Thread(target=self._renew_loop, args=(renew_stop,), name="pool-renew", daemon=True)
        watcher.start()
        renewer.start()
        why = "stopped"
        try:
            while not stop.is_set():
                try:
                    self._balance(beat_store)
                except ConsoleError as exc:  # the store is out of reach: the fence watch pauses the cameras in time
                    print(f"pool {self.deployment_id}: cameras not shared out: {exc}", file=sys.stderr, flush=True)
                try:  # at every beat: a camera taken over shows as analysing again within one
                    _beat(beat_store, self.worker_id, live, started)
                except ConsoleError as exc:
                    print(f"heartbeat not written: {exc}", file=sys.stderr, flush=True)
                if time.monotonic() - last_credential_check >= HEARTBEAT_S:
                    last_credential_check = time.monotonic()
                    try:
                        lapsed = worker_access.still_valid(beat_store, self.actor, self.deployment_id)
                    except ConsoleError:
                        lapsed = ""
                    if lapsed:
                        why = f"credential {lapsed}"
                        print(f"worker credential {lapsed}: recognition stops here", file=sys.stderr, flush=True)
                        break
                if live.ended:
                    why = "the deployment ended"
                    break
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    why = "its time was up"
                    break
                wake.wait(self.renew_s)
                wake.clear()
        finally:
            stop.set()
            watcher.join(2)
            live.stop()  # every camera here stops before its lease is given back
            renew_stop.set()
            renewer.join(10)
            self._leave(beat_store, live, started, why)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return {"worker": self.worker_id, "deployment": self.deployment_id, "pool": True,
                "seconds": round(time.monotonic() - t0, 1), "handed": self.handed,
                "cameras_at_end": sorted(self.running), "stopped": live.stopped, "ended": live.ended}

    def _leave(self, beat_store: Store, live: LiveDeployment, started: str, why: str) -> None:
        try:
            with beat_store.transaction() as conn:
                leases.leave(beat_store, conn, self.worker_id, self.actor.username, f"the worker left: {why}")
                audit.append(beat_store, self.actor.username, "pool.left", "deployment", self.deployment_id,
                             {"worker_id": self.worker_id, "host": self.host, "why": why})
            _beat(beat_store, self.worker_id, live, started)
            if not live.ended:
                with beat_store.transaction() as conn:
                    db.mark_worker_gone(conn, self.worker_id)
        except ConsoleError as exc:  # its leases lapse by themselves
            print(f"pool {self.deployment_id}: could not leave cleanly ({exc}); its leases lapse in "
                  f"{self.lease_s:.0f} s", file=sys.stderr, flush=True)
        finally:
            beat_store.close()

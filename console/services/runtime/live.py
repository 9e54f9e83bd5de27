"""A running deployment: its cameras' sources and workers, and the rules every seat obeys.

Qt-free, so the console window and a headless worker share it. It follows the deployment's
change feed (the audit log, console/services/runtime/changes.py) and applies, by itself, what any seat
decides: a threshold change, a "different person" suppression, the human-oversight stop and
restart, and the end of the deployment. Recognition halts here within about a second of the
entry being written, on every seat and worker at once. It publishes plain ``LiveEvent``s;
windows only subscribe to them.

Each worker thread gets its own database connection; the caller's connection is used only from
the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from console import clock
from console.errors import ConsoleError, PermissionDenied
from console.feeds.capture import open_source
from console.feeds.source import FrameSource
from console.pipeline.batcher import shared
from console.pipeline.worker import CameraWorker
from console.redaction import redact
from console.services.accounts.auth import Actor, actor_for, is_demo_store
from console.services.accounts.permissions import Permission
from console.services.record import retention
from console.services.runtime import recognition
from console.services.runtime.changes import Change, ChangeFeed, head_seq
from console.services.setup import deployments
from console.services.setup import operating_point as points
from console.services.setup.cameras import connect_string
from console.services.setup.demo import DEMO_OPERATOR, ensure_demo_deployment
from console.store import Store, audit, open_location, pg_recognition, repo
from console.store import record as record_rows
from console.vision.engine import FaceEngine, load_engine

log = logging.getLogger(__name__)
CLOCK_NOTICE_S = 600  # a clock jump stays on screen this long (it stays in the log for good)
WINDOW_OVER = "the deployment's authorised window is over"


@dataclass(frozen=True)
class CameraInfo:
    camera_id: int
    name: str


@dataclass(frozen=True)
class LiveEvent:
    """What happened to the running deployment, for whoever shows it.

    kind: "alert" (a camera here raised ``alert_id``), "change" (an entry of the shared log that
    concerns this deployment: ``change``), "threshold" (now ``threshold``), "suppressed",
    "stopped" (recognition halted by a person: ``by``, ``reason``), "restarted", "ended".
    """

    kind: str
    alert_id: int | None = None
    change: Change | None = None
    threshold: float | None = None
    by: str = ""
    reason: str = ""
    at: float = field(default_factory=time.monotonic)


class LiveDeployment:
    def __init__(self, store: Store, engine: FaceEngine, deployment_id: int, operator: Actor) -> None:
        self.store = store
        self.engine = shared(engine)  # the cameras' faces go through the recogniser in batches
        self.deployment_id = deployment_id
        self.operator = operator
        self.since_seq = head_seq(store)  # first: the feed then misses nothing after the reads below
        self.deployment = repo.get_deployment(store, deployment_id)
        self.photos = points.photos_of(store, deployment_id, self.deployment["model_id"])
        self.target = points.target_of(store, deployment_id)
        self.cameras: list[CameraInfo] = []
        self.workers: list[CameraWorker] = []
        self._subscribers: list[Callable[[LiveEvent], None]] = []
        self._worker_stores: list[Store] = []
        self._recognition_token = ""  # PostgreSQL: what the cameras' connections write alerts under
        self.clock_jumps: list[tuple[float, str]] = []  # (monotonic time, what the watch saw), newest last
        self.stopped = ""  # why recognition is stopped by a person ("" while it runs)
        self.ended = ""  # why the deployment ended ("" while it has not)
        self.feed: ChangeFeed | None = None
        self.seat = None  # the seat's recognition process (console/services/runtime/seat_process.py), if it has one
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None
        ends = datetime.fromisoformat(self.deployment["ends_at"].replace("Z", "+00:00")).timestamp()
        self.ends_wall = ends
        self._deadline_mono: float | None = None

    @classmethod
    def open(cls, location: str | Path | None, cameras: int = 1, pack: str | None = None,
                  providers: list[str] | None = None, operator: Actor | None = None,
                  deployment_id: int | None = None, demo: bool = False, process: bool = False) -> LiveDeployment:
        """With ``demo``, the demo deployment in the demo's own store (made fresh on first use; a real
        store is refused); otherwise ``deployment_id``, or the store's current deployment (a seat in a
        control room). Its first ``cameras`` cameras are analysed here (0: a review-only seat). A
        real store needs a signed-in ``operator``. With ``process`` the cameras are analysed by the seat's
        own recognition process (console/services/runtime/seat_process.py), not by threads here."""
        # One onnxruntime thread per session when several cameras share the cores: measured
        # (docs/performance.md) 4 feeds keep up at 1 thread and fall behind at 2.
        engine = load_engine(pack, providers, threads=1 if cameras > 1 else 0)
        store = open_location(location)  # an SQLite data directory, or a postgresql:// URL
        try:
            retention.run_purges(store)  # at every start-up
            if demo and deployment_id is None:
                dep_id = ensure_demo_deployment(store, engine, cameras)
            elif deployment_id is None:
                dep_id = deployments.current(store)
            elif repo.get_deployment(store, deployment_id) is None:
                raise deployments.DeploymentError(f"deployment {deployment_id} does not exist in this store")
            else:
                dep_id = deployment_id
            if operator is None:
                if not is_demo_store(store):
                    raise PermissionDenied("a real store is opened by a signed-in user (the demo's operator is "
                                           "only for the demo's own store)")
                operator = actor_for(store, DEMO_OPERATOR)
            if not operator.may(Permission.START_RECOGNITION):
                cameras = 0  # an auditor's or administrator's seat reviews; it starts no recognition
            deployments.start_or_join(store, operator, dep_id, recognising=cameras > 0)
            live = cls(store, engine, dep_id, operator)
            rows = repo.cameras(store, dep_id)[:cameras]
            if process and rows:
                from console.services.runtime.seat_process import SeatProcess

                live.cameras = [CameraInfo(int(cam["id"]), redact(cam["name"])) for cam in rows]
                live.seat = SeatProcess(location, dep_id, [c.camera_id for c in live.cameras],
                                        [c.name for c in live.cameras], operator, pack, providers)
                rows = []
            for cam in rows:
                live.add_camera(int(cam["id"]), cam["name"], open_source(connect_string(store, cam)))
        except BaseException:
            store.close()
            raise
        return live

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[LiveEvent], None]) -> None:
        """Called from worker and feed threads with each LiveEvent; it must not block."""
        self._subscribers.append(callback)

    def _publish(self, event: LiveEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a subscriber's fault must not stop the rules being applied here
                log.exception("a subscriber of deployment %s failed on %s", self.deployment_id, event.kind)

    # -- cameras --------------------------------------------------------------------------
    def add_camera(self, camera_id: int, name: str, source: FrameSource,
                   fence: Callable[[object], None] | None = None) -> CameraWorker:
        """A camera to analyse here (started with the deployment; after it: ``start_camera``). Its
        alerts are written under ``fence`` when one is given (a pool's lease: console/store/leases.py)."""
        wstore = self._camera_store()
        sink = recognition.store_sink(wstore, fence)
        recognizer = recognition.recognizer_for_camera(wstore, self.engine, self.deployment_id, camera_id, sink)
        worker = CameraWorker(
            source, recognizer, on_alert=lambda alert_id: self._publish(LiveEvent("alert", alert_id=alert_id)),
            flush_stats=lambda a, g, b: repo.add_face_stats(wstore, self.deployment_id, camera_id, a, g, b),
            until=self.ends_wall, on_halt=lambda reason: deployments.end(wstore, None, self.deployment_id, reason),
        )
        # New lists, never changed in place: a thread going through the old ones is not upset.
        self._worker_stores = [*self._worker_stores, wstore]
        self.cameras = [*self.cameras, CameraInfo(camera_id, redact(name))]  # shown on tiles and in heartbeats
        self.workers = [*self.workers, worker]
        return worker

    def start_camera(self, camera_id: int, name: str, source: FrameSource,
                     fence: Callable[[object], None] | None = None) -> CameraWorker:
        """A camera taken on while the deployment runs (a pool's hand-over): analysed at once, or held
        paused while recognition is stopped."""
        worker = self.add_camera(camera_id, name, source, fence)
        if self.ended:
            worker.halted = self.ended
        elif self.stopped:
            worker.paused = self.stopped
        else:
            worker.source.start()
        return worker.start()

    def remove_camera(self, camera_id: int) -> None:
        """Stop analysing a camera here (a pool gave it up or lost its lease): its source is released and
        its pending alerts are tried once more (refused, under a lapsed lease)."""
        for i, cam in enumerate(self.cameras):
            if cam.camera_id == camera_id:
                worker, wstore = self.workers[i], self._worker_stores[i]
                self.cameras = self.cameras[:i] + self.cameras[i + 1:]
                self.workers = self.workers[:i] + self.workers[i + 1:]
                self._worker_stores = self._worker_stores[:i] + self._worker_stores[i + 1:]
                worker.source.stop()
                worker.stop()
                wstore.close()
                return

    def start(self) -> None:
        """Run the cameras (paused if recognition is stopped now) and follow the shared log."""
        self._deadline_mono = time.monotonic() + (self.ends_wall - clock.wall())
        state = self.deployment["state"]
        if state == "stopped":
            self.stopped = self.deployment["stop_reason"] or "stopped"
        for worker in self.workers:
            if state == "active":
                worker.source.start()
            else:
                worker.paused = self.stopped or f"the deployment is {state}"
            worker.start()
        if self.seat is not None:
            self.seat.start()
        self.feed = ChangeFeed(self.store.reopen, self._on_change, since_seq=self.since_seq).start()
        self._watch_stop.clear()
        self._watch_thread = threading.Thread(target=self._watch, name="deployment-watch", daemon=True)
        self._watch_thread.start()

    # -- the rules every seat obeys ----------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        """One entry of the shared log (feed thread): apply what concerns this deployment."""
        d = change.details
        if change.subject_type == "deployment":
            if int(change.subject_id) != self.deployment_id:
                return
            if change.action == "deployment.threshold_changed":
                self.apply_threshold(float(d["new"]), by=change.actor_name)
            elif change.action == "deployment.stopped":
                self.pause_recognition(d.get("reason", ""), by=change.actor_name)
            elif change.action == "deployment.restarted":
                self.resume_recognition(by=change.actor_name, reason=d.get("reason", ""))
            elif change.action == "deployment.ended":
                self.halt_recognition(d.get("reason", ""), by=change.actor_name)
        elif change.action == "alert.suppressed":
            if d.get("deployment_id") != self.deployment_id:
                return
            self.suppress(int(d["camera_id"]), int(d["track_id"]), int(d["entry_id"]))
        elif change.action == "alert.raised" and d.get("deployment_id") != self.deployment_id:
            return  # another deployment's alert on the same store
        self._publish(LiveEvent("change", change=change))

    def apply_threshold(self, threshold: float, by: str = "") -> None:
        """A supervisor's change (validated and logged by the service) takes effect now; each alert
        records the threshold in force when it was raised."""
        for worker in self.workers:
            worker.recognizer.settings.threshold = threshold
        self.deployment = {**dict(self.deployment), "threshold": threshold}
        self._publish(LiveEvent("threshold", threshold=threshold, by=by))

    def suppress(self, camera_id: int, track_id: int, entry_id: int) -> None:
        """After a "different person" decision on any seat: that track no longer alerts for that subject."""
        # With a seat process the cameras are listed here but analysed there (it follows the log itself).
        for cam, worker in zip(self.cameras, self.workers, strict=False):
            if cam.camera_id == camera_id:
                worker.recognizer.suppress(track_id, entry_id)
        self._publish(LiveEvent("suppressed"))

    def pause_recognition(self, reason: str, by: str = "") -> None:
        """The human-oversight stop: every camera here stops analysing and is released at once."""
        if self.ended:
            return
        self.stopped = reason or "stopped"
        for worker in self.workers:
            worker.pause(self.stopped)
        self.deployment = {**dict(self.deployment), "state": "stopped", "stop_reason": reason}
        self._publish(LiveEvent("stopped", by=by, reason=reason))

    def resume_recognition(self, by: str = "", reason: str = "") -> None:
        if self.ended:
            return
        self.stopped = ""
        for worker in self.workers:
            worker.resume()
        self.deployment = {**dict(self.deployment), "state": "active", "stop_reason": ""}
        self._publish(LiveEvent("restarted", by=by, reason=reason))

    def halt_recognition(self, reason: str, by: str = "") -> None:
        """The deployment ended: recognition stops here for good."""
        if self.ended:
            return
        self.ended = reason or "ended"
        for worker in self.workers:
            worker.halt(self.ended)
        self.deployment = {**dict(self.deployment), "state": "ended"}
        self._publish(LiveEvent("ended", by=by, reason=reason))

    def operating_point(self) -> points.OperatingPoint:
        """The threshold in force and what it costs at this watchlist's size (memory only)."""
        return points.compute(self.deployment, self.photos, self.target)

    def _camera_store(self) -> Store:
        """A connection for one camera. On PostgreSQL it works under this deployment's recognition
        token (console/store/pg_recognition.py): without one the database refuses its alerts."""
        wstore = self.store.reopen()
        if self.store.dialect == "postgres":
            try:
                if not self._recognition_token:
                    self._recognition_token = pg_recognition.open_token(self.store, self.deployment_id)
                repo.bind_session(wstore, self._recognition_token)
            except BaseException:
                wstore.close()
                raise
        return wstore

    @property
    def recognising(self) -> bool:
        return not (self.stopped or self.ended)

    # -- watch: the window's end and the wall clock ------------------------------------------------
    def _watch(self, every_s: float = 1.0) -> None:
        """Each second: end the deployment when its window is over (even with no frame coming in, and
        on the monotonic clock too, so setting the wall clock back cannot extend it), and notice
        the wall clock being set, putting it in the record."""
        watch = clock.JumpWatch()
        store = None
        while not self._watch_stop.wait(every_s):
            try:
                if not self.ended and (clock.wall() >= self.ends_wall or time.monotonic() >= self._deadline_mono):
                    store = store or self.store.reopen()
                    deployments.end(store, None, self.deployment_id, WINDOW_OVER)
                    self.halt_recognition(WINDOW_OVER, by="system")
                jump = watch.check()
                if jump is not None:
                    store = store or self.store.reopen()
                    self._log_jump(jump, store)
            except ConsoleError as exc:
                self.clock_jumps.append((time.monotonic(), f"the deployment watch could not write: {exc}"))
        if store is not None:
            store.close()

    def _log_jump(self, jump: float, store: Store) -> None:
        if jump > 0:
            text = (f"the system clock jumped forward by {jump:.0f} s at {clock.utcnow()} (set ahead, or the "
                    "computer was asleep)")
        else:
            text = f"the system clock jumped back by {-jump:.0f} s at {clock.utcnow()} (it was set back)"
        self.clock_jumps.append((time.monotonic(), text))
        try:
            audit.append(store, "system", "clock.jumped", "deployment", self.deployment_id,
                         {"by_s": round(jump, 3), "now": clock.utcnow()})
        except ConsoleError as exc:
            self.clock_jumps.append((time.monotonic(), f"the clock jump could not be logged: {exc}"))

    def problems(self) -> list[str]:
        """What the operator should know now (memory only: safe on the GUI thread)."""
        out = [f"{cam.name}: {w.problem}" for cam, w in zip(self.cameras, self.workers, strict=False) if w.problem]
        if self.feed is not None and self.feed.error:
            out.append(self.feed.error)
        if self.seat is not None and self.seat.problem():
            out.append(self.seat.problem())
        recent = [text for at, text in self.clock_jumps[-1:] if time.monotonic() - at < CLOCK_NOTICE_S]
        return [redact(text) for text in out + recent]

    # -- this process's threads ------------------------------------------------------------
    def stop(self) -> None:
        """Stop this process's cameras, feed and watch (closing a seat; nothing is recorded)."""
        self._watch_stop.set()
        if self._watch_thread is not None:
            self._watch_thread.join(3)
        if self.feed is not None:
            self.feed.stop()
            self.feed = None
        for worker in self.workers:
            worker.source.stop()
        for worker in self.workers:
            worker.stop()
        if self.seat is not None:
            self.seat.stop()
        for s in self._worker_stores:
            s.close()
        self._worker_stores.clear()
        if self._recognition_token:  # its cameras are stopped: the token writes nothing more
            try:
                pg_recognition.end_token(self.store, self._recognition_token)
            except ConsoleError as exc:  # the store is away: the token dies with its deployment's end
                log.warning("recognition token of deployment %s not ended: %s", self.deployment_id, exc)
            self._recognition_token = ""

    def close(self) -> None:
        self.stop()
        self.store.close()

    def faces_analysed_stored(self) -> int:
        """Faces counted in the database for this deployment (a query: not for the GUI thread)."""
        return int(record_rows.faces_analysed(self.store, self.deployment_id))


    def faces_analysed_live(self) -> int:
        """Faces embedded by this session's workers so far (memory only, cheap)."""
        seat = self.seat.cameras if self.seat is not None else []
        return sum(w.embedded_total for w in [*self.workers, *seat])

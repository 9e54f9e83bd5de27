"""A running deployment: its cameras' sources and workers, and the alerts they raise.

Qt-free, so the console window and a headless worker share it. Each worker thread gets
its own database connection; the caller's connection is used only from the caller's
thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console import clock
from console.errors import ConsoleError
from console.feeds.capture import open_source
from console.feeds.source import FrameSource
from console.pipeline.recognizer import CameraRecognizer
from console.pipeline.worker import CameraWorker
from console.services import deployment as dep_service
from console.services import deployments, retention
from console.services.auth import Actor, actor_for
from console.services.demo import DEMO_OPERATOR, ensure_demo_deployment
from console.store import Store, audit, open_location, repo
from console.vision.engine import FaceEngine, load_engine

CLOCK_NOTICE_S = 600  # a clock jump stays on screen this long (it stays in the log for good)


@dataclass(frozen=True)
class CameraInfo:
    camera_id: int
    name: str


class LiveDeployment:
    def __init__(self, store: Store, engine: FaceEngine, deployment_id: int, operator: Actor) -> None:
        self.store = store
        self.engine = engine
        self.deployment_id = deployment_id
        self.operator = operator
        self.deployment = repo.get_deployment(store, deployment_id)
        self.cameras: list[CameraInfo] = []
        self.workers: list[CameraWorker] = []
        self._listeners: list[Callable[[int], None]] = []
        self._lock = threading.Lock()
        self._worker_stores: list[Store] = []
        self.clock_jumps: list[tuple[float, str]] = []  # (monotonic time, what the watch saw), newest last
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None

    @classmethod
    def open_demo(cls, data_dir: Path | None, cameras: int = 1, pack: str | None = None,
                  providers: list[str] | None = None, operator: Actor | None = None,
                  deployment_id: int | None = None) -> LiveDeployment:
        """The demo deployment - or, with ``deployment_id``, that deployment of the store (a seat in a
        control room), its first ``cameras`` cameras analysed here (0: a review-only seat)."""
        # One onnxruntime thread per session when several cameras share the cores: measured
        # (docs/performance.md) 4 feeds keep up at 1 thread and fall behind at 2.
        engine = load_engine(pack, providers, threads=1 if cameras > 1 else 0)
        store = open_location(data_dir)  # an SQLite data directory, or a postgresql:// URL
        try:
            retention.run_purges(store)  # at every start-up
            if deployment_id is None:
                dep_id = ensure_demo_deployment(store, engine, cameras)
            elif repo.get_deployment(store, deployment_id) is None:
                raise deployments.DeploymentError(f"deployment {deployment_id} does not exist in this store")
            else:
                dep_id = deployment_id
            live = cls(store, engine, dep_id, operator or actor_for(store, DEMO_OPERATOR))
            deployments.start(store, live.operator, dep_id)  # refused outside the authorised window
            for cam in repo.cameras(store, dep_id)[:cameras]:
                live.add_camera(int(cam["id"]), cam["name"], open_source(cam["source"]))
        except BaseException:
            store.close()
            raise
        return live

    def add_listener(self, callback: Callable[[int], None]) -> None:
        """Called from worker threads with each new alert id; must not block."""
        self._listeners.append(callback)

    def _announce(self, alert_id: int) -> None:
        for callback in list(self._listeners):
            callback(alert_id)

    def add_camera(self, camera_id: int, name: str, source: FrameSource) -> None:
        wstore = self.store.reopen()
        self._worker_stores.append(wstore)
        recognizer = CameraRecognizer(
            self.engine,
            dep_service.load_gallery(wstore, self.deployment_id, self.engine.model_id),
            deployment_id=self.deployment_id,
            camera_id=camera_id,
            settings=dep_service.recognizer_settings(wstore, self.deployment_id),
            write_alert=lambda record: repo.insert_alert(wstore, record),
            is_decided=lambda alert_id: (wstore.one("SELECT status FROM alerts WHERE id = ?", (alert_id,))
                                         or {"status": ""})["status"] == "decided",
            subject_names=dep_service.subject_names(wstore, self.deployment_id),
            write_view=lambda alert_id, jpeg, score, quality, at: repo.add_alert_view(
                wstore, alert_id, jpeg, score, quality, at),
        )
        ends = datetime.fromisoformat(self.deployment["ends_at"].replace("Z", "+00:00")).timestamp()
        worker = CameraWorker(
            source, recognizer, on_alert=self._announce,
            flush_stats=lambda a, g, b: repo.add_face_stats(wstore, self.deployment_id, camera_id, a, g, b),
            until=ends, on_halt=lambda reason: deployments.end(wstore, None, self.deployment_id, reason),
        )
        self.cameras.append(CameraInfo(camera_id, name))
        self.workers.append(worker)

    def start(self) -> None:
        for worker in self.workers:
            worker.source.start()
            worker.start()
        self._watch_stop.clear()
        self._watch_thread = threading.Thread(target=self._watch_clock, name="clock-watch", daemon=True)
        self._watch_thread.start()

    def _watch_clock(self, every_s: float = 1.0) -> None:
        """Notice the wall clock being set while the deployment runs, and put it in the record:
        timestamps on either side of a jump are then explained, not suspicious."""
        watch = clock.JumpWatch()
        store = None
        while not self._watch_stop.wait(every_s):
            jump = watch.check()
            if jump is None:
                continue
            if jump > 0:
                text = (f"the system clock jumped forward by {jump:.0f} s at {clock.utcnow()} (set ahead, or the "
                        "computer was asleep)")
            else:
                text = f"the system clock jumped back by {-jump:.0f} s at {clock.utcnow()} (it was set back)"
            self.clock_jumps.append((time.monotonic(), text))
            try:
                store = store or self.store.reopen()
                audit.append(store, "system", "clock.jumped", "deployment", self.deployment_id,
                             {"by_s": round(jump, 3), "now": clock.utcnow()})
            except ConsoleError as exc:
                self.clock_jumps.append((time.monotonic(), f"the clock jump could not be logged: {exc}"))
        if store is not None:
            store.close()

    def problems(self) -> list[str]:
        """What the operator should know now (memory only: safe on the GUI thread)."""
        out = [f"{cam.name}: {w.problem}" for cam, w in zip(self.cameras, self.workers, strict=False) if w.problem]
        recent = [text for at, text in self.clock_jumps[-1:] if time.monotonic() - at < CLOCK_NOTICE_S]
        return out + recent

    def stop(self) -> None:
        self._watch_stop.set()
        if self._watch_thread is not None:
            self._watch_thread.join(3)
        for worker in self.workers:
            worker.source.stop()
        for worker in self.workers:
            worker.stop()
        for s in self._worker_stores:
            s.close()
        self._worker_stores.clear()

    def close(self) -> None:
        self.stop()
        self.store.close()

    def apply_threshold(self, threshold: float) -> None:
        """A supervisor's change (already validated and logged by the service) takes effect now;
        each alert records the threshold in force when it was raised."""
        for worker in self.workers:
            worker.recognizer.settings.threshold = threshold

    def suppress(self, camera_id: int, track_id: int, entry_id: int) -> None:
        """After a "different person" rejection: that track no longer alerts for that subject."""
        for cam, worker in zip(self.cameras, self.workers, strict=True):
            if cam.camera_id == camera_id:
                worker.recognizer.suppress(track_id, entry_id)

    def faces_analysed_stored(self) -> int:
        """Faces counted in the database for this deployment (a query: not for the GUI thread)."""
        row = self.store.one("SELECT COALESCE(SUM(faces_analysed), 0) AS n FROM face_stats WHERE deployment_id = ?",
                             (self.deployment_id,))
        return int(row["n"])

    def faces_analysed_live(self) -> int:
        """Faces embedded by this session's workers so far (memory only, cheap)."""
        return sum(w.embedded_total for w in self.workers)

    def alert_summary(self, alert_id: int) -> dict:
        """One alert as the queue shows it (a query: call from a background job)."""
        row = self.store.one(
            "SELECT a.id, a.score, a.threshold, a.stored_at, a.captured_at, a.status, a.probe_jpeg,"
            " c.name AS camera, e.subject_name, e.record_number FROM alerts a"
            " JOIN cameras c ON c.id = a.camera_id JOIN watchlist_entries e ON e.id = a.entry_id WHERE a.id = ?",
            (alert_id,))
        return dict(row) if row else {}

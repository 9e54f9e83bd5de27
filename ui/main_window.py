"""The console's main window, operator mode: camera grid, alert queue, adjudication.

The window only shows: it reads the newest frame and overlays from each camera worker on a
GUI timer (never waiting on them); every database read and write runs as a background job
whose answer comes back to the GUI thread. Every command is an action with a key.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QLabel,
    QListView,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console import clock
from console.services.live import LiveDeployment
from ui.adjudication import AdjudicationView
from ui.alert_delegate import AlertCardDelegate
from ui.alert_model import AlertIdRole, AlertQueueModel
from ui.attention import AttentionController
from ui.jobs import JobRunner
from ui.review_controller import ReviewController
from ui.video_tile import VideoTile

PAINT_INTERVAL_MS = 40  # 25 Hz screen refresh of the newest frames
OVERLAY_MAX_AGE_S = 0.5  # show the analysed frame while it is at most this much older than the newest
LAYOUTS = (1, 4, 9)
IDLE_LOCK_S = 10 * 60  # default: the console locks after ten minutes without input
PURGE_EVERY_MS = 15 * 60 * 1000


class AlertBridge(QObject):
    """Carries alert ids from worker threads, and other seats' changes from the change feed, to
    the GUI thread (queued signals)."""

    raised = Signal(int)
    changed = Signal(object)


def grid_shape(count: int) -> tuple[int, int]:
    if count <= 1:
        return 1, 1
    side = 2 if count <= 4 else 3
    return math.ceil(count / side), side


def window_left(ends_at: str) -> str:
    left = (datetime.fromisoformat(ends_at.replace("Z", "+00:00")) - clock.now()).total_seconds()
    if left <= 0:
        return "Window ENDED"
    return f"Window: {int(left // 3600)} h {int(left % 3600 // 60):02d} min left"


class MainWindow(QMainWindow):
    def __init__(self, player=None) -> None:
        super().__init__()
        self.setWindowTitle("Operator Review Console")
        self.live: LiveDeployment | None = None
        self.db_jobs = JobRunner(self, threads=1)
        self.tiles: list[VideoTile] = []
        self.faces_base = 0
        self.layout_size = 4
        self.bridge = AlertBridge(self)
        self.bridge.raised.connect(self._on_alert_raised)
        self.bridge.changed.connect(lambda boxed: self._on_change(boxed[0]))
        self.feed = None

        self.alerts = AlertQueueModel(self)
        self.view = AdjudicationView()
        self.review = ReviewController(self.view, self.alerts, self.db_jobs, self)
        self.review.opened.connect(self._on_opened)
        self.review.closed.connect(self._show_grid)
        self.review.awaitingOutcome.connect(self._add_awaiting)
        self.review.decided.connect(self._on_decided)
        self.attention = AttentionController(self.alerts.unacknowledged, player, self)

        # Camera grid page
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(6, 6, 6, 6)
        self.grid.setSpacing(6)
        self.placeholder = QLabel("Starting the deployment: checking the models and opening the database...")
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid.addWidget(self.placeholder, 0, 0)
        self.center = QStackedWidget()
        self.center.addWidget(self.grid_host)
        self.center.addWidget(self.view)

        # Queue panel
        side = QFrame()
        side.setObjectName("panel")
        sv = QVBoxLayout(side)
        heading = QLabel("Alerts awaiting review")
        heading.setObjectName("heading")
        hint = QLabel("A match is only a candidate: nothing is done to anyone until a person reviews it.\n"
                      "J/K move  ·  Enter open  ·  A acknowledge")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.queue_view = QListView()
        self.queue_view.setModel(self.alerts)
        self.queue_view.setItemDelegate(AlertCardDelegate(self.alerts, self.queue_view))
        self.queue_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.queue_view.doubleClicked.connect(lambda idx: self.review.open(idx.data(AlertIdRole)))
        self.empty_queue = QLabel("No alerts waiting.")
        self.empty_queue.setObjectName("muted")
        self.awaiting_heading = QLabel("Confirmed - outcome to record  [U]")
        self.awaiting_heading.setObjectName("heading")
        self.awaiting = QListWidget()
        self.awaiting.setMaximumHeight(120)
        self.awaiting.itemDoubleClicked.connect(lambda item: self.review.open(item.data(Qt.ItemDataRole.UserRole),
                                                                                "outcome"))
        sv.addWidget(heading)
        sv.addWidget(hint)
        sv.addWidget(self.queue_view, 1)
        sv.addWidget(self.empty_queue)
        sv.addWidget(self.awaiting_heading)
        sv.addWidget(self.awaiting)
        self.awaiting_heading.hide()
        self.awaiting.hide()
        self.alerts.rowsInserted.connect(self._queue_changed)
        self.alerts.rowsRemoved.connect(self._queue_changed)

        splitter = QSplitter()
        splitter.addWidget(self.center)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1080, 540])
        self.focus_banner = QLabel("CONSOLE NOT IN FOCUS - new alerts may be missed")
        self.focus_banner.setObjectName("focus_banner")
        self.focus_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.focus_banner.hide()
        # Faults the operator must know of (alerts waiting for the database, a clock that was
        # set): read from memory each second, never from the database on this thread.
        self.problem_banner = QLabel("")
        self.problem_banner.setObjectName("problem_banner")
        self.problem_banner.setWordWrap(True)
        self.problem_banner.hide()
        root = QWidget()
        rv = QVBoxLayout(root)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(0)
        rv.addWidget(self.focus_banner)
        rv.addWidget(self.problem_banner)
        rv.addWidget(splitter, 1)
        self.setCentralWidget(root)

        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        keys = ("deployment", "window", "user", "threshold", "faces", "pending", "workers")
        self.status_labels = {k: QLabel("") for k in keys}
        bar = self.statusBar()
        bar.addWidget(self.banner)
        for key in keys:
            bar.addWidget(self.status_labels[key])
        self.banner.hide()

        self._build_actions()
        self.paint_timer = QTimer(self)
        self.paint_timer.setInterval(PAINT_INTERVAL_MS)
        self.paint_timer.timeout.connect(self._paint_cameras)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self._refresh_status)
        app = QGuiApplication.instance()
        if app is not None:
            app.applicationStateChanged.connect(self._focus_changed)
        self._queue_changed()

    # -- actions --------------------------------------------------------------------
    def _action(self, text: str, keys: list, slot, tip: str, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        sequences = [QKeySequence(k) for k in keys]
        action.setShortcuts(sequences)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setAutoRepeat(False)  # a held key is one press, never several decisions
        action.setToolTip(f"{tip} ({', '.join(s.toString() for s in sequences)})")
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        v = self.view
        self.actions_by_name = {
            "next": self._action("Next alert", ["J"], lambda: self._move(1), "Next alert in the queue"),
            "previous": self._action("Previous alert", ["K"], lambda: self._move(-1), "Previous alert"),
            "enter": self._action("Open / commit", [Qt.Key.Key_Return, Qt.Key.Key_Enter], self._enter,
                                  "Open the selected alert; in a prompt, commit it"),
            "escape": self._action("Back", [Qt.Key.Key_Escape], v.back, "Cancel the prompt, or back to the queue"),
            "confirm": self._action("Confirm match", ["C"], v.ask_confirm, "Confirm: asks, then Enter confirms"),
            "reject": self._action("Reject", ["R"], v.ask_reject, "Reject with a reason"),
            "escalate": self._action("Escalate", ["E"], v.escalate, "Escalate to a supervisor"),
            "next_candidate": self._action("Next candidate", ["]"], lambda: v.cycle_candidate(1), "Next candidate"),
            "prev_candidate": self._action("Previous candidate", ["["], lambda: v.cycle_candidate(-1),
                                           "Previous candidate"),
            "zoom_in": self._action("Zoom in", ["+", "="], lambda: v.probe_view.zoom_by(1.25), "Zoom in (linked)"),
            "zoom_out": self._action("Zoom out", ["-"], lambda: v.probe_view.zoom_by(0.8), "Zoom out (linked)"),
            "zoom_reset": self._action("Fit", ["0"], v.probe_view.reset_zoom, "Fit the images"),
            "acknowledge": self._action("Acknowledge", ["A"], self._acknowledge_all,
                                        "Acknowledge waiting alerts (stops the sound)"),
            "outcome": self._action("Record outcome", ["U"], self._open_awaiting, "Record a confirmed alert's outcome"),
        }
        for n in range(1, 8):
            self._action(f"Choice {n}", [str(n)], lambda _=False, n=n: v.pick(n), f"Pick choice {n} in a prompt")
        toolbar = QToolBar("Console")
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        self.layout_action = self._action("Layout 2x2", ["L"], self._cycle_layout, "Camera layout 1 / 2x2 / 3x3")
        self.privacy_action = self._action("Privacy mode", ["P"], self._toggle_privacy,
                                           "Blur faces that raised no alert", checkable=True)
        self.mute_action = self._action("Sound on", ["M"], self._toggle_mute, "Alert sound on or off",
                                        checkable=True)
        self.supervise_action = self._action("Supervision...", ["F9"], self._open_supervision,
                                             "Deployment, threshold, two-person rule, watchlist, users, retention")
        self.review_action = self._action("Review...", ["F10"], self._open_review,
                                          "Decision log, dashboard, deployment record, audit, what-if, blind review")
        for a in (self.layout_action, self.privacy_action, self.mute_action, self.actions_by_name["acknowledge"],
                  self.supervise_action, self.review_action):
            toolbar.addAction(a)

    def _open_supervision(self) -> None:
        if self.live is None:
            return
        from ui.supervision import SupervisionDialog

        dialog = SupervisionDialog(self.live, self.db_jobs, self)
        dialog.finished.connect(lambda _r: self._reload_deployment())
        self.supervision = dialog
        dialog.open()

    def _open_review(self) -> None:
        if self.live is None:
            return
        from ui.review_window import ReviewWindow

        self.review_window = ReviewWindow(self.live, self.db_jobs, self)
        self.review_window.open()

    def _reload_deployment(self) -> None:
        live = self.live
        if live is None:
            return

        def read():
            from console.store import repo

            return repo.get_deployment(live.store, live.deployment_id)

        def show(dep) -> None:
            live.deployment = dep
            live.apply_threshold(float(dep["threshold"]))
            self.status_labels["threshold"].setText(f"Threshold {dep['threshold']:.3f}")

        self.db_jobs.submit(read, show)

    def _enter(self) -> None:
        if self.center.currentWidget() is self.view:
            self.view.commit()
        else:
            index = self.queue_view.currentIndex()
            if not index.isValid() and self.alerts.rows:
                index = self.alerts.index(0)
            if index.isValid():
                self.review.open(index.data(AlertIdRole))

    def _move(self, step: int) -> None:
        if not self.alerts.rows:
            return
        row = self.queue_view.currentIndex().row()
        row = 0 if row < 0 else max(0, min(len(self.alerts.rows) - 1, row + step))
        self.queue_view.setCurrentIndex(self.alerts.index(row))
        if self.center.currentWidget() is self.view and self.view.mode in ("review", "empty"):
            self.review.open(self.alerts.rows[row]["id"])

    def _acknowledge_all(self) -> None:
        for r in self.alerts.rows:
            self.alerts.acknowledge(r["id"])
        self.alerts.refresh_ages()

    def _open_awaiting(self) -> None:
        if self.awaiting.count():
            self.review.open(self.awaiting.item(0).data(Qt.ItemDataRole.UserRole), "outcome")

    def _cycle_layout(self) -> None:
        self.layout_size = LAYOUTS[(LAYOUTS.index(self.layout_size) + 1) % len(LAYOUTS)]
        self._arrange_tiles()

    def _toggle_privacy(self, on: bool) -> None:
        for tile in self.tiles:
            tile.privacy = on
            tile.update()

    def _toggle_mute(self, muted: bool) -> None:
        self.attention.muted = muted
        self.mute_action.setText("Sound OFF" if muted else "Sound on")

    # -- wiring -------------------------------------------------------------------
    def attach(self, live: LiveDeployment) -> None:
        """Show a running deployment (its workers are started by the caller)."""
        self.live = live
        self.review.attach(live)
        self.placeholder.hide()
        for cam in live.cameras:
            self.tiles.append(VideoTile(cam.name))
        self.layout_size = next(n for n in LAYOUTS if n >= min(len(self.tiles), 9))
        self._arrange_tiles()
        live.add_listener(self.bridge.raised.emit)
        dep = live.deployment
        self.status_labels["deployment"].setText(dep["name"])
        self.status_labels["deployment"].setToolTip(f"{dep['location']}\n{dep['rationale']}")
        self.status_labels["user"].setText(f"User: {live.operator.username} ({live.operator.role})")
        self.status_labels["threshold"].setText(f"Threshold {dep['threshold']:.3f}")
        self.status_labels["threshold"].setToolTip(f"Model {live.engine.model_id}")
        if dep["is_demo"]:
            self.banner.setText("DEMO - generated video, demo watchlist")
            self.banner.show()
        self.db_jobs.submit(live.faces_analysed_stored, self._set_faces_base)
        from console.services.changes import ChangeFeed

        # Other seats' alerts, claims and decisions (and other processes' on one SQLite file).
        self.feed = ChangeFeed(live.store.reopen, lambda change: self.bridge.changed.emit((change,))).start()
        self.review.load_queue(lambda rows: [self.alerts.add_alert(r) for r in rows])
        self.paint_timer.start()
        self.status_timer.start()
        self.attention.start()
        self.purge_timer = QTimer(self)  # retention runs on a schedule, not only at start-up
        self.purge_timer.setInterval(PURGE_EVERY_MS)
        self.purge_timer.timeout.connect(self._run_purges)
        self.purge_timer.start()
        self._refresh_status()

    def _run_purges(self) -> None:
        live = self.live
        if live is not None:
            from console.services import retention

            self.db_jobs.submit(lambda: retention.run_purges(live.store))

    def _arrange_tiles(self) -> None:
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.hide()
        rows, cols = grid_shape(self.layout_size)
        for i, tile in enumerate(self.tiles[: self.layout_size]):
            self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()
        self.layout_action.setText({1: "Layout 1", 4: "Layout 2x2", 9: "Layout 3x3"}[self.layout_size])

    def show_error(self, exc: Exception) -> None:
        self.placeholder.setText(f"The deployment could not start:\n{exc}")
        QMessageBox.critical(self, "Operator Review Console", str(exc))

    def _set_faces_base(self, value: int) -> None:
        self.faces_base = value
        self._refresh_status()

    def _on_opened(self, alert_id: int) -> None:
        self.center.setCurrentWidget(self.view)
        row = self.alerts.row_of(alert_id)
        if row >= 0:
            self.queue_view.setCurrentIndex(self.alerts.index(row))

    def _show_grid(self) -> None:
        self.center.setCurrentWidget(self.grid_host)

    def _focus_changed(self, state) -> None:
        self.focus_banner.setVisible(state != Qt.ApplicationState.ApplicationActive and self.live is not None)

    # -- periodic -----------------------------------------------------------------
    def _paint_cameras(self) -> None:
        if self.live is None or self.center.currentWidget() is not self.grid_host:
            return
        for tile, worker in zip(self.tiles[: self.layout_size], self.live.workers, strict=False):
            snap = worker.snapshot()
            state = worker.source.state.value
            if snap.frame is None:
                tile.set_state(state)
                continue
            # The analysed frame with its own boxes while recognition keeps up; the newest raw
            # frame, without boxes, when it falls behind (boxes never float beside faces).
            if snap.analysed is not None and snap.frame.captured_at - snap.analysed.captured_at <= OVERLAY_MAX_AGE_S:
                tile.show_frame(snap.analysed.image, snap.analysed.index, snap.result.faces, state, worker.source.fps)
            else:
                tile.show_frame(snap.frame.image, snap.frame.index, [], state, worker.source.fps)

    def _refresh_status(self) -> None:
        if self.live is None:
            return
        dep = self.live.deployment
        self.status_labels["window"].setText(window_left(dep["ends_at"]))
        faces = self.faces_base + self.live.faces_analysed_live()
        self.status_labels["faces"].setText(f"Faces analysed: {faces:,}")
        problems = self.live.problems() + ([self.feed.error] if self.feed is not None and self.feed.error else [])
        self.problem_banner.setText("\n".join(problems))
        self.problem_banner.setVisible(bool(problems))
        self.alerts.refresh_ages()
        self._status_ticks = getattr(self, "_status_ticks", 0) + 1
        if self._status_ticks % 5 == 1:  # remote workers' heartbeats, every 5 s, as a job
            from console.services.worker import alive_workers

            live = self.live
            self.db_jobs.submit(lambda: alive_workers(live.store, live.deployment_id), self._show_workers)

    def _show_workers(self, workers: list[dict]) -> None:
        if not workers:
            self.status_labels["workers"].setText("")
            return
        cams = sum(len(w["cameras"]) for w in workers)
        self.status_labels["workers"].setText(f"Remote workers: {len(workers)} ({cams} cameras)")
        self.status_labels["workers"].setToolTip("\n".join(
            f"{w['worker_id']} on {w['host']}: " + ", ".join(f"{c['name']} {c['state']} {c['fps']} fps"
                                                          for c in w["cameras"].values()) for w in workers))

    def _queue_changed(self, *_args) -> None:
        n = len(self.alerts.rows)
        self.status_labels["pending"].setText(f"Pending alerts: {n}")
        self.empty_queue.setVisible(n == 0)
        if n and not self.queue_view.currentIndex().isValid():
            self.queue_view.setCurrentIndex(self.alerts.index(0))

    # -- alerts -------------------------------------------------------------------
    def _on_alert_raised(self, alert_id: int) -> None:
        if self.live is not None:
            self.review.load_alert_row(alert_id, self._add_alert)

    def _add_alert(self, row: dict) -> None:
        if not row or self.alerts.row_of(row["id"]) >= 0:
            return
        self.alerts.add_alert(row)
        if self.alerts.row_of(row["id"]) >= 0:
            self.attention.new_alert(row["id"], row.get("priority", 2))

    def _on_change(self, change) -> None:
        """Another seat (or this one, echoed) changed something: keep the queue true to the store."""
        if self.live is None or change.subject_type not in ("alert", "deployment"):
            return
        me = self.live.operator.username
        if change.subject_type == "deployment":
            if change.action == "deployment.threshold_changed":
                self._reload_deployment()
            return
        alert_id = int(change.subject_id)
        if change.action == "alert.raised":
            self.review.load_alert_row(alert_id, self._add_alert)
        elif change.action in ("decision.recorded", "decision.corrected"):
            self.alerts.remove_alert(alert_id)
            if change.actor != me and self.review.current == alert_id:
                self.view.failed(f"{change.actor} has decided this alert meanwhile.")
        elif change.action == "alert.opened" and change.actor != me:
            self.alerts.update_alert(alert_id, taken_by=change.actor)
        elif change.action == "alert.returned":
            self.alerts.update_alert(alert_id, taken_by=None)

    def _add_awaiting(self, alert_id: int, subject: str) -> None:
        from PySide6.QtWidgets import QListWidgetItem

        item = QListWidgetItem(f"Alert {alert_id} - {subject}")
        item.setData(Qt.ItemDataRole.UserRole, alert_id)
        self.awaiting.addItem(item)
        self.awaiting_heading.show()
        self.awaiting.show()

    def _on_decided(self, alert_id: int, what: str) -> None:
        if what.startswith("outcome:"):
            for i in range(self.awaiting.count()):
                if self.awaiting.item(i).data(Qt.ItemDataRole.UserRole) == alert_id:
                    self.awaiting.takeItem(i)
                    break
            self.awaiting_heading.setVisible(self.awaiting.count() > 0)
            self.awaiting.setVisible(self.awaiting.count() > 0)

    # -- idle lock ----------------------------------------------------------------
    def enable_idle_lock(self, actor, idle_lock_s: float = IDLE_LOCK_S) -> None:
        """Lock the console after ``idle_lock_s`` without keyboard or mouse input."""
        from PySide6.QtWidgets import QApplication

        self.signed_in = actor
        self.idle_lock_s = idle_lock_s
        self.last_input = time.monotonic()
        self.locked = False
        QApplication.instance().installEventFilter(self)
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(2000)
        self.idle_timer.timeout.connect(self._check_idle)
        self.idle_timer.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                            QEvent.Type.Wheel):
            self.last_input = time.monotonic()
        return False

    def _check_idle(self) -> None:
        idle = time.monotonic() - self.last_input
        if not self.locked and idle >= self.idle_lock_s:
            self.lock(idle)

    def lock(self, idle_s: float = 0.0) -> None:
        """Hide everything and ask the signed-in user's password; recognition and alerts go on."""
        from console.services import session
        from ui.login import LoginDialog

        actor, data_dir = self.signed_in, getattr(self, "data_dir", None)
        self.locked = True
        self.centralWidget().hide()
        self.db_jobs.submit(lambda: session.record_lock(data_dir, actor, idle_s))
        dialog = LoginDialog(lambda _u, p: session.unlock(data_dir, actor, p), self, username=actor.username,
                             locked=True)
        self.lock_dialog = dialog
        dialog.finished.connect(self._unlocked)
        dialog.open()

    def _unlocked(self, result: int) -> None:
        if result and self.lock_dialog.actor is not None:
            self.locked = False
            self.last_input = time.monotonic()
            self.centralWidget().show()
        else:
            self.lock(0.0)  # no way past the lock but the password

    # -- shutdown -----------------------------------------------------------------
    def shutdown(self) -> None:
        self.review.renew_timer.stop()
        if self.feed is not None:
            self.feed.stop()
            self.feed = None
        for timer in (getattr(self, "idle_timer", None), getattr(self, "purge_timer", None)):
            if timer is not None:
                timer.stop()
        self.paint_timer.stop()
        self.status_timer.stop()
        self.attention.stop()
        self.db_jobs.wait(5000)
        if self.live is not None:
            self.live.close()
            self.live = None

    def held_alerts(self) -> int:
        """Alerts raised but not yet in the database (it refused them); memory only."""
        return sum(len(w.recognizer.outbox) for w in self.live.workers) if self.live is not None else 0

    def closeEvent(self, event) -> None:  # noqa: N802
        held = self.held_alerts()
        if held:
            answer = QMessageBox.warning(
                self, "Operator Review Console",
                f"{held} alert(s) could not be saved yet: the database refuses writes "
                f"({self.problem_banner.text()}).\n\nIf you close now they are lost. Close anyway?",
                QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Close:
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)

"""The console's main window, operator mode: it puts the rooms together - camera grid, queue
panel, adjudication, status - and turns the live deployment's events into what they show.

The window only shows and asks: the deployment's rules (threshold, suppressions, the stop, the
end) are applied by the core's LiveDeployment on every seat; this window subscribes to its events.
Every database read and write runs as a background job whose answer comes back to the GUI thread.
Every command is an action with a key (ui/actions.py).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox, QSplitter, QStackedWidget, QToolBar, QVBoxLayout
from PySide6.QtWidgets import QWidget as _QWidget

from console.redaction import redact
from console.services.accounts.permissions import Permission
from console.services.runtime.live import LiveDeployment, LiveEvent
from console.services.setup import deployments
from ui import dispatch_board, escalation, fatigue_prompt, feedback, known_answer_timer
from ui.actions import Act, build_actions
from ui.adjudication import AdjudicationView
from ui.adjudication.controller import ReviewController
from ui.alert_model import AlertQueueModel
from ui.attention import AttentionController
from ui.camera_grid import CameraGrid, grid_shape
from ui.jobs import JobRunner
from ui.queue_panel import QueuePanel
from ui.session_lock import IDLE_LOCK_S, SessionLock
from ui.shift import ShiftController
from ui.status_bar import ConsoleStatus

__all__ = ["MainWindow", "grid_shape"]
PURGE_EVERY_MS = 15 * 60 * 1000


class LiveBridge(QObject):
    """Carries the live deployment's events from worker and feed threads to the GUI thread."""

    event = Signal(object)


class MainWindow(QMainWindow):
    def __init__(self, player=None) -> None:
        super().__init__()
        self.setWindowTitle("Operator Review Console")
        self.live: LiveDeployment | None = None
        self.db_jobs = JobRunner(self, threads=1)
        self.faces_base = 0
        self.bridge = LiveBridge(self)
        self.bridge.event.connect(lambda boxed: self._on_live_event(boxed[0]))

        self.alerts = AlertQueueModel(self)
        self.view = AdjudicationView()
        self.review = ReviewController(self.view, self.alerts, self.db_jobs, self)
        self.review.opened.connect(self._on_opened)
        self.review.closed.connect(self._show_grid)
        self.review.awaitingOutcome.connect(lambda alert_id, subject: self.queue.add_awaiting(alert_id, subject))
        self.review.decided.connect(self._on_decided)
        for signal in (self.review.opened, self.review.closed, self.review.decided):  # keyboard first
            signal.connect(lambda *_: self.queue.take_focus())
        self.attention = AttentionController(self.alerts.unacknowledged, player, self)

        self.grid_host = CameraGrid()
        self.view.facts_row.addWidget(self.grid_host.mini, 3)  # the alert's camera, live, beside the decision
        self.center = QStackedWidget()
        self.center.addWidget(self.grid_host)
        self.center.addWidget(self.view)
        self.queue = QueuePanel(self.alerts)
        self.queue.openRequested.connect(lambda alert_id, mode: self.review.open(alert_id, mode))
        self.queue_view = self.queue.queue_view
        self.dispatches = dispatch_board.install(self)  # sent / delivered / seen / outcome, under the queue
        self.alerts.rowsInserted.connect(self._queue_changed)
        self.alerts.rowsRemoved.connect(self._queue_changed)
        splitter = QSplitter()
        splitter.addWidget(self.center)
        splitter.addWidget(self.queue)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1080, 540])

        self.status = ConsoleStatus(self)
        self.banner, self.status_labels, self.problem_banner = (self.status.banner, self.status.labels,
                                                                self.status.problem_banner)
        root = _QWidget()
        rv = QVBoxLayout(root)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(0)
        for banner in (self.status.focus_banner, self.status.oversight_banner, self.status.problem_banner):
            rv.addWidget(banner)
        rv.addWidget(splitter, 1)
        self.setCentralWidget(root)

        self.session_lock = SessionLock(self, self.db_jobs)
        self.shift = ShiftController(self)  # sign out, hand over, switch user; closing asks first
        self._build_actions()
        self.grid_host.layoutChanged.connect(self.actions_by_name[Act.LAYOUT].setText)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self._refresh_status)
        self.purge_timer = QTimer(self)  # retention runs on a schedule, not only at start-up
        self.purge_timer.setInterval(PURGE_EVERY_MS)
        self.purge_timer.timeout.connect(self._run_purges)
        app = QGuiApplication.instance()
        if app is not None:
            app.applicationStateChanged.connect(self._focus_changed)
        self.db_jobs.unhandled.connect(self._job_failed)
        self.fatigue = fatigue_prompt.install(self)  # after a long spell at the seat: hand over, or a break
        self.known_answer = known_answer_timer.install(self)  # test alerts into the queue when due, once a minute
        self._queue_changed()

    # -- the rooms, by the names the tests and tools use --------------------------------------
    @property
    def tiles(self):
        return self.grid_host.tiles

    @property
    def placeholder(self):
        return self.grid_host.placeholder

    # -- actions --------------------------------------------------------------------------
    def _build_actions(self) -> None:
        v = self.view
        handlers = {
            Act.NEXT: lambda: self._move(1), Act.PREVIOUS: lambda: self._move(-1), Act.ENTER: self._enter,
            Act.ESCAPE: v.back, Act.CONFIRM: v.ask_confirm, Act.REJECT: v.ask_reject, Act.ESCALATE: v.escalate,
            Act.NEXT_CANDIDATE: lambda: v.cycle_candidate(1), Act.PREV_CANDIDATE: lambda: v.cycle_candidate(-1),
            Act.NEXT_SIGHTING: lambda: self.review.step_sighting(1),
            Act.PREV_SIGHTING: lambda: self.review.step_sighting(-1),
            Act.ZOOM_IN: lambda: v.probe_view.zoom_by(1.25), Act.ZOOM_OUT: lambda: v.probe_view.zoom_by(0.8),
            Act.ZOOM_RESET: v.probe_view.reset_zoom, Act.OUTCOME: self._open_awaiting, Act.FULL_PHOTO: v.toggle_full,
            Act.LAYOUT: self.grid_host.cycle_layout, Act.CAMERA: self.grid_host.next_camera,
            Act.PRIVACY: self.grid_host.set_privacy, Act.MUTE: self._toggle_mute,
            Act.ACKNOWLEDGE: self._acknowledge_all, Act.STOP: self._ask_stop, Act.RESTART: self._ask_restart,
            Act.SUPERVISE: self._open_supervision, Act.REVIEW: self._open_review,
            Act.SIGN_OUT: lambda: self.shift.sign_out(),
        }
        self.actions_by_name = build_actions(self, handlers, v.pick)
        toolbar = QToolBar("Console")
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        for act in (Act.LAYOUT, Act.CAMERA, Act.PRIVACY, Act.MUTE, Act.ACKNOWLEDGE, Act.SUPERVISE, Act.REVIEW, Act.STOP,
                    Act.RESTART, Act.SIGN_OUT):
            toolbar.addAction(self.actions_by_name[act])
        stop = toolbar.widgetForAction(self.actions_by_name[Act.STOP])
        if stop is not None:
            stop.setObjectName("stop_button")
        self._update_actions()

    def _update_actions(self) -> None:
        """Enabled states follow the deployment: stop while it recognises (for those who may),
        restart while it is stopped (supervisors)."""
        live = self.live
        can_stop = bool(live and live.recognising and deployments.may_stop(live.deployment, live.operator))
        can_restart = bool(live and live.stopped and not live.ended and live.operator.may(Permission.RESTART_RECOGNITION))
        self.actions_by_name[Act.STOP].setEnabled(can_stop)
        self.actions_by_name[Act.RESTART].setEnabled(can_restart)
        for act in (Act.SUPERVISE, Act.REVIEW, Act.SIGN_OUT):
            self.actions_by_name[act].setEnabled(live is not None)
        feedback.gate_actions(self)  # what the role may never do: greyed, with why on hover

    def _ask(self, title: str, label: str, then) -> None:
        """A reason, asked without a nested event loop; ``then(reason)`` when given."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.textValueSelected.connect(lambda text: text.strip() and then(text.strip()))
        self.reason_dialog = dialog
        dialog.open()

    def _ask_stop(self) -> None:
        live = self.live
        if live is None or not self.actions_by_name[Act.STOP].isEnabled():
            return
        self._ask("Stop recognition", "Stop recognition for this whole deployment, on every seat and worker, "
                  "now.\nWhy? (logged and shown on every seat)",
                  lambda reason: self.db_jobs.submit(
                      lambda: deployments.stop(live.store, live.operator, live.deployment_id, reason),
                      None, self._refused))

    def _ask_restart(self) -> None:
        live = self.live
        if live is None or not self.actions_by_name[Act.RESTART].isEnabled():
            return
        self._ask("Restart recognition", f"Recognition was stopped: {live.stopped}\nWhy may it run again? (logged)",
                  lambda reason: self.db_jobs.submit(
                      lambda: deployments.restart(live.store, live.operator, live.deployment_id, reason),
                      None, self._refused))

    def _refused(self, exc: Exception) -> None:
        QMessageBox.warning(self, "Operator Review Console", f"Refused: {redact(str(exc))}")

    def _job_failed(self, text: str) -> None:
        self.status.problem_banner.setText(text)
        self.status.problem_banner.show()

    def _open_supervision(self) -> None:
        if self.live is None:
            return
        from ui.supervision import SupervisionDialog

        self.supervision = SupervisionDialog(self.live, self.db_jobs, self)
        self.supervision.open()

    def _open_review(self) -> None:
        if self.live is None:
            return
        from ui.review import ReviewWindow

        self.review_window = ReviewWindow(self.live, self.db_jobs, self)
        self.review_window.open()

    def _enter(self) -> None:
        if self.center.currentWidget() is self.view:
            self.view.commit()
            return
        if feedback.enter_refused(self):  # an admin's Enter, an empty queue: said, not silent
            return
        self.review.open(self.queue.current_alert())

    def _move(self, step: int) -> None:
        alert_id = self.queue.move(step)
        if alert_id is not None and self.center.currentWidget() is self.view and self.view.mode in ("review", "empty"):
            self.review.open(alert_id)

    def _acknowledge_all(self) -> None:
        feedback.acknowledged(self, len(self.alerts.unacknowledged()))
        for r in self.alerts.rows:
            self.alerts.acknowledge(r["id"])
        self.alerts.refresh_ages()

    def _open_awaiting(self) -> None:
        alert_id = self.queue.first_awaiting()
        if alert_id is not None:
            self.review.open(alert_id, "outcome")

    def _toggle_mute(self, muted: bool) -> None:
        self.attention.muted = muted
        self.actions_by_name[Act.MUTE].setText("Sound OFF" if muted else "Sound on")

    # -- wiring -------------------------------------------------------------------------
    def attach(self, live: LiveDeployment) -> None:
        """Show a running deployment (the caller starts it)."""
        self.live = live
        self.review.attach(live)
        self.grid_host.show_cameras([cam.name for cam in live.cameras],
                                    live.seat.cameras if live.seat is not None else live.workers)
        self.actions_by_name[Act.LAYOUT].setText(self.grid_host.layout_name())
        live.subscribe(lambda event: self.bridge.event.emit((event,)))
        self.status.show_deployment(live)
        self.db_jobs.submit(live.faces_analysed_stored, self._set_faces_base)
        if live.operator.may(Permission.ADJUDICATE):  # a role that does not adjudicate is not shown the queue
            self.review.load_queue(lambda rows: [self.alerts.add_alert(r) for r in rows])
        else:
            self.queue.empty_queue.setText(f"Alerts are reviewed by operators and supervisors; your role "
                                           f"({live.operator.role}) does not see the queue.")
        self.status_timer.start()
        self.queue.take_focus()  # after sign-in, Enter opens the first incident
        self.attention.start()
        self.purge_timer.start()
        self._update_actions()
        self._refresh_status()

    def _run_purges(self) -> None:
        live = self.live
        if live is not None:
            from console.services.record import retention

            self.db_jobs.submit(lambda: retention.run_purges(live.store))

    def show_error(self, exc: Exception) -> None:
        text = redact(str(exc))  # a database or camera URL in the error keeps its password out of sight
        self.placeholder.setText(f"The deployment could not start:\n{text}")
        QMessageBox.critical(self, "Operator Review Console", text)

    def _set_faces_base(self, value: int) -> None:
        self.faces_base = value
        self._refresh_status()

    def _on_opened(self, alert_id: int) -> None:
        self.center.setCurrentWidget(self.view)
        self.grid_host.follow(self.view.detail.camera if self.view.detail is not None else None)
        self.queue.select(alert_id)

    def _show_grid(self) -> None:
        self.center.setCurrentWidget(self.grid_host)

    def _focus_changed(self, state) -> None:
        self.status.focus_banner.setVisible(state != Qt.ApplicationState.ApplicationActive and self.live is not None)

    # -- periodic -------------------------------------------------------------------------
    def _refresh_status(self) -> None:
        live = self.live
        if live is None:
            return
        self.status.refresh(live, self.faces_base + live.faces_analysed_live(), live.problems())
        self.status.show_analysis(live)
        self.alerts.refresh_ages()
        self._status_ticks = getattr(self, "_status_ticks", 0) + 1
        if self._status_ticks % 5 == 1:  # remote workers' heartbeats, every 5 s, as a job
            from console.services.runtime.worker import alive_workers

            own = live.seat.worker_id if live.seat is not None else None  # this seat's process is not remote
            self.db_jobs.submit(lambda: [w for w in alive_workers(live.store, live.deployment_id)
                                         if w["worker_id"] != own], self.status.show_workers)

    def _queue_changed(self, *_args) -> None:
        self.status.show_pending(self.queue.queue_changed())

    # -- the live deployment's events ----------------------------------------------------------
    def _on_live_event(self, event: LiveEvent) -> None:
        if self.live is None:
            return
        if event.kind == "alert":
            if self.live.operator.may(Permission.ADJUDICATE):
                self.review.load_alert_row(event.alert_id, self._add_alert)
        elif event.kind == "change":
            self._on_change(event.change)
        elif event.kind == "threshold":
            self.status.show_threshold(self.live)
        elif event.kind in ("stopped", "restarted", "ended"):
            self.status.show_recognition(self.live, event.by)
            self._update_actions()

    def _add_alert(self, row: dict) -> None:
        """A new incident sounds; a further sighting of one already queued only updates its card (a
        flood of repeats must not train anyone to click)."""
        if self.alerts.add_alert(row) == "new":
            self.attention.new_alert(row["id"], row.get("priority", 2))
        elif row and row.get("status") == "decided" and row.get("incident_id", row["id"]) != row["id"]:
            self.statusBar().showMessage(f"{row['subject_name']} seen again on {row['camera']}: the sighting is "
                                         f"attached to decided incident {row['incident_id']}", 15000)

    def _on_change(self, change) -> None:
        """Another seat (or this one, echoed) changed an alert: keep the queue true to the store."""
        if change.subject_type != "alert":
            return
        me = self.live.operator.username
        alert_id = int(change.subject_id)
        if change.action == "alert.raised":
            if self.live.operator.may(Permission.ADJUDICATE):
                self.review.load_alert_row(alert_id, self._add_alert)
        elif change.action in ("decision.recorded", "decision.corrected"):
            self.alerts.remove_alert(alert_id)
            if change.actor_name != me and self.review.current == alert_id:
                self.view.failed(f"{change.actor_name} has decided this alert meanwhile.")
        elif change.action == "alert.opened" and change.actor_name != me:
            self.alerts.update_alert(alert_id, taken_by=change.actor_name)
        elif change.action == "alert.returned":
            self.alerts.update_alert(alert_id, taken_by=None)
        elif change.action == "alert.escalated":  # out of operators' queues; up to supervisors', with a sound
            escalation.arrived(self, alert_id, change.actor_name)

    def _on_decided(self, alert_id: int, what: str) -> None:
        if what.startswith("outcome:"):
            self.queue.remove_awaiting(alert_id)

    # -- idle lock --------------------------------------------------------------------------
    def enable_idle_lock(self, actor, idle_lock_s: float = IDLE_LOCK_S) -> None:
        """Lock the console after ``idle_lock_s`` without keyboard or mouse input."""
        self.session_lock.enable(actor, idle_lock_s)

    def lock(self, idle_s: float = 0.0) -> None:
        self.session_lock.lock(idle_s)

    # -- shutdown ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.review.renew_timer.stop()
        self.session_lock.stop()
        for timer in (self.purge_timer, self.status_timer):
            timer.stop()
        self.grid_host.stop()
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
        if not self.shift.may_close():  # incidents waiting: asks first
            return event.ignore()
        self.shutdown()
        super().closeEvent(event)

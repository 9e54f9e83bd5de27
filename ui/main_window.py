"""The console's main window: camera grid, pending alerts, deployment status.

The window only shows: it reads the newest frame and overlays from each camera worker
on a GUI timer (never waiting on them), and every database read runs as a background
job whose answer comes back to the GUI thread.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.services.live import LiveDeployment
from ui.alert_model import AlertIdRole, AlertQueueModel, Column
from ui.jobs import JobRunner
from ui.video_tile import VideoTile

PAINT_INTERVAL_MS = 40  # 25 Hz screen refresh of the newest frames
OVERLAY_MAX_AGE_S = 0.6  # overlays older than this are not drawn over a newer frame


class AlertBridge(QObject):
    """Carries alert ids from worker threads to the GUI thread (queued signal)."""

    raised = Signal(int)


def grid_shape(count: int) -> tuple[int, int]:
    if count <= 1:
        return 1, 1
    side = 2 if count <= 4 else 3
    return math.ceil(count / side), side


def window_left(ends_at: str) -> str:
    left = (datetime.fromisoformat(ends_at.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()
    if left <= 0:
        return "window ENDED"
    return f"{int(left // 3600)} h {int(left % 3600 // 60):02d} min left"


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Operator Review Console")
        self.live: LiveDeployment | None = None
        self.db_jobs = JobRunner(self, threads=1)
        self.tiles: list[VideoTile] = []
        self.faces_base = 0
        self.bridge = AlertBridge(self)
        self.bridge.raised.connect(self._on_alert_raised)

        self.alerts = AlertQueueModel(self)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(6, 6, 6, 6)
        self.grid.setSpacing(6)
        self.placeholder = QLabel("Starting the deployment: checking the models and opening the database...")
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid.addWidget(self.placeholder, 0, 0)

        side = QFrame()
        side.setObjectName("panel")
        side_layout = QVBoxLayout(side)
        heading = QLabel("Alerts awaiting review")
        heading.setObjectName("heading")
        hint = QLabel("A match is only a candidate: nothing is done to anyone until a person reviews it.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.table = QTableView()
        self.table.setModel(self.alerts)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Column.SUBJECT, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_alert_selected)
        self.probe = QLabel("Select an alert to see the live capture")
        self.probe.setObjectName("muted")
        self.probe.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.probe.setMinimumHeight(200)
        side_layout.addWidget(heading)
        side_layout.addWidget(hint)
        side_layout.addWidget(self.table, 3)
        side_layout.addWidget(self.probe, 2)

        splitter = QSplitter()
        splitter.addWidget(self.grid_host)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1060, 540])
        self.setCentralWidget(splitter)

        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.status_labels = {k: QLabel("") for k in ("deployment", "window", "user", "threshold", "faces")}
        bar = self.statusBar()
        bar.addWidget(self.banner)
        for key in ("deployment", "window", "user", "threshold", "faces"):
            bar.addWidget(self.status_labels[key])
        self.banner.hide()

        next_alert = QAction("Next alert", self)
        next_alert.setShortcut(QKeySequence(Qt.Key.Key_J))
        next_alert.setToolTip("Select the next alert in the queue (J)")
        next_alert.triggered.connect(lambda: self._move_selection(1))
        prev_alert = QAction("Previous alert", self)
        prev_alert.setShortcut(QKeySequence(Qt.Key.Key_K))
        prev_alert.setToolTip("Select the previous alert in the queue (K)")
        prev_alert.triggered.connect(lambda: self._move_selection(-1))
        self.addActions([next_alert, prev_alert])

        self.paint_timer = QTimer(self)
        self.paint_timer.setInterval(PAINT_INTERVAL_MS)
        self.paint_timer.timeout.connect(self._paint_cameras)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(1000)
        self.status_timer.timeout.connect(self._refresh_status)

    # -- wiring -------------------------------------------------------------------
    def attach(self, live: LiveDeployment) -> None:
        """Show a running deployment (its workers are started by the caller)."""
        self.live = live
        self.placeholder.hide()
        rows, cols = grid_shape(len(live.cameras))
        for i, cam in enumerate(live.cameras):
            tile = VideoTile(cam.name)
            self.tiles.append(tile)
            self.grid.addWidget(tile, i // cols, i % cols)
        live.add_listener(self.bridge.raised.emit)
        dep = live.deployment
        self.status_labels["deployment"].setText(dep["name"])
        self.status_labels["deployment"].setToolTip(f"{dep['location']}\n{dep['rationale']}")
        self.status_labels["user"].setText(f"Operator: {live.operator.username}")
        self.status_labels["threshold"].setText(f"Threshold {dep['threshold']:.3f}")
        self.status_labels["threshold"].setToolTip(f"Model {live.engine.model_id}")
        if dep["is_demo"]:
            self.banner.setText("DEMO - generated video, demo watchlist")
            self.banner.show()
        self.db_jobs.submit(live.faces_analysed_stored, self._set_faces_base)
        self.paint_timer.start()
        self.status_timer.start()
        self._refresh_status()

    def show_error(self, exc: Exception) -> None:
        self.placeholder.setText(f"The deployment could not start:\n{exc}")
        QMessageBox.critical(self, "Operator Review Console", str(exc))

    def _set_faces_base(self, value: int) -> None:
        self.faces_base = value
        self._refresh_status()

    # -- periodic -----------------------------------------------------------------
    def _paint_cameras(self) -> None:
        if self.live is None:
            return
        for tile, worker in zip(self.tiles, self.live.workers, strict=False):
            snap = worker.snapshot()
            state = worker.source.state.value
            if snap.frame is None:
                tile.set_state(state)
                continue
            faces = []
            if snap.result is not None and snap.frame.captured_at - snap.result.captured_at <= OVERLAY_MAX_AGE_S:
                faces = snap.result.faces
            tile.show_frame(snap.frame.image, snap.frame.index, faces, state, worker.source.fps)

    def _refresh_status(self) -> None:
        if self.live is None:
            return
        dep = self.live.deployment
        self.status_labels["window"].setText(window_left(dep["ends_at"]))
        faces = self.faces_base + self.live.faces_analysed_live()
        self.status_labels["faces"].setText(f"Faces analysed: {faces:,}")
        self.alerts.refresh_ages()

    # -- alerts -------------------------------------------------------------------
    def _on_alert_raised(self, alert_id: int) -> None:
        live = self.live
        if live is None:
            return
        self.db_jobs.submit(lambda: live.alert_summary(alert_id), self._add_alert)

    def _add_alert(self, row: dict) -> None:
        self.alerts.add_alert(row)
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)

    def _on_alert_selected(self, current, _previous) -> None:
        if not current.isValid():
            return
        alert_id = self.alerts.data(current, AlertIdRole)
        row = next((r for r in self.alerts.rows if r["id"] == alert_id), None)
        if row and row.get("probe_jpeg"):
            image = QImage.fromData(row["probe_jpeg"], "JPG")
            self.probe.setPixmap(QPixmap.fromImage(image).scaled(
                240, 240, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def _move_selection(self, step: int) -> None:
        if not self.alerts.rows:
            return
        row = self.table.currentIndex().row()
        self.table.selectRow(max(0, min(len(self.alerts.rows) - 1, row + step)))

    # -- shutdown -----------------------------------------------------------------
    def shutdown(self) -> None:
        self.paint_timer.stop()
        self.status_timer.stop()
        self.db_jobs.wait(5000)
        if self.live is not None:
            self.live.close()
            self.live = None

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

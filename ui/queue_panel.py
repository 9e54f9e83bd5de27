"""The queue panel: alerts awaiting review (cards), and confirmed alerts whose outcome is still
to be recorded. It shows the queue model and says which alert a person asked to open."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
)

from ui.alert_delegate import AlertCardDelegate
from ui.alert_model import AlertIdRole, AlertQueueModel


class QueuePanel(QFrame):
    openRequested = Signal(int, str)  # alert id, mode ("review" or "outcome")

    def __init__(self, alerts: AlertQueueModel, parent=None) -> None:
        super().__init__(parent)
        self.alerts = alerts
        self.setObjectName("panel")
        v = QVBoxLayout(self)
        heading = QLabel("Incidents awaiting review - priority first, then the longest waiting")
        heading.setObjectName("heading")
        heading.setWordWrap(True)  # a narrow queue (1280 px screens) wraps its heading
        hint = QLabel("A match is only a candidate: nothing is done to anyone until a person reviews it. "
                      "One card per person per pass, on any camera: decided once.\n"
                      "J/K move  ·  Enter open  ·  A acknowledge")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.queue_view = QListView()
        self.queue_view.setModel(alerts)
        self.queue_view.setItemDelegate(AlertCardDelegate(alerts, self.queue_view))
        self.queue_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.queue_view.doubleClicked.connect(lambda idx: self.openRequested.emit(idx.data(AlertIdRole), "review"))
        self.empty_queue = QLabel("No alerts waiting.")
        self.empty_queue.setObjectName("muted")
        self.awaiting_heading = QLabel("Confirmed - outcome to record  [U]")
        self.awaiting_heading.setObjectName("heading")
        self.awaiting = QListWidget()
        self.awaiting.setMaximumHeight(120)
        self.awaiting.itemDoubleClicked.connect(
            lambda item: self.openRequested.emit(item.data(Qt.ItemDataRole.UserRole), "outcome"))
        for w in (heading, hint):
            v.addWidget(w)
        v.addWidget(self.queue_view, 1)
        for w in (self.empty_queue, self.awaiting_heading, self.awaiting):
            v.addWidget(w)
        self._show_awaiting()

    def queue_changed(self) -> int:
        n = len(self.alerts.rows)
        self.empty_queue.setVisible(n == 0)
        if n and not self.queue_view.currentIndex().isValid():
            self.queue_view.setCurrentIndex(self.alerts.index(0))
        return n

    def take_focus(self, *_args) -> None:
        """Keyboard first: after sign-in, on opening an incident and after every decision the queue
        has the focus, so that J/K move and Enter opens the selected incident without a click."""
        window = self.window()
        typing = QApplication.focusWidget()
        if isinstance(typing, QLineEdit | QPlainTextEdit | QTextEdit) and typing.isVisible() and window.isAncestorOf(typing):
            return  # a note being written keeps the keyboard
        if window.isVisible() and not window.isActiveWindow():
            window.activateWindow()
        self.queue_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def current_alert(self) -> int | None:
        index = self.queue_view.currentIndex()
        if not index.isValid() and self.alerts.rows:
            index = self.alerts.index(0)
        return index.data(AlertIdRole) if index.isValid() else None

    def move(self, step: int) -> int | None:
        """Select the next (or previous) alert; its id, or None when the queue is empty."""
        if not self.alerts.rows:
            return None
        row = self.queue_view.currentIndex().row()
        row = 0 if row < 0 else max(0, min(len(self.alerts.rows) - 1, row + step))
        self.queue_view.setCurrentIndex(self.alerts.index(row))
        return self.alerts.rows[row]["id"]

    def select(self, alert_id: int) -> None:
        row = self.alerts.row_of(alert_id)
        if row >= 0:
            self.queue_view.setCurrentIndex(self.alerts.index(row))

    # -- confirmed, outcome to record -------------------------------------------------------
    def add_awaiting(self, alert_id: int, subject: str) -> None:
        item = QListWidgetItem(f"Alert {alert_id} - {subject}")
        item.setData(Qt.ItemDataRole.UserRole, alert_id)
        self.awaiting.addItem(item)
        self._show_awaiting()

    def remove_awaiting(self, alert_id: int) -> None:
        for i in range(self.awaiting.count()):
            if self.awaiting.item(i).data(Qt.ItemDataRole.UserRole) == alert_id:
                self.awaiting.takeItem(i)
                break
        self._show_awaiting()

    def first_awaiting(self) -> int | None:
        return self.awaiting.item(0).data(Qt.ItemDataRole.UserRole) if self.awaiting.count() else None

    def _show_awaiting(self) -> None:
        self.awaiting_heading.setVisible(self.awaiting.count() > 0)
        self.awaiting.setVisible(self.awaiting.count() > 0)

"""The operator's "Dispatched" list: where each confirmed incident sent to the handhelds stands -
sent, delivered, seen, the outcome (who, and whether from the handheld or relayed by an operator).

It follows the change feed's dispatch.* and engagement.recorded entries, and ticks each second while
a dispatch is neither delivered nor older than ``NOT_DELIVERED_S``, so that "Not delivered in 5 s -
radio the officers" shows in red the moment it is true. Every read is a job on the database thread;
the GUI thread only draws what comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QVBoxLayout

from console.domain import EngagementAction, EngagementResult
from console.services.accounts.permissions import Permission
from console.services.engage import dispatch
from console.services.engage.dispatch import NOT_DELIVERED_S, Delivery
from ui import theme
from ui.adjudication.send_to import NOBODY_PAIRED
from ui.alert_model import parse_ts

RECENT = 8  # the newest dispatches shown
TICK_MS = 1000
LATE = f"Not delivered in {NOT_DELIVERED_S:.0f} s - radio the officers"
RESULTS, ACTIONS = EngagementResult.labels(), EngagementAction.labels()


def _at(ts: str | None) -> str:
    return parse_ts(ts).astimezone().strftime("%H:%M:%S") if ts else ""


def describe(d: Delivery, subject: str = "") -> tuple[str, str]:
    """The dispatch's lines, and its warning ('' when none): each stage ticked with its time, or open."""
    to = "the team" if d.to == dispatch.TEAM else d.to
    head = f"Alert {d.alert_id}" + (f" · {subject}" if subject else "") + f"  →  {to}"
    stages = [("sent", d.sent_at), ("delivered", d.delivered_at), ("seen", d.seen_at)]
    lines = [head, "   ".join(f"✓ {name} {_at(at)}" if at else f"○ {name}" for name, at in stages)]
    if d.outcome:
        o = d.outcome
        via = "on the handheld" if o["via"] == "handheld" else "relayed by the operator"
        lines.append(f"✓ outcome: {RESULTS.get(o['result'], o['result'])}, {ACTIONS.get(o['action'], o['action'])}"
                     f" - {o['by']}, {via}")
    else:
        lines.append("○ outcome")
    warning = ""
    if d.delivered_at is None and d.outcome is None:
        warning = NOBODY_PAIRED if d.reach == 0 else LATE if d.late() else ""
    return "\n".join(lines + ([warning] if warning else [])), warning


class DispatchPanel(QFrame):
    """The list itself: hidden while nothing was dispatched."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel("Dispatched to the handhelds - sent, delivered, seen, outcome")
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setMaximumHeight(170)
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the queue keeps the keyboard
        v.addWidget(self.heading)
        v.addWidget(self.list)
        self.setVisible(False)

    def show_rows(self, rows: list[tuple[int, str, str]]) -> None:
        """(alert id, text, warning) newest first."""
        self.list.clear()
        for alert_id, text, warning in rows:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, alert_id)
            if warning:
                item.setForeground(QColor(theme.LOST))
            self.list.addItem(item)
        self.setVisible(bool(rows))

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]


class DispatchTracker(QObject):
    """Which dispatches to follow (this seat's sends and the feed's), read again on each change."""

    updated = Signal()
    reported = Signal(int)  # an alert whose outcome is recorded (by an officer, or relayed): off the to-record list

    def __init__(self, jobs, panel: DispatchPanel, live_of: Callable[[], object], parent=None) -> None:
        super().__init__(parent)
        self.jobs, self.panel, self.live_of = jobs, panel, live_of
        self.followed: dict[int, str] = {}  # alert id -> subject ('' when not known here), oldest first
        self.deliveries: dict[int, Delivery] = {}
        self._reading = self._again = False
        self._seeded: int | None = None  # the deployment whose recent dispatches were read at start
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.refresh)

    def _live(self):
        live = self.live_of()
        return live if live is not None and live.operator.may(Permission.DISPATCH) else None

    def track(self, alert_id: int, subject: str = "") -> None:
        self.followed[alert_id] = subject or self.followed.get(alert_id, "")
        for old in list(self.followed)[:-RECENT]:
            self.followed.pop(old)
            self.deliveries.pop(old, None)
        self.refresh()

    def on_event(self, event) -> None:
        """A LiveEvent from the window's bridge: only the shared log's dispatch and outcome entries matter."""
        if self._seeded is None and self._live() is not None:
            self.refresh()  # the first event after sign-in: read the deployment's recent dispatches
        if event.kind == "change" and event.change is not None:
            self.on_change(event.change)

    def on_change(self, change) -> None:
        if change.subject_type != "alert" or not (change.action.startswith("dispatch.")
                                                  or change.action == "engagement.recorded"):
            return
        alert_id = int(change.subject_id)
        if change.action == "dispatch.sent":
            self.track(alert_id)
        elif alert_id in self.followed:
            self.refresh()

    def refresh(self) -> None:
        live = self._live()
        if live is None:
            self.timer.stop()
            return
        if self._reading:  # one read at a time; a change meanwhile reads once more after it
            self._again = True
            return
        self._reading, ids = True, list(self.followed)
        seed = self._seeded != live.deployment_id
        self._seeded = live.deployment_id

        def read() -> list[Delivery | None]:
            if seed:  # a seat started mid-shift follows the deployment's recent dispatches too
                for a in reversed(dispatch.recent(live.store, live.operator, live.deployment_id, RECENT)):
                    if a not in ids:
                        ids.insert(0, a)
            return [dispatch.delivery(live.store, live.operator, a) for a in ids]

        self.jobs.submit(read, self._show, self._failed)

    def _failed(self, exc: Exception) -> None:
        self._reading = False
        self.panel.heading.setText(f"Dispatched - not read: {exc}")

    def _show(self, found: list[Delivery | None]) -> None:
        self._reading = False
        seeds = [d.alert_id for d in found if d is not None and d.alert_id not in self.followed]  # read at start
        self.followed = {**dict.fromkeys(seeds, ""), **self.followed}  # oldest first, before this seat's own
        self.deliveries.update({d.alert_id: d for d in found if d is not None})
        for d in found:
            if d is not None and d.outcome is not None:
                self.reported.emit(d.alert_id)
        rows = []
        for alert_id in reversed(self.followed):
            d = self.deliveries.get(alert_id)
            if d is not None:
                text, warning = describe(d, self.followed[alert_id] or d.subject)
                rows.append((alert_id, text, warning))
        self.panel.show_rows(rows)
        waiting = any(d.delivered_at is None and d.outcome is None and not d.late() for d in self.deliveries.values())
        if waiting and not self.timer.isActive():
            self.timer.start()
        elif not waiting:
            self.timer.stop()
        self.updated.emit()
        if self._again:
            self._again = False
            self.refresh()


def install(window) -> DispatchTracker:
    """Put the list under the window's queue and follow this seat's sends and the feed."""
    panel = DispatchPanel()
    window.queue.layout().addWidget(panel)
    tracker = DispatchTracker(window.db_jobs, panel, lambda: window.live, window)
    window.review.dispatched.connect(tracker.track)
    tracker.reported.connect(window.queue.remove_awaiting)
    window.bridge.event.connect(lambda boxed: tracker.on_event(boxed[0]))
    return tracker

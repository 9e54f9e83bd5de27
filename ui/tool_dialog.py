"""The shape the supervisor's and administrator's windows share: tabs that read when they are
shown, and one line of answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from console.redaction import redact
from ui.screen_fit import open_fitted
from ui.toast import say


class ToolDialog(QDialog):
    def __init__(self, live, jobs, title: str, size: tuple[int, int], parent=None) -> None:
        super().__init__(parent)
        self.live, self.jobs, self.actor = live, jobs, live.operator
        self.setWindowTitle(title)
        open_fitted(self, *size)  # never larger than the screen it opens on
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)  # the tallest tab fits a 720 px screen
        self.tabs = QTabWidget()
        v.addWidget(self.tabs)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        v.addWidget(self.message)
        jobs.unhandled.connect(self._unhandled)

    def add_tabs(self, tabs: list[tuple[QWidget, str]]) -> None:
        for widget, name in tabs:
            self.tabs.addTab(widget, name)
        # Enter in a reason field must not press whichever button a dialog makes the default.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.tabs.currentChanged.connect(lambda _i: self.refresh())

    def refresh(self) -> None:
        """Read the shown tab again (a tab reads only when it is shown: nobody is refused, and
        logged, for a tab they never opened)."""
        tab = self.tabs.currentWidget()
        if isinstance(tab, ToolTab):
            tab.refresh()

    def _fail(self, exc: Exception) -> None:
        """A service's refusal, shown as the service worded it."""
        self.message.setText(f"Refused: {redact(str(exc))}")
        say(self.tabs, self.message.text())  # where the eye is, not only the line at the bottom

    def _unhandled(self, text: str) -> None:
        self.message.setText(f"Failed: {redact(text)}")
        say(self.tabs, self.message.text())


class ToolTab(QWidget):
    """One tab of a tool dialog: the signed-in user's reads and actions, as background jobs."""

    def __init__(self, dialog: ToolDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.live, self.jobs, self.actor = dialog.live, dialog.jobs, dialog.actor

    def refresh(self) -> None:
        """Read what the tab shows (when it is shown, and after each action)."""

    def say(self, text: str, kind: str = "done") -> None:
        self.dialog.message.setText(text)
        say(self.dialog.tabs, text, kind)

    def fail(self, exc: Exception) -> None:
        self.dialog._fail(exc)

    def read(self, fn: Callable[[], Any], show: Callable[[Any], None]) -> None:
        self.jobs.submit(fn, show, self.fail)

    def act(self, fn: Callable[[], Any], done_text: str) -> None:
        """Run a service call; say what was done (with its answer, if any) and read again."""
        def ok(result) -> None:
            self.say(done_text if result is None else f"{done_text} {result}")
            self.refresh()

        self.jobs.submit(fn, ok, self.fail)

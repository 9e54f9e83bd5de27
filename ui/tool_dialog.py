"""The shape the supervisor's and administrator's windows share: tabs, and one line of answer."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QTabWidget, QVBoxLayout, QWidget


class ToolDialog(QDialog):
    def __init__(self, live, jobs, title: str, size: tuple[int, int], parent=None) -> None:
        super().__init__(parent)
        self.live, self.jobs, self.actor = live, jobs, live.operator
        self.setWindowTitle(title)
        self.resize(*size)
        v = QVBoxLayout(self)
        self.tabs = QTabWidget()
        v.addWidget(self.tabs)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        v.addWidget(self.message)

    def add_tabs(self, tabs: list[tuple[QWidget, str]]) -> None:
        for widget, name in tabs:
            self.tabs.addTab(widget, name)

    def _fail(self, exc: Exception) -> None:
        """A service's refusal, shown as the service worded it."""
        self.message.setText(f"Refused: {exc}")

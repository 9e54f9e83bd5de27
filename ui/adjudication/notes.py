"""The note prompts: an operator's escalation (a note for the supervisor) and a supervisor's
decision on an escalated alert (why) - both required, both sent with Enter."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout


class EscalatePage(QFrame):
    """``note`` is what Enter sends; the view's commit reads it in the "escalate" mode."""

    def __init__(self, commit, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("prompt")
        v = QVBoxLayout(self)
        self.label = QLabel("")
        v.addWidget(self.label)
        row = QHBoxLayout()
        self.note = QLineEdit()
        self.note.setPlaceholderText("e.g. the watchlist photo is old; the ears differ; I know this person")
        self.note.returnPressed.connect(commit)
        self.send = QPushButton("Send to supervisor  [Enter]")
        self.send.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.send.clicked.connect(commit)
        row.addWidget(self.note, 1)
        row.addWidget(self.send)
        v.addLayout(row)

    def ask(self, purpose: str) -> None:
        """``purpose``: "escalate" (the operator's note) or "note" (the supervisor's decision note)."""
        if purpose == "escalate":
            self.label.setText("Escalate to a supervisor: <b>why?</b> The note goes with the alert to every "
                               "supervisor's seat (required). <b>Enter</b> sends it, <b>Esc</b> cancels.")
            self.send.setText("Send to supervisor  [Enter]")
        else:
            self.label.setText("This alert was escalated: <b>your decision needs a note</b> saying why (logged with "
                               "it). <b>Enter</b> records it, <b>Esc</b> cancels.")
            self.send.setText("Record decision  [Enter]")
        self.note.clear()
        self.note.setFocus()

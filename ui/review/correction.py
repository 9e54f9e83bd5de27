"""The correction screen: a supervisor records a new decision that supersedes the selected one.

Built on console/services/decisions/corrections.py, which decides what is allowed: a reason is required,
an ended deployment is read-only, only an incident's latest decision is corrected, and under the
two-person rule a correction to a confirmation waits for a second supervisor. The screen asks for
the reason before it sends anything and says every answer over itself.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from console.domain import Decision, RejectReason
from console.redaction import redact
from console.services.accounts.permissions import Permission, who_words
from console.services.decisions import corrections
from ui.feedback import gated_button, why_not
from ui.toast import say


class CorrectionDialog(QDialog):
    """``row`` is a decision log row (decision_id, decision, reason_code, username, subject_name...);
    ``candidates`` the alert's candidates as (entry_id, label), best first."""

    def __init__(self, live, jobs, row: dict, candidates: list[tuple[int, str]], parent=None, on_done=None) -> None:
        super().__init__(parent)
        self.live, self.jobs, self.actor, self.row, self.on_done = live, jobs, live.operator, row, on_done
        self.result_id: int | None = None
        self.setWindowTitle(f"Correct decision {row['decision_id']} - alert {row['id']}")
        self.setMinimumWidth(640)
        v = QVBoxLayout(self)
        title = QLabel(f"Correct the decision on alert {row['id']} ({row['subject_name']})")
        title.setObjectName("title")
        v.addWidget(title)
        was = Decision.labels().get(row["decision"], row["decision"])
        reason = RejectReason.labels().get(row.get("reason_code") or "", "")
        self.facts = QLabel(f"Recorded now: <b>{was}</b>{' - ' + reason if reason else ''} by {row['username']}. "
                            "A correction is a new decision that supersedes it; the old one stays in the record.")
        self.facts.setWordWrap(True)
        v.addWidget(self.facts)
        form = QFormLayout()
        self.decision = QComboBox()
        for code, label in Decision.labels().items():
            self.decision.addItem(label, code)
        self.decision.setCurrentIndex(1 if row["decision"] == "true_alert" else 0)
        self.reason_code = QComboBox()
        for code, label in RejectReason.offered().items():
            self.reason_code.addItem(label, code)
        self.candidate = QComboBox()
        for entry_id, label in candidates:
            self.candidate.addItem(label, entry_id)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Why is the decision corrected? (required, logged)")
        form.addRow("New decision", self.decision)
        form.addRow("Reason (false alert)", self.reason_code)
        form.addRow("Person (true alert)", self.candidate)
        form.addRow("Reason for the correction", self.note)
        v.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        v.addWidget(self.message)
        self.record = gated_button("Record correction", Permission.CORRECT_DECISION)
        self.record.setAutoDefault(False)
        self.record.clicked.connect(self.submit)
        v.addWidget(self.record)
        self.decision.currentIndexChanged.connect(self._follow)
        self._follow()
        if not self.actor.may(Permission.CORRECT_DECISION):
            self.record.setEnabled(False)
            self.record.setToolTip(why_not(self.actor, Permission.CORRECT_DECISION))
            self._say(f"Only {who_words(Permission.CORRECT_DECISION)} corrects a decision. "
                      f"{why_not(self.actor, Permission.CORRECT_DECISION)}")

    def _follow(self) -> None:
        true = self.decision.currentData() == "true_alert"
        self.reason_code.setEnabled(not true)
        self.candidate.setEnabled(true)

    def _say(self, text: str, kind: str = "refused") -> None:
        self.message.setText(text)
        say(self, text, kind)

    def submit(self) -> None:
        note = self.note.text().strip()
        if not note:
            self._say("A correction needs a reason: say why the decision is wrong. Nothing was recorded.")
            self.note.setFocus()
            return
        decision = self.decision.currentData()
        code = self.reason_code.currentData() if decision == "false_alert" else ""
        entry = self.candidate.currentData() if decision == "true_alert" else None
        store, actor, old = self.live.store, self.actor, int(self.row["decision_id"])
        self.record.setEnabled(False)
        self.jobs.submit(lambda: corrections.correct_decision(store, actor, old, decision, code, note, entry),
                         self._done, self._refused)

    def _done(self, new_id) -> None:
        self.result_id = new_id
        if new_id is None:
            self._say("Proposed and logged. The two-person rule applies: a second supervisor records the same "
                      "correction to make it count.", "info")
        else:
            self._say(f"Correction recorded as decision {new_id} (logged); decision {self.row['decision_id']} "
                      "stays in the record, superseded.", "done")
        if self.on_done is not None:
            self.on_done(new_id)

    def _refused(self, exc: Exception) -> None:
        self.record.setEnabled(True)
        self._say(f"Refused: {redact(str(exc))}")

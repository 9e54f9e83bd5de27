"""The deployment tab's known-answer tests row (console/services/accuracy/known_answer.py): enabled,
one test per N real incidents, at least hourly, the proficiency sets loaded, and Save with the reason
field above (a governed setting). Only a supervisor reads the sets: another role sees the row greyed
and is never refused, or logged, for a read it did not ask for."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from console.services.accounts.permissions import Permission
from console.services.accuracy import known_answer, proficiency
from ui.feedback import gated_button

LOAD_HOW = "python main.py known-answer load FOLDER --csv TRUTH.csv"


def sets_html(sets: list[dict]) -> str:
    """The loaded sets (name, items, mated), or how to load one."""
    if not sets:
        return f"No proficiency set is loaded. Load one with: <code>{escape(LOAD_HOW)}</code>"
    listed = "; ".join(f"{escape(s['name'])} ({s['items']} pairs, {int(s['mated_items'] or 0)} mated, "
                       f"model {escape(s['model_id'].split('@')[0])})" for s in sets)
    return f"<b>Sets loaded:</b> {listed}"


class KnownAnswerRow(QWidget):
    def __init__(self, tab, reason_field) -> None:
        super().__init__()
        self.tab, self.reason_field = tab, reason_field
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        row = QHBoxLayout()
        self.enabled = QCheckBox("On")
        self.enabled.setToolTip("Put test incidents, whose truth is known, into the operators' queues; each is revealed "
                                "right after its decision, never dispatched, and counted only in the operator figures.")
        self.every = QSpinBox()
        self.every.setRange(2, 1000)
        self.every.setPrefix("one per ")
        self.every.setSuffix(" real incidents")
        self.hourly = QCheckBox("at least hourly")
        self.save_button = gated_button("Save known-answer tests", Permission.SUPERVISE_OPERATORS, "uses the reason above")
        self.save_button.clicked.connect(self.save)
        for w in (self.enabled, self.every, self.hourly, self.save_button):
            row.addWidget(w)
        row.addStretch(1)
        v.addLayout(row)
        self.sets = QLabel("")
        self.sets.setTextFormat(Qt.TextFormat.RichText)
        self.sets.setWordWrap(True)
        self.sets.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the command can be copied
        v.addWidget(self.sets)

    def refresh(self) -> None:
        tab = self.tab
        store, dep, actor = tab.live.store, tab.live.deployment_id, tab.actor
        supervisor = actor.may(Permission.SUPERVISE_OPERATORS)
        for w in (self.enabled, self.every, self.hourly):
            w.setEnabled(supervisor)
        if not supervisor:
            self.sets.setText("Known-answer tests are set by a supervisor.")
            return
        tab.read(lambda: (known_answer.settings(store, dep), proficiency.list_sets(store, actor)), self._show)

    def _show(self, got) -> None:
        s, sets = got
        self.enabled.setChecked(bool(s["enabled"]))
        self.every.setValue(int(s["every"]))
        self.hourly.setChecked(bool(s["hourly"]))
        self.sets.setText(sets_html(sets))

    def save(self) -> None:
        tab = self.tab
        store, dep, actor = tab.live.store, tab.live.deployment_id, tab.actor
        on, every, hourly, reason = self.enabled.isChecked(), self.every.value(), self.hourly.isChecked(), \
            self.reason_field.text()
        tab.act(lambda: known_answer.configure(store, actor, dep, on, every, hourly, reason),
                "Known-answer tests " + (f"on (one per {every} real incidents{', at least hourly' if hourly else ''})"
                                         if on else "off") + "; saved and logged.")

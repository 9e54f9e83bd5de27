"""The operators tab: how often each operator's decisions were held up by a blind second look,
with 95 % intervals and the counts behind them, decision time by hour into the shift, who the
deployment's rule flags, and what a supervisor did about it (console/services/accuracy/operators.py)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from console import labels
from console.services.accounts.permissions import Permission
from console.services.accuracy import operators
from console.services.accuracy.operators import rate_text
from ui import theme
from ui.feedback import gated_button, why_not
from ui.tool_dialog import ToolTab

COLUMNS = (("operator", "Operator"), ("decisions", "Decisions"), ("re_reviewed", "Re-reviewed"),
           ("agreement", "Agreement [95 %] (n)"), ("false_confirmations", "Possible false confirmations [95 %] (n)"),
           ("missed_confirmations", "Possible misses [95 %] (n)"), ("median_s", "Decision time, median"),
           ("flagged", "Flag"))
FLAGGED = "FLAGGED"


def _seconds(v) -> str:
    return "n/a" if v is None else f"{v:.1f} s"


class OperatorModel(QAbstractTableModel):
    """One row per operator, as operator_figures gives them; the columns are named in COLUMNS."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()  # a handful of people, read whole each time
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def text(self, row: int, key: str) -> str:
        r = self.rows[row]
        blind = r["blind_review"]
        if key in ("agreement", "false_confirmations", "missed_confirmations"):
            return rate_text(blind[key])
        if key == "re_reviewed":
            return str(blind["n"])
        if key == "median_s":
            return _seconds(r["decision_time"]["median_s"])
        if key == "flagged":
            return FLAGGED if r["flagged"] else ""
        return str(r[key])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), key)
        if role == Qt.ItemDataRole.ForegroundRole and key == "flagged" and self.rows[index.row()]["flagged"]:
            return QColor(theme.LOST)
        if role == Qt.ItemDataRole.TextAlignmentRole and key not in ("operator", "flagged"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _hour(h: int | None) -> str:
    return "sign-in not logged" if h is None else f"{h}-{h + 1} h"


def hours_html(r: dict) -> str:
    """The selected operator's decisions by whole hours since their sign-in."""
    rows = "".join(
        f"<tr><td>{_hour(h['hour'])}</td><td align='right'>{h['decisions']}</td>"
        f"<td align='right'>{_seconds(h['decision_time']['median_s'])}</td>"
        f"<td align='right'>{rate_text(h['blind_agreement'])}</td>"
        f"<td align='right'>{rate_text(h.get('known_answer_accuracy') or {'n': 0})}</td></tr>" for h in r["by_hour"])
    known = r["known_answer"]
    tests = ("none yet" if not known["n"] else
             f"false confirmations {rate_text(known['false_confirmations'])}, "
             f"missed {rate_text(known['missed_confirmations'])}")
    return (f"<b>{escape(r['operator'])}</b> by hour into the shift (from their latest sign-in)"
            f"<table cellpadding='4'><tr><th>hour</th><th>decisions</th><th>median time</th><th>blind agreement</th>"
            f"<th>known-answer right</th></tr>{rows or '<tr><td colspan=5>No decisions.</td></tr>'}</table>"
            f"<span style='color:{theme.MUTED}'>Known-answer tests: {tests}.</span>")


class OperatorsTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        self.model = OperatorModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        self.rule = QLabel("")
        self.rule.setWordWrap(True)
        self.rule.setObjectName("muted")
        self.hours, self.actions = QLabel(""), QLabel("")
        for label in (self.hours, self.actions):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.action_button = gated_button("Record action", Permission.SUPERVISE_OPERATORS, end="...")
        self.action_button.clicked.connect(self.ask_action)
        if not self.actor.may(Permission.SUPERVISE_OPERATORS):
            self.action_button.setEnabled(False)
            self.action_button.setToolTip(why_not(self.actor, Permission.SUPERVISE_OPERATORS))
        v = QVBoxLayout(self)
        intro = QLabel("Each operator's decisions held against a supervisor's blind second look (Blind review tab). "
                       "The second look is another person's judgement, not the truth: its disagreements are possible "
                       "errors. Possible false confirmations are counted over the looks that rejected (n), possible "
                       "misses over the looks that confirmed. Known-answer test "
                       "alerts, whose truth is known, are counted below for the operator chosen.")
        intro.setWordWrap(True)
        v.addWidget(intro)
        v.addWidget(self.rule)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        below = QWidget()
        h = QHBoxLayout(below)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.hours, 3)
        self.rule_button = gated_button("Flag rule", Permission.SUPERVISE_OPERATORS, end="...")
        self.rule_button.clicked.connect(self.ask_rule)
        self.rule_button.setEnabled(self.actor.may(Permission.SUPERVISE_OPERATORS))
        side = QVBoxLayout()
        side.addWidget(self.rule_button)
        side.addWidget(self.action_button)
        side.addWidget(self.actions, 1)
        h.addLayout(side, 2)
        split.addWidget(below)
        split.setSizes([220, 330])  # a handful of operators above, the chosen one's hours below
        v.addWidget(split, 1)
        self.taken: list[dict] = []

    def refresh(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.read(lambda: (operators.operator_figures(store, actor, dep), operators.actions_taken(store, actor, dep)),
                  self.show_figures)

    def show_figures(self, pair) -> None:
        rows, self.taken = pair
        chosen = self.selected()
        self.model.set_rows(rows)
        if rows:
            rule = rows[0]["rule"]
            self.rule.setText(f"Flagged when the lower bound of the possible-false-confirmation rate is above "
                              f"{100 * rule['limit']:g} % over at least {rule['min_tests']} looks"
                              f"{'' if rule['set'] else ' (the default rule)'}.")
        else:
            self.rule.setText("Nobody has decided an alert of this deployment yet.")
        names = [r["operator"] for r in rows]
        self.view.selectRow(names.index(chosen) if chosen in names else 0)
        self.view.resizeColumnsToContents()
        self._show_selected()

    def selected(self) -> str | None:
        picked = self.view.selectionModel().selectedRows()
        return self.model.rows[picked[0].row()]["operator"] if picked and self.model.rows else None

    def _show_selected(self) -> None:
        name = self.selected()
        row = next((r for r in self.model.rows if r["operator"] == name), None)
        self.hours.setText(hours_html(row) if row else "")
        done = [a for a in self.taken if a["operator"] == name]
        items = "".join(f"<li>{labels.local_time(a['at'], False)} {escape(a['by'])}: {escape(a['text'])}</li>"
                        for a in done)
        self.actions.setText(f"<b>Actions recorded</b><ul>{items}</ul>" if done else
                             f"<span style='color:{theme.MUTED}'>No action recorded about this operator.</span>")
        self.action_button.setEnabled(bool(row) and self.actor.may(Permission.SUPERVISE_OPERATORS))

    def ask_action(self) -> None:
        name = self.selected()
        if name is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Record action",
                                                 f"What was done about {name} (logged, with the figures shown):")
        if ok and text.strip():
            self.record_action(name, text)

    def record_action(self, name: str, text: str) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.act(lambda: operators.record_action(store, actor, dep, name, text) and None,
                 f"Action about {name} recorded in the audit log.")

    def ask_rule(self) -> None:
        """The deployment's flag rule: a limit on the lower bound and how many tests it needs, with a reason."""
        limit, ok = QInputDialog.getDouble(self, "Flag rule", "Flag an operator when the lower bound of a "
                                           "false-confirmation rate is above (%):", 5.0, 0.1, 99.0, 1)
        if not ok:
            return
        tests, ok = QInputDialog.getInt(self, "Flag rule", "...taken over at least this many tests or looks:", 10, 1, 1000)
        if not ok:
            return
        reason, ok = QInputDialog.getText(self, "Flag rule", "Why (logged):")
        if ok and reason.strip():
            self.set_rule(limit / 100, tests, reason)

    def set_rule(self, limit: float, tests: int, reason: str) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.act(lambda: operators.set_flag_rule(store, actor, dep, limit, tests, reason) and None,
                 f"Flag rule set: above {100 * limit:g} % over at least {tests} (logged).")

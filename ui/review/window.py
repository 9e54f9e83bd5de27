"""The supervisor's review window (F10): decision log, dashboard, deployment record and audit,
threshold what-if, blind review samples and the operators' figures, one tab each. Every read runs as a background job
as the signed-in user, and a tab reads only when it is shown."""

from __future__ import annotations

from ui.review.blind import BlindReviewTab
from ui.review.dashboard import DashboardTab
from ui.review.decision_log import DecisionLogTab
from ui.review.operators import OperatorsTab
from ui.review.record import RecordTab
from ui.tool_dialog import ToolDialog


class ReviewWindow(ToolDialog):
    def __init__(self, live, jobs, parent=None) -> None:
        super().__init__(live, jobs, f"Supervisor review - {live.deployment['name']} - {live.operator.username}",
                         (1500, 900), parent)
        self.log, self.dashboard = DecisionLogTab(self), DashboardTab(self)
        self.record, self.blind, self.operators = RecordTab(self), BlindReviewTab(self), OperatorsTab(self)
        self.add_tabs([(self.log, "Decision log"), (self.dashboard, "Dashboard"),
                       (self.record, "Record, audit, what-if"), (self.blind, "Blind review"),
                       (self.operators, "Operators")])
        # The parts the screenshot command looks at (ui/app.py).
        self.log_model, self.log_view, self.d_history = self.log.model, self.log.view, self.log.history
        self.summary = self.dashboard.summary
        self.refresh()

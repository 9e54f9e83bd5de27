"""Supervisor and administrator screens (F9): the deployment, its watchlist, users, retention.

Every button calls a service as the signed-in user, in a background job; the service decides
whether that user may do it, and its refusal is shown as it is worded. A tab reads only when
it is shown, so nobody is refused (and logged) for a tab they never opened.
"""

from __future__ import annotations

from ui.supervision import gates
from ui.supervision.deployment import DeploymentTab
from ui.supervision.retention import RetentionTab
from ui.supervision.setup import SetupTab
from ui.supervision.users import UsersTab
from ui.supervision.watchlist import WatchlistTab
from ui.tool_dialog import ToolDialog


class SupervisionDialog(ToolDialog):
    def __init__(self, live, jobs, parent=None) -> None:
        super().__init__(live, jobs, f"Supervision - signed in as {live.operator.username} ({live.operator.role})",
                         (1100, 680), parent)
        self.deployment, self.watchlist = DeploymentTab(self), WatchlistTab(self)
        self.users, self.retention = UsersTab(self), RetentionTab(self)
        self.setup = SetupTab(self)
        self.add_tabs([(self.deployment, "Deployment"), (self.watchlist, "Watchlist"), (self.users, "Users"),
                       (self.retention, "Retention"), (self.setup, "Set up")])
        self.greyed = gates.apply(self)  # what this role may not use: greyed, with why on hover
        self.dep_facts = self.deployment.facts  # what the screenshot command waits for (ui/app.py)
        self.refresh()

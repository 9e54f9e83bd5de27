"""The retention tab: how long alert images and ended deployments' watchlists are kept, the
purges that ran, and running the due ones now."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout

from console import labels
from console.services.accounts.permissions import Permission
from console.services.record import retention
from ui.feedback import gated_button
from ui.supervision.tables import fill, table
from ui.tool_dialog import ToolTab


class RetentionTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        form = QFormLayout()
        self.days, self.hours = QSpinBox(), QSpinBox()
        self.days.setRange(1, 31)
        self.hours.setRange(0, 24)
        self.retention_reason = QLineEdit()
        self.retention_reason.setPlaceholderText("Reason (required, logged)")
        form.addRow("Keep alert images (days)", self.days)
        form.addRow("Purge a watchlist this many hours after its deployment ends", self.hours)
        form.addRow("Reason", self.retention_reason)
        save = gated_button("Save retention settings", Permission.MANAGE_RETENTION)
        save.clicked.connect(lambda: self.act(lambda: retention.configure(
            self.live.store, self.actor, self.days.value(), self.hours.value(), self.retention_reason.text()),
            "Retention settings saved and logged."))
        form.addRow("", save)
        now = QPushButton("Run due purges now")
        now.clicked.connect(lambda: self.act(
            lambda: retention.run_purges_now(self.live.store, self.actor).summary(), "Purge run:"))
        form.addRow("", now)
        v.addLayout(form)
        self.purges = table(["Ran at", "Rule", "Items"])
        v.addWidget(self.purges)

    def refresh(self) -> None:
        store, actor = self.live.store, self.actor
        self.read(lambda: retention.settings(store), self._show_settings)
        self.read(lambda: retention.recent_purges(store, actor), self._show_purges)

    def _show_settings(self, settings: tuple[int, int]) -> None:
        days, hours = settings
        self.days.setValue(days)
        self.hours.setValue(hours)

    def _show_purges(self, purges: list[dict]) -> None:
        fill(self.purges, [[p["ran_at"], labels.words(p["rule"]), p["items"]] for p in purges])

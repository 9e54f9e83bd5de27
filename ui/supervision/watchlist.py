"""The watchlist tab: the deployment's entries with their governance fields, and CSV import."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QVBoxLayout

from console.domain import WatchlistCategory
from console.services.accounts.permissions import Permission
from console.services.setup import enrol
from ui.feedback import gated_button
from ui.supervision.tables import fill, table
from ui.tool_dialog import ToolTab

CATEGORIES = WatchlistCategory.labels()


class WatchlistTab(ToolTab):
    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        v = QVBoxLayout(self)
        self.entries = table(["Record", "Name", "Category", "Legal basis", "Photo source", "Photo date",
                              "Review by", "Under 18", "Photos"])
        v.addWidget(self.entries)
        row = QHBoxLayout()
        imp = gated_button("Import entries from CSV...", Permission.ENROL)
        imp.clicked.connect(self._import_csv)
        row.addWidget(imp)
        columns = QLabel("Columns: " + ", ".join(enrol.CSV_COLUMNS) + " (image = path beside the CSV)")
        columns.setWordWrap(True)  # a narrow screen wraps the list rather than widening the dialog
        row.addWidget(columns, 1)
        v.addLayout(row)

    def refresh(self) -> None:
        store, actor, dep = self.live.store, self.actor, self.live.deployment_id
        self.read(lambda: enrol.watchlist_entries(store, actor, dep), self._show)

    def _show(self, entries: list[dict]) -> None:
        fill(self.entries, [[e["record_number"], e["subject_name"], CATEGORIES.get(e["category"], e["category"]),
                             e["legal_basis"], e["image_source"], e["image_date"], e["review_date"],
                             "yes" if e["under_18"] else "", e["photos"]] for e in entries])

    def _import_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Watchlist CSV", "", "CSV files (*.csv)")
        if not path:
            return
        live, actor = self.live, self.actor

        def work():
            result = enrol.import_csv_for_deployment(live.store, live.engine, actor, live.deployment_id, path)
            return (f"{result['added']} added; refused: {result['refused'] or 'none'}; "
                    f"warnings: {result['warnings'] or 'none'}")

        self.act(work, "Import finished:")

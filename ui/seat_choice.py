"""After sign-in, the seat picks its deployment: a chooser when several may be opened now, none
when one may, and a plain word when none may. The choices (and the last one, to preselect) are read
in a background job; the GUI thread never waits on the store."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from console.labels import label, local_time
from console.services.runtime import seat_memory

NONE_AUTHORISED = "No deployment is authorised for this seat now; a supervisor sets one up with F9 > Set up."
log = logging.getLogger(__name__)
COLUMNS = ("Deployment", "Place", "Window", "State")


def window_text(row: dict) -> str:
    start, end = local_time(row["starts_at"], seconds=False), local_time(row["ends_at"], seconds=False)
    if start[:10] == end[:10]:
        end = end[11:]
    return f"{start} - {end}"


class SeatChoiceDialog(QDialog):
    """The deployments this seat may open now; the chosen one's id in ``chosen`` once accepted."""

    def __init__(self, rows: list[dict], last: int | None, username: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the deployment - Operator Review Console")
        self.setModal(True)
        self.rows = rows
        self.chosen: int | None = None
        v = QVBoxLayout(self)
        title = QLabel(f"Signed in as {username}. Which deployment does this seat work on?")
        title.setObjectName("title")
        title.setWordWrap(True)
        v.addWidget(title)
        note = QLabel("Deployments authorised for this time (a stopped one opens paused). This seat's last choice "
                      "is selected.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        v.addWidget(note)
        self.table = QTableWidget(len(rows), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate((row["name"], row["location"] or "", window_text(row), label("state", row["state"]))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        self.table.resizeRowsToContents()
        rows_height = sum(self.table.rowHeight(r) for r in range(len(rows)))
        self.table.setFixedHeight(min(420, header.sizeHint().height() + rows_height + 6))
        self.table_width = min(1400, header.length() + 30)
        self.table.doubleClicked.connect(lambda _index: self.accept())
        v.addWidget(self.table)
        v.addStretch(1)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.setDefault(True)
        buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)
        ids = [int(row["id"]) for row in rows]
        self.table.selectRow(ids.index(last) if last in ids else 0)
        self.table.setFocus()
        self.setMinimumWidth(max(640, self.table_width + 30))

    def accept(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        if not selected:
            return
        self.chosen = int(self.rows[selected[0].row()]["id"])
        super().accept()


def pick(window, jobs, location, actor, then: Callable[[int], None],
         nothing: Callable[[str], None] | None = None) -> None:
    """Read the choices in the background, then: none -> say so (``nothing``, or a message); one ->
    ``then(id)`` at once; several -> the chooser, and ``then(id)`` with the one picked (remembered)."""

    def none_left(text: str) -> None:
        window.placeholder.setText(text)
        if nothing is not None:
            nothing(text)
            return
        box = QMessageBox(QMessageBox.Icon.Information, "Operator Review Console", text, parent=window)
        window.seat_message = box
        box.open()

    def chosen(rows_last) -> None:
        rows, last = rows_last
        if not rows:
            none_left(NONE_AUTHORISED)
        elif len(rows) == 1:
            then(int(rows[0]["id"]))
        else:
            dialog = SeatChoiceDialog(rows, last, actor.username, window)
            window.seat_choice = dialog

            def finished(result: int) -> None:
                if result and dialog.chosen is not None:
                    dep = dialog.chosen
                    jobs.submit(lambda: seat_memory.remember(location, dep), None,  # only a preselection: never stops the seat
                                lambda exc: log.warning("the seat's choice was not remembered: %s", exc))
                    then(dep)
                else:
                    none_left("No deployment chosen. Close the window, or start again to choose one.")

            dialog.finished.connect(finished)
            dialog.open()  # window-modal, without a nested event loop

    window.placeholder.setText(f"Signed in as {actor.username} ({actor.role}). Finding the deployments "
                               "this seat may open...")
    jobs.submit(lambda: seat_memory.choices(location, actor), chosen, window.show_error)

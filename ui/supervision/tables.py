"""Read-only tables for the supervision tabs."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from console import labels

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def shown(value) -> str:
    """A cell as a person reads it: a stored UTC time in local time, to the second."""
    if value is None:
        return ""
    text = str(value)
    return labels.local_time(text) if _STAMP.match(text) else text


def fill(t: QTableWidget, rows: list[list]) -> None:
    t.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            t.setItem(r, c, QTableWidgetItem(shown(value)))
    t.resizeColumnsToContents()
    header = t.horizontalHeader()
    for c in range(t.columnCount() - 1):  # the columns fit their contents, within reason; the last one stretches
        header.resizeSection(c, min(header.sectionSize(c), 260))
    header.setSectionResizeMode(t.columnCount() - 1, QHeaderView.ResizeMode.Stretch)

"""The pending-alert queue as a Qt table model (tested without widgets)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt


class Column(IntEnum):
    AGE = 0
    CAMERA = 1
    SUBJECT = 2
    SCORE = 3


HEADERS = {Column.AGE: "Age", Column.CAMERA: "Camera", Column.SUBJECT: "Candidate", Column.SCORE: "Score"}
AlertIdRole = Qt.ItemDataRole.UserRole + 1


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def age_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class AlertQueueModel(QAbstractTableModel):
    """Newest first. Rows are plain dicts from LiveDeployment.alert_summary."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []
        self.now = lambda: datetime.now(UTC)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = Column(index.column())
        if role == AlertIdRole:
            return row["id"]
        if role == Qt.ItemDataRole.DisplayRole:
            if col is Column.AGE:
                return age_text((self.now() - _parse(row["stored_at"])).total_seconds())
            if col is Column.CAMERA:
                return row["camera"]
            if col is Column.SUBJECT:
                return f"{row['subject_name']} ({row['record_number']})"
            if col is Column.SCORE:
                return f"{row['score']:.3f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.AGE, Column.SCORE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def add_alert(self, row: dict) -> None:
        if not row or any(r["id"] == row["id"] for r in self.rows):
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.rows.insert(0, row)
        self.endInsertRows()

    def refresh_ages(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, Column.AGE), self.index(len(self.rows) - 1, Column.AGE))

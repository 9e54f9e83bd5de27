"""The pending-alert queue as a Qt list model (tested without widgets).

Rows are dicts from the review service's queue_row - one per incident (one pass of one person,
its sightings decided once), showing its best sighting - with the probe and best-candidate
thumbnails decoded to QImage off the GUI thread. Order: priority 1 first, then the longest-waiting
first (an incident must not wait behind newer ones: after each decision the oldest opens next). On a
supervisor's seat the incidents escalated to them come before all of these.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

from console import clock

AlertIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2
AgeRole = Qt.ItemDataRole.UserRole + 3


def parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def age_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def thumbnail(jpeg: bytes | None, side: int = 96) -> QImage | None:
    """Decode and shrink a JPEG; safe off the GUI thread (QImage, not QPixmap)."""
    if not jpeg:
        return None
    image = QImage.fromData(jpeg, "JPG")
    if image.isNull():
        return None
    return image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def with_thumbnails(row: dict) -> dict:
    if not row:
        return row
    row = dict(row)
    row["probe_thumb"] = thumbnail(row.pop("probe_jpeg", None))
    row["candidate_thumb"] = thumbnail(row.pop("candidate_jpeg", None))
    return row


def _key(row: dict) -> tuple:
    """Escalated incidents first (a supervisor's band at the top), then priority, then the longest waiting."""
    return (0 if row.get("escalated_at") else 1, row.get("priority", 2), parse_ts(row["stored_at"]).timestamp(),
            row.get("id", 0))


class AlertQueueModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []
        self.acknowledged: set[int] = set()
        self.now = clock.now

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == AlertIdRole:
            return row["id"]
        if role == RowRole:
            return row
        if role == AgeRole:
            return (self.now() - parse_ts(row["stored_at"])).total_seconds()
        if role == Qt.ItemDataRole.DisplayRole:
            score = f"{row['score']:.3f}" if row["score"] is not None else "(score hidden)"
            return f"{row['subject_name']} ({row['record_number']}) {score} {row['camera']}"
        if role == Qt.ItemDataRole.ToolTipRole:
            score = f"best score {row['score']:.3f}" if row["score"] is not None else "score hidden"
            return (f"Incident {row.get('incident_id', row['id'])}: {row['subject_name']}, {score} "
                    f"on {row['camera']}; {row.get('sightings', 1)} sighting(s) on "
                    f"{row.get('cameras', 1)} camera(s)")
        return None

    def row_of(self, alert_id: int) -> int:
        """The card showing this alert, or the incident it is a sighting of (-1: none)."""
        return next((i for i, r in enumerate(self.rows)
                     if r["id"] == alert_id or alert_id in r.get("sighting_ids", ())), -1)

    def add_alert(self, row: dict) -> str:
        """Add an incident's card; a card already shown for the incident is replaced in place (a new
        sighting joined it). Returns "new", "updated" or "" (not pending: nothing to show)."""
        if not row or row.get("status", "pending") != "pending":
            return ""
        incident = row.get("incident_id", row["id"])
        i = next((n for n, r in enumerate(self.rows) if r.get("incident_id", r["id"]) == incident
                  or r["id"] == row["id"]), -1)
        if i >= 0:
            if self.rows[i]["id"] in self.acknowledged:
                self.acknowledged.add(row["id"])
            self.rows[i] = {**row, "taken_by": self.rows[i].get("taken_by")}
            self.dataChanged.emit(self.index(i), self.index(i))
            return "updated"
        key = _key(row)
        pos = next((i for i, r in enumerate(self.rows) if _key(r) > key), len(self.rows))
        self.beginInsertRows(QModelIndex(), pos, pos)
        self.rows.insert(pos, row)
        self.endInsertRows()
        return "new"

    def remove_alert(self, alert_id: int) -> None:
        i = self.row_of(alert_id)
        if i < 0:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        gone = self.rows.pop(i)
        self.endRemoveRows()
        self.acknowledged.discard(alert_id)
        self.acknowledged.discard(gone["id"])

    def update_alert(self, alert_id: int, **changes) -> None:
        i = self.row_of(alert_id)
        if i >= 0:
            self.rows[i].update(changes)
            self.dataChanged.emit(self.index(i), self.index(i))
            if changes.get("escalated_at"):  # it moves up, into the escalated band
                row = self.rows[i]
                self.remove_alert(row["id"])
                self.add_alert(row)

    def acknowledge(self, alert_id: int) -> None:
        i = self.row_of(alert_id)
        self.acknowledged.add(self.rows[i]["id"] if i >= 0 else alert_id)

    def unacknowledged(self) -> list[dict]:
        return [r for r in self.rows if r["id"] not in self.acknowledged]

    def refresh_ages(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1), [AgeRole])

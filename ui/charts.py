"""Small charts drawn with QPainter (QtCharts is not in PySide6-Essentials): bars with their
numbers written on them, so a chart never needs colour to be read."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import theme


class BarChart(QWidget):
    """Horizontal bars: one row per label, one or two series."""

    def __init__(self, title: str, unit: str = "", parent=None) -> None:
        super().__init__(parent)
        self.title, self.unit = title, unit
        self.rows: list[tuple[str, list[float | None]]] = []
        self.series: list[tuple[str, str]] = [("", theme.ACCENT)]
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, rows: list[tuple[str, list[float | None]]], series: list[tuple[str, str]] | None = None) -> None:
        self.rows = rows
        if series:
            self.series = series
        self.setMinimumHeight(40 + 22 * max(1, len(rows)) * len(self.series))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.PANEL))
        p.setPen(QColor(theme.TEXT))
        p.setFont(QFont(self.font().family(), 11, QFont.Weight.Bold))
        legend = "   ".join(f"■ {name}" for name, _ in self.series if name)
        p.drawText(QRectF(8, 4, self.width() - 16, 20), Qt.AlignmentFlag.AlignLeft, f"{self.title}   {legend}")
        if not self.rows:
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No data yet")
            p.end()
            return
        values = [v for _, vs in self.rows for v in vs if v is not None]
        top = max(values) if values else 1.0
        label_w = 150
        y = 30
        p.setFont(QFont(self.font().family(), 9))
        for label, vs in self.rows:
            p.setPen(QColor(theme.TEXT))
            p.drawText(QRectF(8, y, label_w - 12, 20 * len(self.series)), Qt.AlignmentFlag.AlignVCenter, label)
            for (_name, colour), v in zip(self.series, vs, strict=False):
                w = 0 if v is None or top <= 0 else (self.width() - label_w - 90) * v / top
                p.fillRect(QRectF(label_w, y + 3, w, 14), QColor(colour))
                p.setPen(QColor(theme.TEXT))
                text = "n/a" if v is None else (f"{v:.3g}{self.unit}")
                p.drawText(QRectF(label_w + w + 6, y, 90, 20), Qt.AlignmentFlag.AlignVCenter, text)
                y += 20
            y += 2
        p.end()

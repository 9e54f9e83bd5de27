"""Small charts drawn with QPainter (QtCharts is not in PySide6-Essentials, and no plotting
library is bundled): horizontal bars with their numbers written on them and a colour key, so a
chart is read without guessing. ``paint_bars`` draws on any paint device: the dashboard's
widgets and the printed record (ui/record_pdf.py) share it."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import theme

Rows = list[tuple[str, list[float | None]]]
Series = list[tuple[str, str]]
ROW_H = 20.0


def chart_height(rows: Rows, series: Series) -> float:
    return 52 + ROW_H * max(1, len(rows)) * max(1, len(series)) + 2 * len(rows)


def _value_text(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}{unit}" if float(v).is_integer() else f"{v:.3g}{unit}"


def paint_bars(p: QPainter, area: QRectF, title: str, rows: Rows, series: Series, unit: str = "",
               text: str = theme.TEXT, muted: str = theme.MUTED, family: str = "") -> None:
    """Title, colour key (a swatch per series), then one group of bars per row, each with its value."""
    x0, y = area.left(), area.top()
    bold = QFont(family, 10, QFont.Weight.Bold)
    p.setFont(bold)
    p.setPen(QColor(text))
    p.drawText(QRectF(x0 + 4, y, area.width() - 8, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
               QFontMetricsF(bold).elidedText(title, Qt.TextElideMode.ElideRight, area.width() - 8))
    y += 20
    small = QFont(family, 8)
    p.setFont(small)
    fm = QFontMetricsF(small)
    kx = x0 + 4
    for name, colour in series:
        if not name:
            continue
        p.fillRect(QRectF(kx, y + 4, 12, 10), QColor(colour))
        p.setPen(QColor(text))
        p.drawText(QRectF(kx + 16, y, fm.horizontalAdvance(name) + 4, 18), Qt.AlignmentFlag.AlignVCenter, name)
        kx += 16 + fm.horizontalAdvance(name) + 18
    y += 22
    if not rows:
        p.setPen(QColor(muted))
        p.drawText(QRectF(x0, y, area.width(), 24), Qt.AlignmentFlag.AlignCenter, "No data yet")
        return
    values = [v for _, vs in rows for v in vs if v is not None]
    top = max(values) if values else 1.0
    label_w = min(max(fm.horizontalAdvance(label) for label, _ in rows) + 14, area.width() * 0.4)
    bar_w = area.width() - label_w - 70
    for label, vs in rows:
        p.setPen(QColor(text))
        p.drawText(QRectF(x0 + 4, y, label_w - 8, ROW_H * len(series)), Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 8))
        for (_name, colour), v in zip(series, vs, strict=False):
            w = 0 if v is None or top <= 0 else bar_w * v / top
            p.fillRect(QRectF(x0 + label_w, y + 3, w, ROW_H - 6), QColor(colour))
            p.setPen(QColor(text))
            p.drawText(QRectF(x0 + label_w + w + 5, y, 68, ROW_H), Qt.AlignmentFlag.AlignVCenter, _value_text(v, unit))
            y += ROW_H
        y += 2


class BarChart(QWidget):
    """Horizontal bars: one row per label, one or more series, with a colour key."""

    def __init__(self, title: str, unit: str = "", parent=None) -> None:
        super().__init__(parent)
        self.title, self.unit = title, unit
        self.rows: Rows = []
        self.series: Series = [("", theme.ACCENT)]
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, rows: Rows, series: Series | None = None) -> None:
        self.rows = rows
        if series:
            self.series = series
        self.setMinimumHeight(int(chart_height(rows, self.series)))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.PANEL))
        paint_bars(p, QRectF(self.rect()).adjusted(4, 4, -4, -4), self.title, self.rows, self.series, self.unit,
                   family=self.font().family())
        p.end()

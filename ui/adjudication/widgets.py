"""The small widgets of the adjudication view: the score against the threshold, quality
badges, and rows of numbered choices."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from ui import theme
from ui.alert_model import parse_ts

PHOTO_MIN_H = 160  # the live capture and the watchlist photo never shrink below this (px)
FACTS_MIN_H = 190  # nor the score, quality and entry facts below them


def show_page(stack: QStackedWidget, index: int) -> None:
    """Show one page of the stack, the stack as tall as that page (a stack is as tall as its
    tallest page otherwise: the outcome's three rows would take the photos' room at 720 px)."""
    stack.setCurrentIndex(index)
    for i in range(stack.count()):
        policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
        stack.widget(i).setSizePolicy(policy, policy)
    stack.updateGeometry()


def scrolled(widget: QWidget, min_width: int) -> QScrollArea:
    """The widget in a frameless area that scrolls up and down (never sideways: its text wraps)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumSize(min_width, FACTS_MIN_H)
    area.setWidget(widget)
    return area


def fitting(metrics: QFontMetrics, width: float, *variants: str) -> str:
    """The first (longest) wording that fits the width; the last one elided if none does."""
    for text in variants:
        if metrics.horizontalAdvance(text) <= width:
            return text
    return metrics.elidedText(variants[-1], Qt.TextElideMode.ElideRight, int(width))


class ScoreBar(QWidget):
    """The score against the threshold on one 0..1 scale, with both numbers written out."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.score, self.threshold = 0.0, 0.0
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, score: float | None, threshold: float) -> None:
        """``score`` None: a blind second confirmation - no bar, no number."""
        self.score, self.threshold = score, threshold
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(0, 24, self.width() - 2, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.PANEL_2))
        p.drawRoundedRect(bar, 4, 4)
        if self.score is None:
            p.setPen(QColor(theme.TEXT))
            p.setFont(QFont(self.font().family(), 11, QFont.Weight.Bold))
            p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignmentFlag.AlignLeft,
                       fitting(p.fontMetrics(), self.width(), "Similarity hidden: a second confirmation is decided "
                               "on the faces alone", "Similarity hidden: decide on the faces alone"))
            p.end()
            return
        p.setBrush(QColor(theme.MATCH))
        p.drawRoundedRect(QRectF(bar.x(), bar.y(), bar.width() * max(0.0, min(1.0, self.score)), bar.height()), 4, 4)
        tx = bar.x() + bar.width() * self.threshold
        p.setPen(QPen(QColor(theme.TEXT), 2, Qt.PenStyle.DashLine))
        p.drawLine(int(tx), 18, int(tx), 44)
        p.setPen(QColor(theme.TEXT))
        p.setFont(QFont(self.font().family(), 11, QFont.Weight.Bold))
        margin = self.score - self.threshold
        side = "above" if margin >= 0 else "below"
        p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignmentFlag.AlignLeft, fitting(
            p.fontMetrics(), self.width(),
            f"Similarity {self.score:.3f}   threshold {self.threshold:.3f}   ({margin:+.3f} {side})",
            f"Similarity {self.score:.3f}   threshold {self.threshold:.3f}   ({margin:+.3f})",
            f"Similarity {self.score:.3f} · threshold {self.threshold:.3f}"))
        p.end()


def choices(owner: QWidget, items: dict[str, str], first_key: int, on_pick) -> tuple[QHBoxLayout, QButtonGroup,
                                                                                  dict[str, QRadioButton]]:
    """Radio buttons numbered from first_key (the number keys pick them), three to a line so that
    the prompt fits a 1280 px window; the caller may add widgets to the returned row after them."""
    row = QHBoxLayout()
    grid = QGridLayout()
    row.addLayout(grid, 1)
    group = QButtonGroup(owner)
    buttons: dict[str, QRadioButton] = {}
    for n, (code, label) in enumerate(items.items(), start=first_key):
        b = QRadioButton(f"{n}  {label}")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.toggled.connect(lambda on, c=code: on and on_pick(c))
        group.addButton(b)
        buttons[code] = b
        grid.addWidget(b, (n - first_key) // 3, (n - first_key) % 3)
    return row, group, buttons


def wrapped(text: str) -> QLabel:
    """A prompt line that wraps rather than widening the window."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def badge(text: str, ok: bool) -> QLabel:
    label = QLabel(("✓ " if ok else "! ") + text)
    label.setObjectName("badge_ok" if ok else "badge_warn")
    return label


def sightings_html(detail) -> str:
    """The incident's sightings, best score first, the one on screen in bold."""
    sightings = detail.sightings
    if len(sightings) < 2:
        return ""
    cameras = len({s["camera"] for s in sightings})

    def one(k: int, s: dict) -> str:
        at = parse_ts(s["captured_at"]).astimezone().strftime("%H:%M:%S")
        text = f"{k + 1}. {s['camera']} {at}" + (f" score {s['score']:.3f}" if s["score"] is not None else "")
        return f"<b>▶ {text}</b>" if s["id"] == detail.alert_id else text

    return (f"<b>{len(sightings)} sightings of this person on {cameras} camera{'s' if cameras > 1 else ''}</b> "
            f"(best score first): one decision covers them all. <b>S</b> / <b>Shift+S</b> shows the others.<br>"
            + "  ·  ".join(one(k, s) for k, s in enumerate(sightings)))

"""Paints one queue entry - an incident - as a card: thumbnails of its best sighting, subject, score,
camera, how many sightings, and how long it has waited since its first."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from ui import theme
from ui.alert_model import AgeRole, RowRole, age_text

CARD_HEIGHT = 96
THUMB = 76


def age_state(seconds: float, acknowledged: bool, escalated: bool = False) -> tuple[str, str]:
    """(colour, word): colour never carries the meaning alone. An escalated incident is a supervisor's
    now: it says ESCALATED, never OVERDUE (its age is still written beside the word)."""
    if escalated:
        return theme.REJECT, "ESCALATED"
    if seconds >= theme.AGE_OVERDUE_S:
        return theme.AGE_OVERDUE, "OVERDUE"
    if seconds >= theme.AGE_WAITING_S:
        return theme.AGE_WAITING, "WAITING"
    return theme.AGE_NEW, "NEW" if not acknowledged else "SEEN"


class AlertCardDelegate(QStyledItemDelegate):
    def __init__(self, model, parent=None) -> None:
        super().__init__(parent)
        self.model = model

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(option.rect.width(), CARD_HEIGHT)

    def paint(self, p: QPainter, option, index) -> None:
        row = index.data(RowRole)
        if row is None:
            return
        age = index.data(AgeRole) or 0.0
        acknowledged = row["id"] in self.model.acknowledged
        escalated = bool(row.get("escalated_at"))
        colour, word = age_state(age, acknowledged, escalated)
        r = QRectF(option.rect).adjusted(4, 3, -4, -3)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.setPen(QPen(QColor(theme.ACCENT), 2) if selected else Qt.PenStyle.NoPen)
        p.setBrush(QColor("#26384a" if selected else "#3a2433" if escalated else theme.PANEL_2))
        if escalated and not selected:
            p.setPen(QPen(QColor(theme.REJECT), 2))
        p.drawRoundedRect(r, 6, 6)
        p.fillRect(QRectF(r.x(), r.y(), 7 if not escalated else 12, r.height()), QColor(colour))
        x = r.x() + 14
        for key in ("probe_thumb", "candidate_thumb"):
            img = row.get(key)
            box = QRectF(x, r.y() + (r.height() - THUMB) / 2, THUMB, THUMB)
            p.fillRect(box, QColor("#0b0d10"))
            if img is not None:
                scaled = img.size().scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)
                p.drawImage(QRectF(box.x() + (THUMB - scaled.width()) / 2, box.y() + (THUMB - scaled.height()) / 2,
                                   scaled.width(), scaled.height()), img)
            x += THUMB + 6
        tx = x + 6
        width = r.right() - tx - 8
        base = self.parent().font() if self.parent() else QFont()

        def line(y: float, text: str, size: int, bold: bool, colour_: str) -> None:
            font = QFont(base.family(), size, QFont.Weight.Bold if bold else QFont.Weight.Normal)
            p.setFont(font)
            p.setPen(QColor(colour_))
            elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(width))
            p.drawText(QRectF(tx, r.y() + y, width, 22), Qt.AlignmentFlag.AlignLeft, elided)

        line(4, row["subject_name"], 11, True, theme.TEXT)
        note = row.get("escalation_note")
        line(26, f"{row.get('escalated_by') or 'operator'}: \u201c{note}\u201d" if escalated and note
             else f"{row['record_number']}  ·  {row['camera']}", 10, escalated and bool(note),
             theme.TEXT if escalated and note else theme.MUTED)
        line(46, f"score {row['score']:.3f}  (threshold {row['threshold']:.3f})" if row["score"] is not None
             else "score hidden: second confirmation (blind)", 10, False, theme.TEXT)
        badges = []
        if row.get("sightings", 1) > 1:
            cams = row.get("cameras", 1)
            badges.append(f"{row['sightings']} SIGHTINGS" + (f" · {cams} CAMERAS" if cams > 1 else ""))
        if row.get("priority", 2) == 1:
            badges.append("PRIORITY 1")
        if row.get("first_confirmed_by"):
            badges.append("1 OF 2 CONFIRMED")
        if row.get("taken_by"):
            badges.append(f"TAKEN BY {row['taken_by']}")
        # The state word on the left, the badges on the right, never over each other: the word
        # keeps its room and the badges are cut short (their tooltip has them whole).
        bold = QFont(base.family(), 10, QFont.Weight.Bold)
        state = f"{word}  {age_text(age)}"
        state_w = QFontMetrics(bold).horizontalAdvance(state) + 16
        p.setFont(bold)
        p.setPen(QColor(colour))
        p.drawText(QRectF(tx, r.y() + 67, width, 20), Qt.AlignmentFlag.AlignLeft, state)
        if badges:
            p.setPen(QColor(theme.MATCH))
            text = QFontMetrics(bold).elidedText("  ".join(badges), Qt.TextElideMode.ElideRight,
                                                 int(max(0, width - state_w)))
            p.drawText(QRectF(tx + state_w, r.y() + 67, width - state_w, 20), Qt.AlignmentFlag.AlignRight, text)
        p.restore()

"""One camera tile: paints the newest frame with face overlays and the feed's state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import theme


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (safe after the array goes away)."""
    h, w = image.shape[:2]
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class VideoTile(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.image: QImage | None = None
        self.frame_size = (1, 1)
        self.faces: list = []
        self.state = "connecting"
        self.fps = 0.0
        self.frame_index = -1
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def show_frame(self, image: np.ndarray, index: int, faces: list, state: str, fps: float) -> None:
        if index != self.frame_index:
            self.image = bgr_to_qimage(image)
            self.frame_size = (image.shape[1], image.shape[0])
            self.frame_index = index
        self.faces, self.state, self.fps = faces, state, fps
        self.update()

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def _target(self) -> QRectF:
        fw, fh = self.frame_size
        scale = min(self.width() / fw, self.height() / fh)
        w, h = fw * scale, fh * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0b0d10"))
        target = self._target()
        if self.image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self.image)
            sx = target.width() / self.frame_size[0]
            for face in self.faces:
                x1, y1, x2, y2 = face.box
                rect = QRectF(target.x() + x1 * sx, target.y() + y1 * sx, (x2 - x1) * sx, (y2 - y1) * sx)
                colour = theme.MATCH if face.matched else (theme.FACE if face.passed_gate else theme.GATED)
                pen = QPen(QColor(colour), 3 if face.matched else 2)
                if not face.passed_gate:
                    pen.setStyle(Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.drawRect(rect)
                if face.matched:
                    label = "POSSIBLE MATCH - review"
                    p.setFont(QFont(self.font().family(), 9, QFont.Weight.Bold))
                    lw = 190.0
                    lx = min(max(rect.x(), target.x()), target.right() - lw)
                    ly = rect.y() - 20 if rect.y() - 20 >= target.y() else rect.bottom()
                    p.fillRect(QRectF(lx, ly, lw, 20), QColor(colour))
                    p.setPen(QColor("#111"))
                    p.drawText(QRectF(lx + 6, ly, lw - 6, 20), Qt.AlignmentFlag.AlignVCenter, label)
        # Title and state strip.
        live = self.state == "live"
        strip = QRectF(0, 0, self.width(), 26)
        p.fillRect(strip, QColor(0, 0, 0, 150))
        p.setFont(QFont(self.font().family(), 10, QFont.Weight.DemiBold))
        p.setPen(QColor(theme.TEXT))
        p.drawText(strip.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, self.title)
        state = f"{self.state.upper()}  {self.fps:.0f} fps" if live else self.state.upper()
        p.setPen(QColor(theme.FACE if live else theme.LOST))
        p.drawText(strip.adjusted(0, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, state)
        if self.image is None:
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Waiting for video...")
        p.end()

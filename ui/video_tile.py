"""One camera tile: paints the newest frame with face overlays and the feed's state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from console.redaction import redact
from ui import theme

STRIP_H = 28  # the title strip above the picture


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (safe after the array goes away)."""
    h, w = image.shape[:2]
    data = np.ascontiguousarray(image)
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_BGR888).copy()


def pixelate(image: QImage, rect: QRectF, blocks: int = 8) -> QImage:
    """The region of a face made unrecognisable (privacy mode)."""
    part = image.copy(rect.toAlignedRect())
    small = part.scaled(blocks, blocks, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
    return small.scaled(part.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)


class VideoTile(QWidget):
    doubleClicked = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = redact(title)  # a camera's name: never a credential on screen
        self.image: QImage | None = None
        self.frame_size = (1, 1)
        self.faces: list = []
        self.state = "connecting"
        self.detail = ""  # why a feed is not live (the source's error, already without its credential)
        self.fps = 0.0
        self.frame_index = -1
        self.privacy = False
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

    def mouseDoubleClickEvent(self, _event) -> None:  # noqa: N802
        self.doubleClicked.emit()

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_detail(self, detail: str) -> None:
        detail = redact(detail)
        if detail != self.detail:
            self.detail = detail
            self.setToolTip(detail)
            self.update()

    def state_text(self) -> str:
        """What the picture area says while the feed is not live: the state, then why."""
        text = {"connecting": "Connecting...", "lost": "Feed lost - reconnecting", "ended": "Video ended",
                "failed": "Feed failed", "stopped": "Stopped", "unauthorised": "Camera refused the login - retrying",
                "restarting": "Recognition process restarting...", "refused": "Recognition refused"}.get(
                    self.state, "Waiting for video...")
        return f"{text}\n{self.detail}" if self.detail and self.state != "live" else text

    def _target(self) -> QRectF:
        fw, fh = self.frame_size
        scale = min(self.width() / fw, (self.height() - 28) / fh)
        w, h = fw * scale, fh * scale
        return QRectF((self.width() - w) / 2, 28 + (self.height() - 28 - h) / 2, w, h)

    def _strip_font(self) -> QFont:
        return QFont(self.font().family(), 11, QFont.Weight.DemiBold)

    def strip_texts(self) -> tuple[str, str]:
        """The title strip's camera name - elided so that it ends before the state badge, however
        small the tile - and the badge ("LIVE" and its rate, or the state)."""
        live = self.state == "live"
        state = f"● LIVE  {self.fps:.0f} fps" if live else f"■ {self.state.upper()}"
        metrics = QFontMetrics(self._strip_font())
        room = self.width() - 10 - 10 - metrics.horizontalAdvance(state) - 12
        return metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, max(0, room)), state

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0b0d10"))
        target = self._target()
        live = self.state == "live"
        if self.image is not None:
            if abs(target.width() - self.image.width()) > 0.5:  # a frame sent at the tile's size is copied 1:1
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self.image)
            sx = target.width() / self.frame_size[0]
            for face in self.faces:
                x1, y1, x2, y2 = face.box
                src = QRectF(x1, y1, x2 - x1, y2 - y1)
                rect = QRectF(target.x() + x1 * sx, target.y() + y1 * sx, (x2 - x1) * sx, (y2 - y1) * sx)
                if self.privacy and not face.matched:
                    p.drawImage(rect, pixelate(self.image, src))
                self._draw_face(p, face, rect, target)
            if not live:
                p.fillRect(target, QColor(0, 0, 0, 150))
        # Title and state strip.
        strip = QRectF(0, 0, self.width(), 28)
        p.fillRect(strip, QColor(theme.PANEL))
        p.setFont(self._strip_font())
        p.setPen(QColor(theme.TEXT))
        title, state = self.strip_texts()
        p.drawText(strip.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, title)
        p.setPen(QColor(theme.FACE if live else theme.LOST))
        p.drawText(strip.adjusted(0, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, state)
        if self.image is None or not live:
            p.setPen(QColor(theme.TEXT if self.image is not None else theme.MUTED))
            p.setFont(QFont(self.font().family(), 13, QFont.Weight.DemiBold))
            area = (target if self.image is not None else QRectF(self.rect())).adjusted(12, 0, -12, 0)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.state_text())
        p.end()

    def _draw_face(self, p: QPainter, face, rect: QRectF, target: QRectF) -> None:
        if face.matched:
            colour, width, style = theme.MATCH, 3, Qt.PenStyle.SolidLine
        elif getattr(face, "rejected", False):
            colour, width, style = theme.GATED, 2, Qt.PenStyle.DotLine
        elif face.passed_gate:
            colour, width, style = theme.FACE, 2, Qt.PenStyle.SolidLine
        else:
            colour, width, style = theme.GATED, 2, Qt.PenStyle.DashLine
        pen = QPen(QColor(colour), width)
        pen.setStyle(style)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        label = "POSSIBLE MATCH - review" if face.matched else ("rejected" if getattr(face, "rejected", False) else "")
        if label:
            lw = 196.0 if face.matched else 80.0
            lx = min(max(rect.x(), target.x()), target.right() - lw)
            ly = rect.y() - 22 if rect.y() - 22 >= target.y() else rect.bottom()
            p.fillRect(QRectF(lx, ly, lw, 22), QColor(colour))
            p.setPen(QColor("#111"))
            p.setFont(QFont(self.font().family(), 9, QFont.Weight.Bold))
            p.drawText(QRectF(lx + 6, ly, lw - 6, 22), Qt.AlignmentFlag.AlignVCenter, label)

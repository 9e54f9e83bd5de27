"""Alert images for the review tabs (on the GUI thread: QPixmap)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def pixmap(jpeg: bytes | None, side: int) -> QPixmap:
    """The JPEG scaled to fit a square of ``side`` pixels; an empty pixmap when there is none."""
    if not jpeg:
        return QPixmap()
    return QPixmap.fromImage(QImage.fromData(jpeg, "JPG")).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                                   Qt.TransformationMode.SmoothTransformation)

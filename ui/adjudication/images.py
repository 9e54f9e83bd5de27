"""An alert's images decoded for the adjudication view (off the GUI thread: QImage, not QPixmap)."""

from __future__ import annotations

from PySide6.QtGui import QImage


def decode(jpeg: bytes | None) -> QImage | None:
    if not jpeg:
        return None
    image = QImage.fromData(jpeg, "JPG")
    return None if image.isNull() else image


def decode_images(detail) -> dict:
    """Every image of an alert as QImage (safe off the GUI thread, unlike QPixmap)."""
    return {
        "probe": decode(detail.probe_jpeg),
        "context": decode(detail.context_jpeg),
        "candidates": [decode(c.image_jpeg) for c in detail.candidates],
        "views": [decode(jpeg) for _, jpeg, _ in detail.views],
    }

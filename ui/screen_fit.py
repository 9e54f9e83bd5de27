"""Windows open at a size that suits the work, but never larger than the screen they open on: a
1366x768 laptop or a 1920x1080 screen at 150 % (1280x720 logical pixels) gets the whole window."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def fitted(widget: QWidget, width: int, height: int) -> tuple[int, int]:
    """(width, height) cut to the available area of the widget's screen (or the primary screen);
    the widget's own minimum still holds (Qt keeps it)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return width, height
    area = screen.availableGeometry()
    if area.width() <= 0 or area.height() <= 0:
        return width, height
    return min(width, area.width()), min(height, area.height())


def open_fitted(widget: QWidget, width: int, height: int) -> None:
    """Resize the widget to (width, height), cut to its screen."""
    widget.resize(*fitted(widget, width, height))

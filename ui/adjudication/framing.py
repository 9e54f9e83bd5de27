"""How the probe and the watchlist photo are framed: both on the face, at the same scale, with
the whole photo one key away (F)."""

from __future__ import annotations

from PySide6.QtGui import QImage

from ui.zoom_view import ZoomView

PROBE_GROW = 1.6  # the recogniser's probe crop is a square this many times the face (pipeline/recognizer.py)


def probe_face(detail, image: QImage | None) -> list[float] | None:
    """The face in the probe crop: as the alert recorded it, or - for an alert written before it
    was recorded - the crop's centre, where the recogniser put the face."""
    box = (detail.quality or {}).get("probe_box")
    if box:
        return [float(v) for v in box]
    if image is None or image.isNull():
        return None
    side = min(image.width(), image.height()) / PROBE_GROW
    cx, cy = image.width() / 2, image.height() / 2
    return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]


def toggle_full(views: list[ZoomView]) -> bool:
    """Face framing <-> whole photos, for all the linked views at once; True: now whole."""
    full = not views[0].full
    for v in views:
        v.set_full(full)
    return full

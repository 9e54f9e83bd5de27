"""The camera grid: one tile per camera, 1 / 2x2 / 3x3, painted from the workers' newest frames.

It only reads: on its own timer it takes each worker's newest frame and overlays without waiting
on them, and paints nothing while it is hidden (an alert open) or for tiles out of the layout.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ui.video_tile import VideoTile

PAINT_INTERVAL_MS = 40  # 25 Hz screen refresh of the newest frames
OVERLAY_MAX_AGE_S = 0.5  # show the analysed frame while it is at most this much older than the newest
LAYOUTS = (1, 4, 9)
LAYOUT_NAMES = {1: "Layout 1", 4: "Layout 2x2", 9: "Layout 3x3"}


def grid_shape(count: int) -> tuple[int, int]:
    if count <= 1:
        return 1, 1
    side = 2 if count <= 4 else 3
    return math.ceil(count / side), side


class CameraGrid(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(6, 6, 6, 6)
        self.grid.setSpacing(6)
        self.placeholder = QLabel("Starting the deployment: checking the models and opening the database...")
        self.placeholder.setObjectName("muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.grid.addWidget(self.placeholder, 0, 0)
        self.tiles: list[VideoTile] = []
        self.workers: list = []
        self.layout_size = 4
        self.timer = QTimer(self)
        self.timer.setInterval(PAINT_INTERVAL_MS)
        self.timer.timeout.connect(self.paint)

    def show_cameras(self, names: list[str], workers: list) -> None:
        self.placeholder.hide()
        self.workers = list(workers)
        self.tiles = [VideoTile(name) for name in names]
        self.layout_size = next(n for n in LAYOUTS if n >= min(len(self.tiles), 9))
        self.arrange()
        self.timer.start()

    def arrange(self) -> None:
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.hide()
        _, cols = grid_shape(self.layout_size)
        for i, tile in enumerate(self.tiles[: self.layout_size]):
            self.grid.addWidget(tile, i // cols, i % cols)
            tile.show()

    def cycle_layout(self) -> str:
        self.layout_size = LAYOUTS[(LAYOUTS.index(self.layout_size) + 1) % len(LAYOUTS)]
        self.arrange()
        return LAYOUT_NAMES[self.layout_size]

    def set_privacy(self, on: bool) -> None:
        for tile in self.tiles:
            tile.privacy = on
            tile.update()

    def paint(self) -> None:
        if not self.isVisible():
            return
        for tile, worker in zip(self.tiles[: self.layout_size], self.workers, strict=False):
            snap = worker.snapshot()
            state = worker.source.state.value if worker.recognising else "stopped"
            if snap.frame is None or not worker.recognising:
                if tile.faces:  # no boxes left standing on a camera that no longer recognises
                    tile.faces = []
                    tile.update()
                tile.set_state(state)
                continue
            # The analysed frame with its own boxes while recognition keeps up; the newest raw
            # frame, without boxes, when it falls behind (boxes never float beside faces).
            if snap.analysed is not None and snap.frame.captured_at - snap.analysed.captured_at <= OVERLAY_MAX_AGE_S:
                tile.show_frame(snap.analysed.image, snap.analysed.index, snap.result.faces, state, worker.source.fps)
            else:
                tile.show_frame(snap.frame.image, snap.frame.index, [], state, worker.source.fps)

    def stop(self) -> None:
        self.timer.stop()

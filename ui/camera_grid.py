"""The camera grid: one tile per camera, painted from the workers' newest frames.

The layouts offered fit the cameras: one camera alone (any one: V steps through them, a
double-click picks one), and the smallest grid that holds them all (2x2 for up to four, 3x3
beyond; a 3x3 with four cameras would leave five tiles empty), with 2x2 also offered above four.

It only reads: on its own timer it takes each worker's newest frame and overlays without waiting
on them, and paints only the tiles on screen - while an alert is open, only ``mini``, the small
live view of the alert's camera beside the adjudication.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from ui.video_tile import STRIP_H, VideoTile

PAINT_INTERVAL_MS = 40  # 25 Hz screen refresh of the newest frames
OVERLAY_MAX_AGE_S = 0.5  # show the analysed frame while it is at most this much older than the newest
LAYOUTS = (1, 4, 9)
LAYOUT_NAMES = {1: "Layout 1", 4: "Layout 2x2", 9: "Layout 3x3"}


def layouts_for(count: int) -> tuple[int, ...]:
    """1-up, then every grid smaller than the cameras need, then the smallest that holds them all."""
    fit = next((n for n in LAYOUTS if n >= count), LAYOUTS[-1])
    return tuple(n for n in LAYOUTS if n <= fit and (n == 1 or n == fit or n < count))


def grid_shape(count: int) -> tuple[int, int]:
    if count <= 1:
        return 1, 1
    side = 2 if count <= 4 else 3
    return math.ceil(count / side), side


class CameraGrid(QWidget):
    layoutChanged = Signal(str)

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
        self.one_up = 0  # the camera a 1-up layout shows
        self.mini = VideoTile("Live")  # the alert's camera, shown beside the adjudication
        self.mini.setMinimumSize(240, 150)
        self.mini_camera: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(PAINT_INTERVAL_MS)
        self.timer.timeout.connect(self.paint)

    def show_cameras(self, names: list[str], workers: list) -> None:
        self.placeholder.hide()
        self.workers = list(workers)
        self.tiles = [VideoTile(name) for name in names]
        for i, tile in enumerate(self.tiles):
            tile.doubleClicked.connect(lambda i=i: self.toggle_one_up(i))
        self.layout_size = layouts_for(len(self.tiles))[-1]
        self.arrange()
        self.timer.start()

    @property
    def layouts(self) -> tuple[int, ...]:
        return layouts_for(len(self.tiles))

    def shown(self) -> list[int]:
        """The cameras (indexes) on screen in the current layout."""
        if self.layout_size == 1:
            return [self.one_up] if self.tiles else []
        return list(range(min(self.layout_size, len(self.tiles))))

    def arrange(self) -> None:
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.hide()
        shown = self.shown()
        _, cols = grid_shape(len(shown))
        for i, index in enumerate(shown):
            self.grid.addWidget(self.tiles[index], i // cols, i % cols)
            self.tiles[index].show()
        self.layoutChanged.emit(self.layout_name())

    def layout_name(self) -> str:
        if self.layout_size == 1 and self.tiles:
            return f"1 up: {self.tiles[self.one_up].title}"
        return LAYOUT_NAMES[self.layout_size]

    def cycle_layout(self) -> str:
        layouts = self.layouts or LAYOUTS
        at = layouts.index(self.layout_size) if self.layout_size in layouts else -1
        self.layout_size = layouts[(at + 1) % len(layouts)]
        self.arrange()
        return self.layout_name()

    def show_one(self, index: int) -> str:
        """Camera ``index`` alone, filling the grid."""
        if self.tiles:
            self.one_up = index % len(self.tiles)
            self.layout_size = 1
            self.arrange()
        return self.layout_name()

    def next_camera(self) -> str:
        """1 up on the next camera (from a grid: on the first)."""
        return self.show_one(self.one_up + 1 if self.layout_size == 1 else self.one_up)

    def toggle_one_up(self, index: int) -> str:
        """A double-click: that camera alone; on a camera alone, back to the grid that fits."""
        if self.layout_size == 1 and self.one_up == index:
            self.layout_size = self.layouts[-1]
            self.arrange()
            return self.layout_name()
        return self.show_one(index)

    def follow(self, camera_name: str | None) -> None:
        """Which camera ``mini`` shows (by the name an alert carries); None or unknown: none."""
        names = [t.title for t in self.tiles]
        self.mini_camera = names.index(camera_name) if camera_name in names else None
        self.mini.title = camera_name or "Live"
        self.mini.setToolTip(self.mini.title)  # the strip elides a long name before the LIVE badge
        self.mini.image, self.mini.frame_index, self.mini.faces = None, -1, []
        self.mini.update()

    def set_privacy(self, on: bool) -> None:
        for tile in self.tiles:
            tile.privacy = on
            tile.update()

    def paint(self) -> None:
        if self.isVisible():
            pairs = [(self.tiles[i], self.workers[i]) for i in self.shown() if i < len(self.workers)]
        elif self.mini.isVisible() and self.mini_camera is not None and self.mini_camera < len(self.workers):
            pairs = [(self.mini, self.workers[self.mini_camera])]
        else:
            pairs = []
        painted = {id(worker) for _, worker in pairs}
        for worker in self.workers:  # a recognition process sends nothing for a tile not on screen
            if id(worker) not in painted and hasattr(worker, "want"):
                worker.want(0, 0)
        for tile, worker in pairs:
            if hasattr(worker, "poll"):
                paint_shared(tile, worker)
            else:
                paint_tile(tile, worker)

    def stop(self) -> None:
        self.timer.stop()


def paint_shared(tile: VideoTile, camera) -> None:
    """One tile from the seat's recognition process: the frame it wrote at this tile's size, with
    its overlays in the tile frame's pixels - nothing is scaled here."""
    camera.want(tile.width(), tile.height() - STRIP_H)
    if not camera.seat.running:
        if tile.faces:
            tile.faces = []
            tile.update()
        state = camera.seat.state
        if state in ("restarting", "starting"):
            tile.set_state("restarting" if tile.image is not None else "connecting")
        else:  # ended with the deployment, refused, or closing: as a camera no longer recognising
            tile.set_state("refused" if state == "refused" else "stopped")
        return
    shown = camera.poll()
    if shown is None:
        return
    if shown.image is None:  # the camera is stopped, or nothing to see yet
        if tile.faces:
            tile.faces = []
            tile.update()
        tile.set_state(shown.state)
        return
    tile.show_frame(shown.image, shown.index, shown.faces, shown.state, shown.source_fps)


def paint_tile(tile: VideoTile, worker) -> None:
    """One tile from one worker's newest frame, without waiting on it."""
    snap = worker.snapshot()
    state = worker.source.state.value if worker.recognising else "stopped"
    tile.set_detail(worker.source.error if state not in ("live", "stopped") else "")
    if snap.frame is None or not worker.recognising:
        if tile.faces:  # no boxes left standing on a camera that no longer recognises
            tile.faces = []
            tile.update()
        tile.set_state(state)
        return
    # The analysed frame with its own boxes while recognition keeps up; the newest raw
    # frame, without boxes, when it falls behind (boxes never float beside faces).
    if snap.analysed is not None and snap.frame.captured_at - snap.analysed.captured_at <= OVERLAY_MAX_AGE_S:
        tile.show_frame(snap.analysed.image, snap.analysed.index, snap.result.faces, state, worker.source.fps)
    else:
        tile.show_frame(snap.frame.image, snap.frame.index, [], state, worker.source.fps)

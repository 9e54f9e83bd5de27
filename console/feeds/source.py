"""Video sources behind one interface, each on its own thread, keeping only the newest frame.

A source thread writes into a one-frame slot; readers take the newest frame and never
queue: a slow reader simply skips frames (counted in ``dropped``). A dead or slow source
therefore cannot stall recognition of other cameras, nor the UI.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class SourceState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    LOST = "lost"
    ENDED = "ended"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    index: int
    captured_at: float  # wall-clock seconds (time.time()) when the frame was captured


class LatestSlot:
    """Holds one item; put replaces, get_newer waits (with timeout) for a newer one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item = None
        self._seq = 0

    def put(self, item) -> None:
        with self._cond:
            self._item = item
            self._seq += 1
            self._cond.notify_all()

    def peek(self):
        with self._cond:
            return self._seq, self._item

    def get_newer(self, seen: int, timeout: float):
        with self._cond:
            if self._seq <= seen:
                self._cond.wait(timeout)
            return self._seq, self._item


class FrameSource:
    """Base: subclasses implement ``_open`` and ``_read`` (one frame or None when lost)."""

    name = "source"

    def __init__(self, *, realtime: bool = True, fps_hint: float = 25.0) -> None:
        self.slot = LatestSlot()
        self.state = SourceState.CONNECTING
        self.error = ""
        self.realtime = realtime
        self.fps_hint = fps_hint
        self.frames = 0
        self._fps_window: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- subclass hooks
    def _open(self) -> None:  # pragma: no cover - trivial default
        pass

    def _read(self, index: int) -> np.ndarray | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    # -- public
    @property
    def fps(self) -> float:
        w = self._fps_window
        if len(w) < 2 or w[-1] == w[0]:
            return 0.0
        return (len(w) - 1) / (w[-1] - w[0])

    def start(self) -> FrameSource:
        self._thread = threading.Thread(target=self._run, name=f"source-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.state = SourceState.STOPPED

    def _run(self) -> None:
        try:
            self._open()
        except Exception as exc:  # reported through state, never raised into other threads
            self.state, self.error = SourceState.LOST, str(exc)
            return
        self.state = SourceState.LIVE
        period = 1.0 / self.fps_hint if self.fps_hint > 0 else 0.0
        next_at = time.monotonic()
        index = 0
        try:
            while not self._stop.is_set():
                image = self._read(index)
                if image is None:
                    self.state = SourceState.ENDED
                    break
                now = time.time()
                self.slot.put(Frame(image, index, now))
                self.frames += 1
                self._fps_window = (self._fps_window + [time.monotonic()])[-25:]
                index += 1
                if self.realtime and period:
                    next_at += period
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    else:
                        next_at = time.monotonic()
        except Exception as exc:
            self.state, self.error = SourceState.LOST, str(exc)
        finally:
            self._close()


class DemoSource(FrameSource):
    """The generated demo corridor (see console.feeds.demo), paced at 25 fps."""

    def __init__(self, camera_index: int = 0, *, realtime: bool = True) -> None:
        from console.feeds.demo import FPS

        super().__init__(realtime=realtime, fps_hint=FPS)
        self.camera_index = camera_index
        self.name = f"demo{camera_index}"
        self._scene = None

    def _open(self) -> None:
        from console.feeds.demo import DemoScene

        self._scene = DemoScene(self.camera_index)

    def _read(self, index: int) -> np.ndarray | None:
        return self._scene.frame(index)

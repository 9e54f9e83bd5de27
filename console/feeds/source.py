"""Video sources behind one interface, each on its own thread, keeping only the newest frame.

A source thread writes into a one-frame slot; readers take the newest frame and never
queue: a slow reader simply skips frames (the worker counts them as dropped). A dead or
slow source therefore cannot stall recognition of other cameras, nor the UI.

States: connecting -> live -> (lost -> connecting -> live ...) -> ended | failed | stopped.
A lost network source or webcam reconnects with exponential backoff (1 s doubling to 30 s);
a camera that refuses its user name or password is *unauthorised*, and is retried the same way
(someone may fix the credential on the camera).
A file that cannot be opened or decoded is *failed*, with the reason in ``error``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from console import clock
from console.redaction import scrub


class SourceState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    LOST = "lost"
    UNAUTHORISED = "unauthorised"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


class SourceLost(Exception):
    """The source stopped delivering; a reconnecting source will try again."""


class SourceUnauthorised(SourceLost):
    """The camera refused the configured user name or password (or wants one)."""


class SourceFailed(Exception):
    """The source cannot work (bad file, bad URL): no retry."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    index: int
    captured_at: float  # wall-clock seconds (console.clock.wall()) when the frame was captured


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
    """Base: subclasses implement ``_open``, ``_read`` and ``_close``.

    ``_read`` returns a frame, or None at the natural end of a file; it raises SourceLost
    when a live source stops delivering.
    """

    name = "source"
    secret_in = ""  # the configured URL, whose credential no error may repeat
    reconnects = True
    backoff_start_s = 1.0
    backoff_max_s = 30.0

    def __init__(self, *, realtime: bool = True, fps_hint: float = 25.0) -> None:
        self.slot = LatestSlot()
        self.state = SourceState.CONNECTING
        self.error = ""
        self.realtime = realtime
        self.fps_hint = fps_hint
        self.frames = 0
        self.reconnect_count = 0
        self._fps_window: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._index = 0

    # -- subclass hooks
    def _open(self) -> None:
        pass

    def _read(self) -> np.ndarray | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def _pace_fps(self) -> float:
        return self.fps_hint

    # -- public
    @property
    def fps(self) -> float:
        w = self._fps_window
        if len(w) < 2 or w[-1] == w[0]:
            return 0.0
        return (len(w) - 1) / (w[-1] - w[0])

    def start(self) -> FrameSource:
        """Start delivering frames (again, after ``stop``: a paused camera resumes)."""
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"source-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.state not in (SourceState.ENDED, SourceState.FAILED):
            self.state = SourceState.STOPPED

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.backoff_start_s
        while not self._stop.is_set():
            self.state = SourceState.CONNECTING
            try:
                self._open()
                self.state, self.error = SourceState.LIVE, ""
                backoff = self.backoff_start_s
                if self._pump():
                    self.state = SourceState.ENDED
                    return
            except SourceFailed as exc:
                self.state, self.error = SourceState.FAILED, self._explain(exc)
                return
            except SourceUnauthorised as exc:
                self.state, self.error = SourceState.UNAUTHORISED, self._explain(exc)
            except Exception as exc:  # lost: reported through state, never raised into other threads
                self.state, self.error = SourceState.LOST, self._explain(exc)
            finally:
                try:
                    self._close()
                except Exception:  # closing a broken connection may fail too; nothing to keep
                    pass
            if self._stop.is_set():  # stopped while an open or a read was still waiting on the camera
                self.state = SourceState.STOPPED
                return
            if not self.reconnects:
                self.state = SourceState.FAILED
                return
            self.reconnect_count += 1
            self._stop.wait(backoff)
            backoff = min(self.backoff_max_s, backoff * 2)

    def _explain(self, exc: Exception) -> str:
        """The error as the operator reads it: a driver or OpenCV may echo the URL it was given."""
        return scrub(str(exc) or type(exc).__name__, self.secret_in)

    def _pump(self) -> bool:
        """Deliver frames until stopped (False) or the natural end (True)."""
        fps = self._pace_fps()
        period = 1.0 / fps if fps > 0 else 0.0
        next_at = time.monotonic()
        while not self._stop.is_set():
            image = self._read()
            if image is None:
                return True
            self.slot.put(Frame(image, self._index, clock.wall()))
            self._index += 1
            self.frames += 1
            self._fps_window = (self._fps_window + [time.monotonic()])[-25:]
            if self.realtime and period:
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.monotonic()
        return False


class DemoSource(FrameSource):
    """The generated demo corridor (see console.feeds.demo), paced at 25 fps."""

    reconnects = False

    def __init__(self, camera_index: int = 0, *, realtime: bool = True) -> None:
        from console.feeds.demo import FPS

        super().__init__(realtime=realtime, fps_hint=FPS)
        self.camera_index = camera_index
        self.name = f"demo{camera_index}"
        self._scene = None

    def _open(self) -> None:
        from console.feeds.demo import DemoScene

        if self._scene is None:
            self._scene = DemoScene(self.camera_index)

    def _read(self) -> np.ndarray | None:
        return self._scene.frame(self._index)

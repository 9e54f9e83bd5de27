"""`bench rtsp`: latency from a real RTSP camera's frame to the decoded frame and to the painted tile.

GStreamer's RTSP server (tests/rtsp/rtsp_server.py, the system python's python3-gi) streams H.264 at
25 fps on loopback, and stamps each frame with its send time (wall-clock ms) in 32 black and white
blocks of its top rows, just before the encoder. The console's own RtspSource (OpenCV's FFmpeg,
RTSP over TCP) decodes it; the stamp is read back (1) the moment the decoded frame reaches the
source's newest-frame slot and (2) when a VideoTile, fed by the camera grid's own paint_tile on the
grid's 25 Hz timer, has painted that frame. Server and client share the machine's clock.

Recognition is left out (a pass-through recogniser): the figure is the video path - encode,
packetise, RTSP/TCP, FFmpeg's jitter buffer and decode, the slot, the grid's timer, the paint. The
first 2 s (FFmpeg's probing backlog) are not counted.

    python main.py bench rtsp --seconds 20 --size 1280x720
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import pct

WARMUP_S = 2.0


class _PassThrough:
    """The recogniser a CameraWorker needs, analysing nothing: the tile shows each frame as decoded."""

    outbox = ()
    outbox_dropped = 0
    store_problem = ""

    def __init__(self) -> None:
        from console.pipeline.recognizer import ScoreStats

        self.stats = ScoreStats()

    def process(self, image, captured_at, index):
        from console.pipeline.recognizer import FrameResult

        return FrameResult(index, captured_at, [], [], 0, 0, 0.0)

    def drain_outbox(self, force: bool = False) -> list[int]:
        return []


def bench_rtsp(seconds: float = 20.0, size: tuple[int, int] = (1280, 720), fps: float = 25.0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from console.feeds.rtsp import RtspSource
    from console.pipeline.worker import CameraWorker
    from tests.rtsp.camera import RtspCamera, check_gstreamer, photo_frames, stamp_age_ms
    from ui.camera_grid import PAINT_INTERVAL_MS, paint_tile
    from ui.video_tile import VideoTile

    check_gstreamer()
    app = QApplication.instance() or QApplication([])
    decoded: list[float] = []
    painted: list[float] = []
    counting = threading.Event()

    class StampedTile(VideoTile):
        """A tile that reads the stamp of the frame it has just painted."""

        shown: np.ndarray | None = None
        measured = -1

        def show_frame(self, image, index, faces, state, fps) -> None:
            if index != self.frame_index:
                self.shown = image
            super().show_frame(image, index, faces, state, fps)

        def paintEvent(self, event) -> None:  # noqa: N802
            super().paintEvent(event)
            if self.shown is not None and self.frame_index != self.measured and counting.is_set():
                self.measured = self.frame_index
                age = stamp_age_ms(self.shown)
                if age is not None:
                    painted.append(age)

    with tempfile.TemporaryDirectory(prefix="bench-rtsp-") as tmp:
        frames = photo_frames(Path(tmp) / "frames.bgr", size=size)
        camera = RtspCamera(frames, size=size, fps=fps, user="bench", password="bench-pass").start()
        source = RtspSource(camera.url())
        worker = CameraWorker(source, _PassThrough())
        tile = StampedTile("RTSP bench")
        tile.resize(960, 540 + 28)
        tile.show()
        stop = threading.Event()

        def watch_slot() -> None:  # wakes on each put: the decoded frame's age as it lands
            seen = 0
            while not stop.is_set():
                seq, frame = source.slot.get_newer(seen, 0.2)
                if frame is not None and seq > seen:
                    seen = seq
                    age = stamp_age_ms(frame.image)
                    if counting.is_set() and age is not None:
                        decoded.append(age)

        watcher = threading.Thread(target=watch_slot, name="bench-rtsp-slot", daemon=True)
        timer = QTimer()
        timer.setInterval(PAINT_INTERVAL_MS)
        timer.timeout.connect(lambda: paint_tile(tile, worker))
        source.start()
        worker.start()
        watcher.start()
        timer.start()
        try:
            deadline = time.monotonic() + 15
            while source.frames == 0 and time.monotonic() < deadline:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if source.frames == 0:
                raise RuntimeError(f"no frame from the RTSP server: {source.state.value} {source.error}")
            QTimer.singleShot(int(WARMUP_S * 1000), counting.set)
            loop = QEventLoop()
            QTimer.singleShot(int((WARMUP_S + seconds) * 1000), loop.quit)
            loop.exec()
            counted_frames = source.frames
        finally:
            timer.stop()
            stop.set()
            watcher.join(2)
            source.stop()
            worker.stop()
            camera.stop()
            tile.close()
    return {"seconds": seconds, "size": f"{size[0]}x{size[1]}", "server_fps": fps, "transport": "rtsp over tcp, H.264",
            "frames_decoded": counted_frames, "decoded_fps": round(len(decoded) / seconds, 1),
            "server_to_decoded_ms": _figures(decoded), "server_to_tile_ms": _figures(painted),
            "tile_paints_measured": len(painted)}


def _figures(ms: list[float]) -> dict:
    if not ms:
        return {"p50": None, "p95": None, "max": None}
    return {"p50": round(pct(ms, 50), 1), "p95": round(pct(ms, 95), 1), "max": round(max(ms), 1)}

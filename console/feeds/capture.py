"""Sources read through OpenCV: video files, RTSP/HTTP streams, webcams; and MJPEG over HTTP."""

from __future__ import annotations

import http.client
import os
import urllib.parse
from pathlib import Path

import cv2
import numpy as np

from console.errors import MediaError
from console.feeds.source import FrameSource, SourceFailed, SourceLost
from console.redaction import redact, redact_url

OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000


def probe_video(path: Path) -> tuple[float, int, tuple[int, int]]:
    """(fps, frame count, (width, height)) of a file, or MediaError saying what is wrong."""
    path = Path(path)
    shown = redact(str(path))  # a mistyped stream (user:password@host/...) lands here as a "file"
    if not path.is_file():
        raise MediaError(f"video {shown} does not exist")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise MediaError(f"video {shown} cannot be opened: not a video OpenCV can decode")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise MediaError(f"video {shown} holds no decodable frame (broken or empty file)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return (fps if 1.0 <= fps <= 240.0 else 25.0), count, (frame.shape[1], frame.shape[0])
    finally:
        cap.release()


class FileSource(FrameSource):
    """A video file, once or looped, paced at its own frame rate or as fast as possible."""

    reconnects = False

    def __init__(self, path: Path | str, *, loop: bool = False, realtime: bool = True) -> None:
        self.path = Path(path)
        fps, self.frame_count, self.size = probe_video(self.path)
        super().__init__(realtime=realtime, fps_hint=fps)
        self.loop = loop
        self.name = f"file-{self.path.stem}"
        self._cap: cv2.VideoCapture | None = None
        self.loops = 0
        self._in_pass = 0

    def _open(self) -> None:
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise SourceFailed(f"video {redact(str(self.path))} cannot be opened")

    def _read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if ok:
            self._in_pass += 1
            return frame
        if self.frame_count and self._in_pass < self.frame_count - 1:
            # An end well before the frames the file declares: damaged or cut short. Say so
            # (and keep saying so while it loops) rather than pass it off as a normal end.
            self.error = (f"video {redact(str(self.path))} ended after {self._in_pass} of {self.frame_count} frames: "
                          "the file may be damaged or cut short")
        self._in_pass = 0
        if self.loop and self.frames > 0:
            self.loops += 1
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            if ok:
                self._in_pass = 1
                return frame
            raise SourceFailed(f"video {redact(str(self.path))} could not be rewound")
        return None

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class StreamSource(FrameSource):
    """HTTP or RTMP video through OpenCV's FFmpeg backend, with open and read timeouts (RTSP: console.feeds.rtsp)."""

    def __init__(self, url: str, *, fps_hint: float = 25.0) -> None:
        super().__init__(realtime=False, fps_hint=fps_hint)
        self.url = self.secret_in = url
        self.name = f"stream-{urllib.parse.urlsplit(url).hostname or 'url'}"
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> None:
        if self.url.startswith("rtsp"):
            os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
        cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
                                cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS])
        if not cap.isOpened():
            cap.release()
            raise SourceLost(f"cannot connect to {redact_url(self.url)}")
        self._cap = cap

    def _read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok:
            raise SourceLost(f"stream {redact_url(self.url)} stopped delivering frames")
        return frame

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class WebcamSource(StreamSource):
    """A local camera by index."""

    def __init__(self, index: int) -> None:
        FrameSource.__init__(self, realtime=False, fps_hint=30.0)
        self.url = f"webcam:{index}"
        self.index = index
        self.name = f"webcam{index}"
        self._cap = None

    def _open(self) -> None:
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise SourceLost(f"webcam {self.index} is not available")
        self._cap = cap


class MjpegSource(FrameSource):
    """Motion JPEG over HTTP (multipart/x-mixed-replace), read with the standard library.

    Many IP cameras serve this; parsing it ourselves gives exact timeouts and a clean
    reconnect, which OpenCV's backend does not always give.
    """

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        super().__init__(realtime=False, fps_hint=0.0)
        self.url = self.secret_in = url.removeprefix("mjpeg+")
        self.timeout_s = timeout_s
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaError(f"{redact_url(url)} is not an http(s) MJPEG URL")
        self._parts = parts
        self.name = f"mjpeg-{parts.hostname}"
        self._conn: http.client.HTTPConnection | None = None
        self._resp: http.client.HTTPResponse | None = None
        self._boundary = b""

    def _open(self) -> None:
        cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        self._conn = cls(self._parts.hostname, self._parts.port, timeout=self.timeout_s)
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        self._conn.request("GET", path)
        resp = self._conn.getresponse()
        ctype = resp.getheader("Content-Type", "")
        if resp.status != 200 or "multipart" not in ctype or "boundary=" not in ctype:
            raise SourceLost(f"{redact_url(self.url)} answered {resp.status} {ctype!r}, not an MJPEG stream")
        self._boundary = ctype.split("boundary=", 1)[1].strip().strip('"').encode()
        self._resp = resp

    def _read(self) -> np.ndarray | None:
        resp = self._resp
        length = None
        # Skip to the part headers, read them, then exactly Content-Length bytes.
        while True:
            line = resp.readline()
            if not line:
                raise SourceLost(f"{redact_url(self.url)} closed the stream")
            text = line.strip()
            if not text or text.lstrip(b"-") == self._boundary.lstrip(b"-"):
                if length is not None and not text:
                    break
                continue
            key, _, value = text.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(value.strip())
        data = resp.read(length)
        if len(data) != length:
            raise SourceLost(f"{redact_url(self.url)} closed the stream mid-frame")
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise SourceLost(f"{redact_url(self.url)} sent a frame that is not a JPEG")
        return frame

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._resp = None


def open_source(spec: str, *, loop: bool = True, realtime: bool = True) -> FrameSource:
    """A source from a camera's configured string.

    ``demo:N`` the demo feed; ``webcam:N`` (or a bare number) a local camera;
    ``mjpeg+http://...`` or an http URL ending in .mjpg/.mjpeg/.cgi an MJPEG stream;
    ``rtsp://`` an RTSP camera (console.feeds.rtsp); ``rtmp://``, ``http(s)://`` other streams; anything else a video file.
    """
    from console.feeds.source import DemoSource

    s = spec.strip()
    if s.startswith("demo:"):
        return DemoSource(int(s.split(":", 1)[1] or 0), realtime=realtime)
    if s.isdigit() or s.startswith("webcam:"):
        return WebcamSource(int(s.removeprefix("webcam:")))
    lower = s.lower()
    if lower.startswith("mjpeg+") or (lower.startswith("http") and lower.split("?")[0].endswith((".mjpg", ".mjpeg",
                                                                                              ".cgi"))):
        return MjpegSource(s)
    if lower.startswith(("rtsp://", "rtsps://")):
        from console.feeds.rtsp import RtspSource

        return RtspSource(s)
    if "://" in s:
        return StreamSource(s)
    return FileSource(s.removeprefix("file:"), loop=loop, realtime=realtime)

"""A real RTSP camera on loopback (tests/rtsp/rtsp_server.py under the system python) and what the
tests and the latency benchmark need around it: the frames it streams, its cut and restore, and the
send time it stamps into each frame.

GStreamer's Python bindings are Debian's (python3-gi), so the server runs as a subprocess of
/usr/bin/python3, never in the project's venv. A machine without them gets ``ServerMissing`` with the
line that installs them (the tests turn it into a failure, never a skip).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("rtsp_server.py")
INSTALL = ("GStreamer's RTSP server is missing: run .ci/install_servers.sh, or 'sudo apt-get install python3-gi "
           "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly'")
CHECK = """
import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer
Gst.init(None)
assert Gst.ElementFactory.find('x264enc') and Gst.ElementFactory.find('rtph264pay')
"""
BLOCK, BITS = 16, 32  # as rtsp_server.py stamps them


class ServerMissing(RuntimeError):
    pass


def check_gstreamer() -> None:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        raise ServerMissing(INSTALL)
    done = subprocess.run([SYSTEM_PYTHON, "-c", CHECK], capture_output=True, timeout=60)
    if done.returncode != 0:
        raise ServerMissing(INSTALL + "\n" + done.stderr.decode(errors="replace")[-400:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photo_frames(path: Path, size: tuple[int, int] = (640, 432), count: int = 10) -> Path:
    """Raw BGR frames for the server from the demo's real group photo (six faces), panned a little
    from frame to frame so the encoder sees motion; written to ``path``."""
    from console.feeds.demo_media import passer_by_photo, read_image

    w, h = size
    photo = cv2.resize(read_image(passer_by_photo()), (w + 4 * count, h + 2 * count), interpolation=cv2.INTER_AREA)
    with open(path, "wb") as f:
        for i in range(count):
            f.write(np.ascontiguousarray(photo[i:i + h, 2 * i:2 * i + w]).tobytes())
    return path


def read_stamp(image: np.ndarray) -> int | None:
    """The server's send time (wall-clock ms modulo 2**32) written in the frame's top rows, or None
    when the strip is not there (the frame is too small, or too damaged to read)."""
    if image.shape[0] < BLOCK or image.shape[1] < BLOCK * BITS:
        return None
    centres = image[BLOCK // 2, BLOCK // 2:BLOCK * BITS:BLOCK].mean(axis=1)
    if np.any((centres > 70) & (centres < 185)):
        return None  # neither black nor white: not a stamp
    value = 0
    for bright in centres > 128:
        value = (value << 1) | int(bright)
    return value


def stamp_age_ms(image: np.ndarray, now: float | None = None) -> float | None:
    """How long ago (ms) the server sent this frame, by the stamp in it."""
    sent = read_stamp(image)
    if sent is None:
        return None
    now_ms = int((time.time() if now is None else now) * 1000) & 0xFFFFFFFF
    return float((now_ms - sent) % (1 << 32))


class RtspCamera:
    """The RTSP server process: ``url`` (with the credential when it has one), ``cut`` kills it,
    ``restore`` starts it again on the same port and path."""

    def __init__(self, frames: Path, *, size: tuple[int, int] = (640, 432), path: str = "/cam", user: str = "",
                 password: str = "", auth: str = "basic", silent: bool = False, fps: float = 25.0) -> None:
        self.frames, self.size, self.path, self.fps = frames, size, path, fps
        self.user, self.password, self.auth, self.silent = user, password, auth, silent
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, user: str | None = None, password: str | None = None) -> str:
        user = self.user if user is None else user
        password = self.password if password is None else password
        cred = f"{user}:{password}@" if user else ""
        return f"rtsp://{cred}127.0.0.1:{self.port}{self.path}"

    def start(self) -> RtspCamera:
        cmd = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port), "--path", self.path]
        if self.silent:
            cmd.append("--silent")
        else:
            cmd += ["--frames", str(self.frames), "--width", str(self.size[0]), "--height", str(self.size[1]),
                    "--fps", str(self.fps)]
        if self.user:
            cmd += ["--user", self.user, "--password", self.password, "--auth", self.auth]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # the server prints READY once it listens
        if not line.startswith("READY"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError(f"the RTSP server did not start: {line!r} {err[-800:]}")
        return self

    def cut(self) -> None:
        """The camera drops off the network: the process is killed, its connections reset."""
        self.stop()

    def restore(self) -> None:
        deadline = time.monotonic() + 10
        while True:  # the port may linger a moment after the kill
            try:
                self.start()
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            for stream in (self.proc.stdout, self.proc.stderr):
                stream.close()
            self.proc = None

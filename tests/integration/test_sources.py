"""Video sources: files, a live MJPEG stream on loopback that is cut and restored, bad input."""

import http.server
import socket
import threading
import time

import cv2
import numpy as np
import pytest

from console.errors import MediaError
from console.feeds.capture import FileSource, MjpegSource, StreamSource, WebcamSource, open_source
from console.feeds.demo import write_demo_video
from console.feeds.rtsp import RtspSource
from console.feeds.source import DemoSource, SourceState
from console.pipeline.worker import CameraWorker
from tests.factories import RecognizerStub, wait_for


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "demo.mp4"
    write_demo_video(path, 0, seconds=2.0, size=(320, 180))
    return path


def test_file_once_delivers_every_frame_then_ends(short_video):
    source = FileSource(short_video, loop=False, realtime=False)
    seen = []
    source.start()
    last = 0
    while source.running or source.slot.peek()[0] > last:
        seq, frame = source.slot.get_newer(last, 0.5)
        if frame is not None and seq > last:
            seen.append(frame.index)
            last = seq
    assert source.state is SourceState.ENDED
    assert source.frames == 50 and seen[-1] == 49
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))


def test_file_loop_keeps_going_and_carries_capture_times(short_video):
    source = FileSource(short_video, loop=True, realtime=False).start()
    try:
        assert wait_for(lambda: source.loops >= 3)  # three passes of 50 frames: the newest is past 100
        _, frame = source.slot.peek()
        assert frame.index > 100 and abs(frame.captured_at - time.time()) < 5
    finally:
        source.stop()
    assert source.state is SourceState.STOPPED


def test_file_paced_at_real_time_runs_near_its_frame_rate(short_video):
    source = FileSource(short_video, loop=True, realtime=True).start()
    try:
        time.sleep(1.2)
        delivered = source.frames
    finally:
        source.stop()
    # 25 fps for 1.2 s is 30 frames; as fast as possible would be hundreds.
    assert 10 <= delivered <= 45


@pytest.mark.parametrize("content, message", [(b"", "cannot be opened"), (b"\x00garbage" * 500, "cannot be opened")])
def test_a_broken_video_gets_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message):
        FileSource(path)
    with pytest.raises(MediaError, match="does not exist"):
        FileSource(tmp_path / "missing.mp4")


def test_open_source_understands_camera_strings(short_video):
    assert isinstance(open_source("demo:1"), DemoSource)
    assert isinstance(open_source("webcam:0"), WebcamSource)
    assert isinstance(open_source("mjpeg+http://127.0.0.1:9/stream"), MjpegSource)
    assert isinstance(open_source("http://127.0.0.1:9/video.mjpg"), MjpegSource)
    assert isinstance(open_source("rtsp://user:pw@10.0.0.1/s"), RtspSource)
    assert isinstance(open_source("rtmp://10.0.0.1/s"), StreamSource)
    assert isinstance(open_source(str(short_video)), FileSource)


def test_a_dead_network_camera_is_reported_lost_and_retried():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    source = MjpegSource(f"http://127.0.0.1:{port}/stream", timeout_s=1.0)
    source.backoff_start_s = 0.1
    source.start()
    try:
        assert wait_for(lambda: source.reconnect_count >= 2, 10)
        assert source.state in (SourceState.LOST, SourceState.CONNECTING)
        assert "refused" in source.error.lower() or "connect" in source.error.lower()
    finally:
        source.stop()


class MjpegServer:
    """A camera on loopback: serves multipart JPEG frames until cut."""

    def __init__(self, port=0):
        frames = [cv2.imencode(".jpg", np.full((120, 160, 3), 40 * i, np.uint8))[1].tobytes() for i in range(5)]
        stopping = threading.Event()
        self.stopping = stopping

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while not stopping.is_set():
                        data = frames[i % len(frames)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         + f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                        i += 1
                        time.sleep(0.03)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def cut(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("kind", ["mjpeg", "opencv-ffmpeg"])
def test_stream_cut_and_restored_reconnects(kind):
    server = MjpegServer()
    url = f"http://127.0.0.1:{server.port}/stream"
    source = MjpegSource(url, timeout_s=1.0) if kind == "mjpeg" else StreamSource(url)
    source.backoff_start_s = 0.2

    class Counting(RecognizerStub):
        def process(self, image, captured_at, index):
            from console.pipeline.recognizer import FrameResult

            return FrameResult(index, captured_at, [], [], 0, 0, 0.0)

    worker = CameraWorker(source, Counting())  # the camera's recognition thread rides through the cut
    source.start()
    worker.start()
    try:
        assert wait_for(lambda: source.state is SourceState.LIVE and source.frames > 5)
        _, frame = source.slot.peek()
        assert frame.image.shape == (120, 160, 3)
        server.cut()
        assert wait_for(lambda: source.state in (SourceState.LOST, SourceState.CONNECTING))
        before, analysed = source.frames, worker.analysed
        restored = MjpegServer(server.port)
        try:
            assert wait_for(lambda: source.state is SourceState.LIVE and source.frames > before + 5)
            assert source.reconnect_count >= 1
            assert wait_for(lambda: worker.analysed > analysed + 3)  # recognising again, same thread
            assert worker._thread.is_alive() and worker.error == ""
        finally:
            restored.cut()
    finally:
        source.stop()
        worker.stop()


def test_a_slow_worker_drops_old_frames_instead_of_queueing():
    class SlowRecognizer(RecognizerStub):
        def process(self, image, captured_at, index):
            from console.pipeline.recognizer import FrameResult

            time.sleep(0.2)
            return FrameResult(index, captured_at, [], [], 0, 0, 0.2)

    source = DemoSource(0, realtime=True)
    worker = CameraWorker(source, SlowRecognizer())
    source.start()
    worker.start()
    try:
        assert wait_for(lambda: worker.analysed >= 4)
    finally:
        source.stop()
        worker.stop()
    assert source.frames > 2 * worker.analysed
    assert worker.skipped > 0
    # What it analysed was always the newest frame at the time: indices jump ahead.
    assert worker.snapshot().result.frame_index > worker.analysed


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_truncated_or_corrupted_video_is_refused_or_played_to_a_clear_end(short_video, tmp_path, damage):
    """Cut in half (an interrupted copy) or with a run of garbage inside (a bad sector): either a clear
    MediaError at open, or the frames that survive, then an end - never a hang or a dead thread."""
    blob = bytearray(short_video.read_bytes())
    if damage == "truncated":
        blob = blob[: len(blob) // 2]
    else:
        start = len(blob) // 3
        blob[start:start + 2000] = bytes((i * 7919) % 251 for i in range(2000))
    path = tmp_path / f"{damage}.mp4"
    path.write_bytes(bytes(blob))
    try:
        source = FileSource(path, loop=False, realtime=False)
    except MediaError as exc:
        assert str(path) in str(exc) or path.name in str(exc)
        return
    source.start()
    try:
        assert wait_for(lambda: source.state in (SourceState.ENDED, SourceState.FAILED), timeout=20)
    finally:
        source.stop()
    assert source.frames < 50  # never more than the file held...
    assert "damaged" in source.error or source.state is SourceState.FAILED and source.error  # ...and it said why

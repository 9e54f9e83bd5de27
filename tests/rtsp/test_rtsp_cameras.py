"""RTSP cameras against a real RTSP server on loopback (GStreamer's, H.264), decoded for real by
OpenCV's FFmpeg: pictures and faces, credentials (basic and digest), a cut and a restore, and a camera
that connects and never answers."""

from __future__ import annotations

import logging
import time

import pytest

from console.errors import MediaError
from console.feeds.capture import open_source
from console.feeds.rtsp import RtspSource
from console.feeds.source import SourceState
from console.pipeline.worker import CameraWorker
from console.services.setup import cameras
from tests.factories import RecognizerStub, wait_for
from tests.rtsp.camera import read_stamp, stamp_age_ms

PASSWORD = "s3cr@t pass!"  # an @, a space and a ! in it: percent-encoded in the URL
QUOTED = "s3cr%40t%20pass%21"


def newest(source):
    return source.slot.peek()[1]


class Counting(RecognizerStub):
    def process(self, image, captured_at, index):
        from console.pipeline.recognizer import FrameResult

        return FrameResult(index, captured_at, [], [], 0, 0, 0.0)


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_frames_arrive_through_the_credential_and_faces_are_detected(rtsp_camera, auth):
    from console.vision.engine import load_engine

    camera = rtsp_camera(user="viewer", password=PASSWORD, auth=auth)
    source = open_source(f"rtsp://viewer:{QUOTED}@127.0.0.1:{camera.port}/cam")
    assert isinstance(source, RtspSource)
    source.start()
    try:
        assert wait_for(lambda: source.state is SourceState.LIVE and source.frames >= 10, 15)
        frame = newest(source)
    finally:
        source.stop()
    assert frame.image.shape == (432, 640, 3) and source.error == ""
    assert read_stamp(frame.image) is not None and stamp_age_ms(frame.image) < 10000  # the server's own stamp
    faces = load_engine().detect(frame.image)
    assert len(faces) >= 4  # the group photo's six people, after H.264 at 640 px


@pytest.mark.parametrize("auth", ["basic", "digest"])
def test_a_wrong_password_is_its_own_state_and_the_password_is_never_shown(rtsp_camera, caplog, capfd, auth):
    caplog.set_level(logging.DEBUG)
    camera = rtsp_camera(user="viewer", password=PASSWORD, auth=auth)
    wrong = f"rtsp://viewer:hunter2-{QUOTED}@127.0.0.1:{camera.port}/cam"
    none = f"rtsp://127.0.0.1:{camera.port}/cam"
    sources = [open_source(wrong), open_source(none)]
    for source in sources:
        source.backoff_start_s = 0.2
        source.start()
    try:
        assert wait_for(lambda: all(s.state is SourceState.UNAUTHORISED and s.reconnect_count >= 1 for s in sources), 15)
        errors = [s.error for s in sources]
    finally:
        for source in sources:
            source.stop()
    assert errors[0] == (f"rtsp://***@127.0.0.1:{camera.port}/cam: the camera refused the user name or password "
                         "(401 Unauthorized)")
    assert "none is configured" in errors[1]
    with pytest.raises(MediaError, match="refused the user name or password") as grabbed:
        cameras.grab_frame(wrong, timeout_s=5)
    shown = " ".join(errors) + str(grabbed.value) + caplog.text + "".join(capfd.readouterr())
    assert "hunter2" not in shown and QUOTED not in shown and "s3cr" not in shown


def test_a_cut_shows_lost_and_a_restore_brings_frames_back_without_a_restart(rtsp_camera):
    camera = rtsp_camera()
    source = RtspSource(camera.url(), read_timeout_ms=2000)
    source.backoff_start_s = 0.2
    worker = CameraWorker(source, Counting())
    source.start()
    worker.start()
    try:
        assert wait_for(lambda: source.state is SourceState.LIVE and worker.analysed > 3, 15)
        camera.cut()
        assert wait_for(lambda: source.state in (SourceState.LOST, SourceState.CONNECTING) and source.error, 10)
        assert source.reconnect_count >= 1 or source.state is SourceState.LOST
        assert "stopped sending video" in source.error or "connection refused" in source.error
        before, analysed = source.frames, worker.analysed
        camera.restore()
        assert wait_for(lambda: source.state is SourceState.LIVE and source.frames > before + 10, 15)
        assert wait_for(lambda: worker.analysed > analysed + 3, 10)  # the same recognition thread goes on
        assert source.reconnect_count >= 1 and worker._thread.is_alive() and worker.error == ""
    finally:
        source.stop()
        worker.stop()


def test_a_camera_that_never_answers_is_lost_within_the_open_timeout_and_stops_at_once(rtsp_camera):
    camera = rtsp_camera(silent=True)
    source = RtspSource(camera.url(), open_timeout_ms=2000)
    started = time.monotonic()
    source.start()
    try:
        assert wait_for(lambda: source.state is SourceState.LOST, 10)
        took = time.monotonic() - started
        assert "does not answer within 2 s" in source.error
    finally:
        stopping = time.monotonic()
        source.stop()
        stopped_in = time.monotonic() - stopping
    assert took < 2 * 2 + 2  # OpenCV's open timeout, then the probe's, with room for a slow machine
    assert stopped_in < 1.0 and not source.running

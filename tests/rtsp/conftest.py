"""A real RTSP server on loopback (GStreamer's, run by the system python): ``rtsp_camera(...)`` starts
one (credentials, digest, a silent one) and stops every one at teardown. A machine without GStreamer's
RTSP server fails these tests with the line to install it: never a skip."""

from __future__ import annotations

import pytest

from tests.rtsp.camera import RtspCamera, ServerMissing, check_gstreamer, photo_frames


@pytest.fixture(scope="session")
def gstreamer():
    try:
        check_gstreamer()
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def rtsp_frames(tmp_path_factory, gstreamer):
    return photo_frames(tmp_path_factory.mktemp("rtsp") / "frames.bgr")


@pytest.fixture
def rtsp_camera(rtsp_frames):
    started: list[RtspCamera] = []

    def make(**kwargs) -> RtspCamera:
        camera = RtspCamera(rtsp_frames, **kwargs).start()
        started.append(camera)
        return camera

    yield make
    for camera in started:
        camera.stop()


@pytest.fixture
def console_app(qapp):
    from ui.app import create_app

    return create_app()

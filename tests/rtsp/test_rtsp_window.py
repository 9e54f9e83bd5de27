"""The real operator window on a real RTSP camera (GStreamer's server on loopback, H.264 with a
password): the tile paints its decoded frames with the detector's boxes, says when the camera is cut
and why, and paints frames again once it is back - without restarting anything."""

from __future__ import annotations

import argparse
import threading

import pytest

PASSWORD = "tile-s3cret"


@pytest.fixture
def rtsp_window(qtbot, console_app, tmp_path, rtsp_camera):
    from console.services.accounts.auth import demo_account
    from console.services.setup import cameras
    from console.services.setup.demo import DEMO_SUPERVISOR, ensure_demo_deployment
    from console.store.location import open_location
    from console.vision.engine import load_engine
    from ui.app import start_window

    camera = rtsp_camera(user="viewer", password=PASSWORD)
    data = tmp_path / "data"
    store = open_location(data)
    try:  # the demo deployment, whose one camera is the RTSP one, its password kept apart
        dep = ensure_demo_deployment(store, load_engine(), cameras=0)
        cameras.add(store, demo_account(store, DEMO_SUPERVISOR), dep, "Gate RTSP", camera.url(user=""),
                    username="viewer", password=PASSWORD)
    finally:
        store.close()
    win = start_window(argparse.Namespace(data_dir=data, providers="cpu", model_pack=None), cameras=1, quiet=True)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    yield win, camera
    win.shutdown()
    leaked = [t.name for t in threading.enumerate() if t.name.startswith(("source-", "worker-")) and t.is_alive()]
    assert leaked == [], f"test left camera threads running: {leaked}"


def test_the_tile_shows_the_rtsp_camera_its_cut_and_its_return(qtbot, rtsp_window):
    win, camera = rtsp_window
    qtbot.waitUntil(lambda: len(win.tiles) == 1, timeout=30000)
    tile = win.tiles[0]
    qtbot.waitUntil(lambda: tile.state == "live" and tile.image is not None and len(tile.faces) >= 3, timeout=30000)
    assert tile.title == "Gate RTSP" and tile.frame_size == (640, 432)
    source = win.live.workers[0].source
    source.backoff_start_s = 0.2  # reconnect soon after the restore (the product starts at 1 s)

    camera.cut()
    qtbot.waitUntil(lambda: tile.state in ("lost", "connecting") and bool(tile.detail), timeout=15000)
    assert "Feed lost - reconnecting" in tile.state_text() or "Connecting" in tile.state_text()
    assert f"127.0.0.1:{camera.port}" in tile.detail and PASSWORD not in tile.detail + tile.toolTip()
    assert not tile.grab().toImage().isNull()  # painted with its reason over the last frame
    shown = tile.frame_index

    camera.restore()
    qtbot.waitUntil(lambda: tile.state == "live" and tile.frame_index != shown and len(tile.faces) >= 3, timeout=20000)
    assert tile.detail == "" and source.reconnect_count >= 1
    assert "LIVE" in tile.strip_texts()[1]


def test_a_refused_login_shows_on_the_tile_as_such_without_the_password(qtbot, rtsp_camera):
    from console.feeds.capture import open_source
    from console.pipeline.worker import CameraWorker
    from tests.rtsp.test_rtsp_cameras import Counting
    from ui.camera_grid import paint_tile
    from ui.video_tile import VideoTile

    camera = rtsp_camera(user="viewer", password=PASSWORD)
    source = open_source(camera.url(password="wrong-" + PASSWORD))
    worker = CameraWorker(source, Counting())
    tile = VideoTile("Gate RTSP")
    qtbot.addWidget(tile)
    tile.show()
    source.start()
    worker.start()
    try:
        qtbot.waitUntil(lambda: (paint_tile(tile, worker), tile.state)[1] == "unauthorised", timeout=10000)
    finally:
        source.stop()
        worker.stop()
    assert tile.state_text().startswith("Camera refused the login - retrying\n")
    assert "refused the user name or password" in tile.detail and PASSWORD not in tile.detail + tile.toolTip()
    assert "UNAUTHORISED" in tile.strip_texts()[1]

"""The real main window under pytest-qt, on the demo deployment with the real models."""

import argparse

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt

from ui.alert_model import AlertIdRole, AlertQueueModel, Column, age_text
from ui.main_window import grid_shape


@pytest.fixture
def window(qtbot, console_app, tmp_path):
    from ui.app import start_window

    args = argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None)
    win = start_window(args, cameras=1)
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.show()
    yield win
    win.shutdown()


def test_window_opens_on_the_demo_and_paints_real_detections(qtbot, window):
    qtbot.waitUntil(lambda: len(window.tiles) == 1, timeout=60000)
    tile = window.tiles[0]
    qtbot.waitUntil(lambda: tile.image is not None and len(tile.faces) > 0, timeout=60000)
    assert tile.state == "live"
    box = tile.faces[0].box
    assert box[2] > box[0] and box[3] > box[1]
    assert window.banner.text().startswith("DEMO")
    assert "Threshold 0.363" in window.status_labels["threshold"].text()
    image = window.grab().toImage()
    assert image.width() > 1000
    # The painted tile is not blank: sample its pixels.
    pix = tile.grab().toImage()
    samples = {pix.pixel(x, y) for x in range(0, pix.width(), 37) for y in range(0, pix.height(), 29)}
    assert len(samples) > 20


def test_a_demo_alert_reaches_the_queue_without_blocking(qtbot, window):
    qtbot.waitUntil(lambda: len(window.alerts.rows) >= 1, timeout=90000)
    row = window.alerts.rows[0]
    assert row["subject_name"].startswith("Demo subject")
    assert row["score"] >= row["threshold"]
    qtbot.waitUntil(lambda: window.probe.pixmap() is not None and not window.probe.pixmap().isNull(), timeout=5000)
    # Keyboard: J/K move through the queue.
    qtbot.keyClick(window, Qt.Key.Key_J)
    assert window.table.currentIndex().isValid()


def test_closing_the_window_stops_every_camera_thread(qtbot, window):
    qtbot.waitUntil(lambda: window.live is not None, timeout=60000)
    workers = list(window.live.workers)
    window.close()
    assert all(not (w._thread and w._thread.is_alive()) for w in workers)


def test_alert_model_inserts_rows_newest_first(qtbot):
    model = AlertQueueModel()
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    base = {"camera": "Cam 1", "subject_name": "A", "record_number": "R-1", "score": 0.5123,
            "stored_at": "2026-01-01T10:00:00Z"}
    model.add_alert({**base, "id": 1})
    model.add_alert({**base, "id": 2, "subject_name": "B"})
    model.add_alert({**base, "id": 2})  # duplicates are ignored
    assert model.rowCount() == 2 and inserted == [(0, 0), (0, 0)]
    first = model.index(0, Column.SUBJECT)
    assert model.data(first) == "B (R-1)" and model.data(first, AlertIdRole) == 2
    assert model.data(model.index(0, Column.SCORE)) == "0.512"
    assert model.rowCount(first) == 0 and model.columnCount(QModelIndex()) == len(Column)


def test_small_helpers():
    assert [grid_shape(n) for n in (1, 2, 4, 5, 9)] == [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3)]
    assert age_text(5) == "5 s" and age_text(75) == "1 min 15 s" and age_text(3700) == "1 h 01 min"


def test_opencv_qt_plugin_path_is_cleared(monkeypatch):
    from ui.qt_env import clear_opencv_qt_overrides

    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", "/x/site-packages/cv2/qt/plugins")
    clear_opencv_qt_overrides()
    import os

    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ


def test_bgr_frames_become_images_with_the_right_colours(console_app):
    from ui.video_tile import bgr_to_qimage

    frame = np.zeros((4, 6, 3), np.uint8)
    frame[:, :, 2] = 255  # red in BGR
    image = bgr_to_qimage(frame)
    assert (image.width(), image.height()) == (6, 4)
    assert image.pixelColor(1, 1).red() == 255 and image.pixelColor(1, 1).blue() == 0

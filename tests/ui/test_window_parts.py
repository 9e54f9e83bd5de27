"""The operator window's parts on their own: the queue's model, the grid's shape, the alert sound,
privacy pixelation, frames as images, the OpenCV plugin path (the whole window: test_main_window.py)."""

import numpy as np
from PySide6.QtCore import QModelIndex, QRectF
from PySide6.QtGui import QImage

from ui.alert_model import AgeRole, AlertIdRole, AlertQueueModel, age_text
from ui.main_window import grid_shape


def test_alert_model_orders_by_priority_then_longest_waiting(qtbot):
    model = AlertQueueModel()
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append(first))
    base = {"camera": "Cam 1", "subject_name": "A", "record_number": "R-1", "score": 0.5123, "threshold": 0.4,
            "priority": 2, "stored_at": "2026-01-01T10:00:00Z"}
    model.add_alert({**base, "id": 1})
    model.add_alert({**base, "id": 2, "stored_at": "2026-01-01T10:05:00Z"})
    model.add_alert({**base, "id": 3, "priority": 1, "stored_at": "2026-01-01T09:00:00Z"})
    model.add_alert({**base, "id": 2})  # duplicates are ignored
    assert [r["id"] for r in model.rows] == [3, 1, 2] and inserted == [0, 1, 0]
    first = model.index(0)
    assert model.data(first, AlertIdRole) == 3 and model.data(first, AgeRole) > 0
    assert model.rowCount(first) == 0 and model.rowCount(QModelIndex()) == 3
    model.acknowledge(2)
    assert [r["id"] for r in model.unacknowledged()] == [3, 1]
    model.remove_alert(3)
    assert [r["id"] for r in model.rows] == [1, 2]


def test_small_helpers():
    assert [grid_shape(n) for n in (1, 2, 4, 5, 9)] == [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3)]
    assert age_text(5) == "5 s" and age_text(75) == "1 min 15 s" and age_text(3700) == "1 h 01 min"


def test_sound_repeats_until_acknowledged(qtbot):
    from ui.app import SilentPlayer
    from ui.attention import AttentionController

    waiting = [{"id": 1, "priority": 1}]
    player = SilentPlayer()
    attention = AttentionController(lambda: list(waiting), player, tick_ms=20)
    attention.repeat_s = {1: 0.06, 2: 0.5}
    attention.start()
    try:
        attention.new_alert(1, 1)
        assert player.played == [1]
        qtbot.waitUntil(lambda: len(player.played) >= 3, timeout=3000)
        waiting.clear()  # acknowledged
        count = len(player.played)
        ticks = attention._elapsed
        qtbot.waitUntil(lambda: attention._elapsed > ticks + 0.3, timeout=3000)
        assert len(player.played) == count
        attention.muted = True
        attention.new_alert(2, 2)
        assert len(player.played) == count
    finally:
        attention.stop()


def test_privacy_mode_makes_a_face_unrecognisable(console_app):
    from ui.video_tile import bgr_to_qimage, pixelate

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    image = bgr_to_qimage(frame)
    block = pixelate(image, QRectF(40, 20, 64, 64))
    colours = {block.pixel(x, y) for x in range(64) for y in range(64)}
    assert block.size().width() == 64 and len(colours) <= 64


def test_bgr_frames_become_images_with_the_right_colours(console_app):
    from ui.video_tile import bgr_to_qimage

    frame = np.zeros((4, 6, 3), np.uint8)
    frame[:, :, 2] = 255  # red in BGR
    image = bgr_to_qimage(frame)
    assert isinstance(image, QImage) and (image.width(), image.height()) == (6, 4)
    assert image.pixelColor(1, 1).red() == 255 and image.pixelColor(1, 1).blue() == 0


def test_opencv_qt_plugin_path_is_cleared(monkeypatch):
    import os

    from ui.qt_env import clear_opencv_qt_overrides

    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", "/x/site-packages/cv2/qt/plugins")
    clear_opencv_qt_overrides()
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ

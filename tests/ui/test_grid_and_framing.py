"""The grid fits its cameras and shows any one of them alone; the adjudication frames both faces
alike and zooms them together about the faces; the alert's camera stays live beside it."""

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage

from console.feeds.source import Frame
from console.pipeline.frames import face_in_probe, probe_crop
from ui.adjudication.framing import probe_face, toggle_full
from ui.camera_grid import CameraGrid, layouts_for
from ui.zoom_view import FACE_FILL, ZoomLink, ZoomView


class Camera:
    """A worker as the grid reads it: a newest frame of one flat colour, nothing analysed."""

    def __init__(self, shade: int) -> None:
        self.recognising = True
        self.source = SimpleNamespace(state=SimpleNamespace(value="live"), fps=25.0)
        self.frame = Frame(np.full((90, 160, 3), shade, np.uint8), 1, 0.0)

    def snapshot(self):
        return SimpleNamespace(frame=self.frame, analysed=None, result=None)


@pytest.fixture
def grid(qtbot, console_app):
    g = CameraGrid()
    qtbot.addWidget(g)
    g.resize(1200, 700)
    g.show_cameras([f"Cam {n}" for n in range(1, 5)], [Camera(40 * n) for n in range(1, 5)])
    g.show()
    qtbot.waitExposed(g)
    yield g
    g.stop()


def positions(g):
    return sorted(g.grid.getItemPosition(g.grid.indexOf(t))[:2] for t in g.tiles if t.isVisibleTo(g))


def shade(tile) -> int:
    return QColor(tile.image.pixel(5, 5)).red()


def test_four_cameras_fill_a_2x2_and_no_empty_3x3_is_offered(grid):
    assert grid.layout_size == 4 and grid.layout_name() == "Layout 2x2"
    assert positions(grid) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert grid.layouts == (1, 4)  # 3x3 would leave five tiles empty
    assert [layouts_for(n) for n in (1, 2, 4, 5, 9, 12)] == [(1,), (1, 4), (1, 4), (1, 4, 9), (1, 4, 9), (1, 4, 9)]
    assert grid.cycle_layout().startswith("1 up") and grid.cycle_layout() == "Layout 2x2"


def test_1_up_picks_camera_3_and_paints_it(qtbot, grid):
    assert grid.show_one(2) == "1 up: Cam 3"
    assert [t.isVisibleTo(grid) for t in grid.tiles] == [False, False, True, False]
    assert positions(grid) == [(0, 0)]
    qtbot.waitUntil(lambda: grid.tiles[2].image is not None, timeout=3000)
    assert shade(grid.tiles[2]) == 120  # camera 3's own frames
    assert grid.tiles[0].image is None  # the cameras off screen are not painted
    assert grid.next_camera() == "1 up: Cam 4" and grid.next_camera() == "1 up: Cam 1"


def test_double_clicking_a_tile_shows_that_camera_alone_and_again_returns(qtbot, grid):
    qtbot.mouseDClick(grid.tiles[2], Qt.MouseButton.LeftButton)
    assert grid.layout_size == 1 and grid.one_up == 2 and grid.tiles[2].isVisibleTo(grid)
    qtbot.mouseDClick(grid.tiles[2], Qt.MouseButton.LeftButton)
    assert grid.layout_size == 4 and all(t.isVisibleTo(grid) for t in grid.tiles)


def test_the_alerts_camera_stays_live_in_the_small_view_while_the_grid_is_hidden(qtbot, grid):
    from PySide6.QtWidgets import QWidget

    host = QWidget()
    qtbot.addWidget(host)
    grid.mini.setParent(host)
    grid.hide()
    host.show()
    grid.follow("Cam 3")
    qtbot.waitUntil(lambda: grid.mini.image is not None, timeout=3000)
    assert shade(grid.mini) == 120 and grid.mini.title == "Cam 3"
    grid.follow("Not a camera")
    assert grid.mini.image is None and grid.mini_camera is None


def image(w: int, h: int) -> QImage:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(QColor("#445566"))
    return img


def centre_of(view: ZoomView) -> QPointF:
    return view.mapToScene(view.viewport().rect().center())


def on_screen_width(view: ZoomView) -> float:
    return view.face.width() * view.transform().m11()


@pytest.fixture
def pair(qtbot, console_app):
    probe, cand = ZoomView(), ZoomView()
    link = ZoomLink([probe, cand])
    for v in (probe, cand):
        qtbot.addWidget(v)
        v.resize(400, 400)
        v.show()
        qtbot.waitExposed(v)
    probe.set_image(image(300, 200), face=[200, 40, 260, 100])  # a face off the crop's centre
    cand.set_image(image(900, 1200), face=[300, 300, 600, 600])  # a passport-style photo, face large
    return probe, cand, link


def test_face_centred_zoom_anchors_on_each_face_box_centre(pair):
    probe, cand, _ = pair
    for view, (cx, cy) in ((probe, (230, 70)), (cand, (450, 450))):
        c = centre_of(view)
        assert abs(c.x() - cx) < 2 and abs(c.y() - cy) < 2
    # framed alike: both faces the same size on screen, whatever the photos' sizes
    assert abs(on_screen_width(probe) - on_screen_width(cand)) < 3
    assert abs(on_screen_width(cand) - FACE_FILL * 400) < 3  # the face fills its share of the view
    probe.zoom_by(2.0)  # the linked zoom: both, about their faces
    assert cand.zoom == pytest.approx(2.0)
    for view, (cx, cy) in ((probe, (230, 70)), (cand, (450, 450))):
        c = centre_of(view)
        assert abs(c.x() - cx) < 2 and abs(c.y() - cy) < 2


def test_f_shows_the_whole_photos_and_back(pair):
    probe, cand, _ = pair
    assert toggle_full([probe, cand]) is True
    assert abs(centre_of(cand).x() - 450) < 4 and abs(centre_of(cand).y() - 600) < 4  # the photo's centre (1 px)
    assert cand.transform().m11() == pytest.approx(400 / 1200, rel=0.02)  # the whole photo fits
    assert toggle_full([probe, cand]) is False
    assert abs(centre_of(cand).y() - 450) < 2 and abs(on_screen_width(cand) - on_screen_width(probe)) < 3


def test_the_probes_face_box_is_where_the_crop_put_it(console_app):
    frame = np.zeros((360, 640, 3), np.uint8)
    box = np.array([600.0, 100.0, 630.0, 140.0])  # near the right edge: the crop is clipped
    crop = probe_crop(frame, box)
    face = face_in_probe(frame.shape, box)
    assert face[2] <= crop.shape[1] and (face[0] + face[2]) / 2 > crop.shape[1] / 2 + 3  # right of the crop's centre
    detail = SimpleNamespace(quality={"probe_box": face})
    assert probe_face(detail, image(crop.shape[1], crop.shape[0])) == face
    old = SimpleNamespace(quality={})  # an alert from before the box was recorded: the centre
    assert probe_face(old, image(160, 160)) == [30.0, 30.0, 130.0, 130.0]  # 160 / 1.6 = 100 px


def test_an_open_alert_keeps_its_camera_live_beside_it_and_f_shows_whole_photos(qtbot, console_app, tmp_path):
    """The real demo window: the grid is hidden behind the adjudication, its camera is not."""
    import argparse

    from ui.app import start_window

    win = start_window(argparse.Namespace(data_dir=tmp_path / "data", providers="cpu", model_pack=None), cameras=1,
                       quiet=True)
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    try:
        qtbot.waitUntil(lambda: len(win.alerts.rows) >= 1, timeout=90000)
        win.review.open(win.alerts.rows[0]["id"])
        qtbot.waitUntil(lambda: win.view.detail is not None and win.center.currentWidget() is win.view, timeout=10000)
        mini = win.grid_host.mini
        assert mini.isVisible() and not win.grid_host.isVisible() and mini.title == win.view.detail.camera
        first = mini.frame_index
        qtbot.waitUntil(lambda: mini.image is not None and mini.frame_index > max(first, 0), timeout=10000)
        assert win.view.probe_view.face is not None and win.view.cand_view.face is not None  # both framed on faces
        # The alert was stored before its context frame (bystanders blurred after it): the frame follows.
        qtbot.waitUntil(lambda: win.view.images.get("context") is not None, timeout=15000)
        assert win.view.context_caption.text() == "Where: the whole frame"
        qtbot.keyClick(win, Qt.Key.Key_F)
        assert win.view.probe_view.full and win.view.cand_view.full
    finally:
        win.shutdown()


def test_new_photos_and_layout_changes_are_not_taken_for_a_pan(qtbot):
    """The scroll bars move when a photo is set or the view is laid out; only a hand drag is a pan.
    (Taken for one, they sent both linked photos off their faces, into a corner.)"""
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from ui.zoom_view import ZoomLink, ZoomView

    def photo(w: int, h: int) -> QImage:
        img = QImage(w, h, QImage.Format.Format_RGB888)
        img.fill(QColor("gray"))
        return img

    holder = QWidget()
    row = QHBoxLayout(holder)
    probe, cand = ZoomView(), ZoomView()
    row.addWidget(probe)
    row.addWidget(cand)
    ZoomLink([probe, cand], holder)
    qtbot.addWidget(holder)
    holder.resize(380, 140)
    holder.show()
    qtbot.waitExposed(holder)
    for _ in range(3):  # alert after alert, as the adjudication view sets them
        probe.set_image(photo(173, 172), face=[47.9, 32.3, 126.3, 140.1])
        cand.set_image(photo(112, 112), face=[13.6, 0.0, 89.6, 112.0])
    holder.resize(940, 450)
    qtbot.wait(50)
    for view in (probe, cand):
        assert view.offset == (0.0, 0.0)
        centre, face = view.mapToScene(view.viewport().rect().center()), view.face.center()
        assert abs(centre.x() - face.x()) < 3 and abs(centre.y() - face.y()) < 3

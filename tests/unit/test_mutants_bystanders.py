"""The bystander blur's rules (console/vision/bystanders.py), line by line (issue 32's mutation
check), with a detector that answers what it is told: overlap and "same face", the torso below the
alerted face, the tiles and scales of the search, and what covering a face does to its pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from console.vision import bystanders as bs
from console.vision.types import Detection


def _frame(h: int = 120, w: int = 160) -> np.ndarray:
    """Texture everywhere, so that any change to a pixel shows."""
    return (np.indices((h, w)).sum(axis=0) % 7 * 30 + 10).astype(np.uint8)[:, :, None].repeat(3, axis=2)


class Told:
    """A detector that answers ``hits`` at the frame's own size and records what it was shown."""

    def __init__(self, hits=(), size=None) -> None:
        self.hits, self.size, self.seen = list(hits), size, []

    def detect(self, image):
        self.seen.append(image.copy())
        if self.size is not None and image.shape[:2] != self.size:
            return []
        return [Detection(np.array(box, np.float32), np.zeros((5, 2), np.float32), score) for box, score in self.hits]


def test_overlap_is_intersection_over_union_exactly():
    a, b = np.array([1, 2, 5, 10], np.float32), np.array([3, 4, 8, 12], np.float32)
    assert bs._iou(a, b) == pytest.approx(12 / (32 + 40 - 12))
    assert bs._iou(b, a) == pytest.approx(0.2)
    assert bs._iou(np.array([0, 0, 10, 10]), np.array([0, 20, 10, 30])) == 0.0  # apart in y only
    assert bs._iou(np.array([0, 0, 10, 10]), np.array([20, 0, 30, 10])) == 0.0  # apart in x only
    assert bs._iou(np.array([0, 0, 10, 10]), np.array([10, 0, 20, 10])) == 0.0  # touching
    assert bs._iou(np.array([0, 0, 10, 10]), np.array([9.5, 0, 19.5, 10])) == pytest.approx(5 / 195)
    assert bs._iou(np.array([0, 0, 10, 10]), np.array([0, 9.5, 10, 19.5])) == pytest.approx(5 / 195)


def test_a_centre_on_the_edge_is_inside():
    outer = np.array([0, 0, 10, 10], np.float32)
    for box in ([-2, 2, 2, 4], [8, 2, 12, 4], [2, -2, 4, 2], [2, 8, 4, 12]):
        assert bs._centre_in(np.array(box, np.float32), outer), box


def test_same_face_by_overlap_at_the_limit_or_by_either_centre(monkeypatch):
    a, b = np.array([0, 0, 10, 10], np.float32), np.array([6, 0, 16, 10], np.float32)  # centres outside each other
    monkeypatch.setattr(bs, "SAME_FACE_IOU", bs._iou(a, b))
    assert bs.same_face(a, b)  # exactly at the limit
    small, big = np.array([1, 1, 5, 5], np.float32), np.array([0, 0, 40, 40], np.float32)  # in big's corner
    monkeypatch.setattr(bs, "SAME_FACE_IOU", 0.3)
    assert bs.same_face(small, big) and bs.same_face(big, small)
    assert not bs.same_face(np.array([0, 0, 10, 10], np.float32), np.array([30, 0, 40, 10], np.float32))


def test_the_torso_is_below_the_face_as_wide_as_the_shoulders_and_stops_at_the_frame():
    face = np.array([100, 50, 140, 100], np.float32)  # 40 wide, 50 high
    torso = bs.torso_box(face, (1000, 300, 3))
    assert torso.dtype == np.float32 and torso.tolist() == pytest.approx([76, 100, 164, 250])
    assert bs.torso_box(face, (200, 300, 3)).tolist() == pytest.approx([76, 100, 164, 200])  # frame's height


def test_tiles_exactly():
    assert bs._spans(bs.TILE) == [(0, bs.TILE)]
    assert bs._spans(3000) == [(0, 1580), (1420, 3000)]


def test_the_most_confident_hit_of_a_face_is_kept():
    weak, strong = np.array([0, 0, 10, 10], np.float32), np.array([1, 1, 11, 11], np.float32)
    [(box, score)] = bs._merge([(weak, 0.4), (strong, 0.9)])
    assert score == 0.9 and box is strong


def test_a_pass_shows_the_detector_each_tile_and_maps_its_boxes_back():
    image = np.zeros((100, 3000, 3), np.uint8)
    det = Told([([10, 10, 20, 20], 0.9)])
    found = bs.BystanderBlur(det)._pass(image, 1.0)
    assert [f[0].tolist() for f in found] == [[10, 10, 20, 20], [1430, 10, 1440, 20]]
    assert all(f[0].dtype == np.float32 for f in found)
    assert [s.shape for s in det.seen] == [(100, 1580, 3), (100, 1580, 3)]


def test_a_pass_resizes_down_by_area_and_up_bilinearly_and_never_to_nothing():
    image = np.random.default_rng(1).integers(0, 255, (60, 80, 3)).astype(np.uint8)
    det = Told()
    blur = bs.BystanderBlur(det)
    blur._pass(image, 0.3)  # (at exactly 0.5 both ways average the same 2x2 pixels)
    assert np.array_equal(det.seen[-1], cv2.resize(image, (24, 18), interpolation=cv2.INTER_AREA))
    assert not np.array_equal(det.seen[-1], cv2.resize(image, (24, 18), interpolation=cv2.INTER_LINEAR))
    blur._pass(image, 2.0)
    assert np.array_equal(det.seen[-1], cv2.resize(image, (160, 120), interpolation=cv2.INTER_LINEAR))
    blur._pass(np.zeros((1, 3, 3), np.uint8), 0.4)
    assert det.seen[-1].shape == (1, 1, 3)


def test_an_upscaled_pass_keeps_only_the_small_faces_it_is_for():
    image = np.zeros((100, 200, 3), np.uint8)
    limit = bs.UPSCALED_MAX_FACE
    hits = [([0, 40, 2 * limit, 60], 0.9), ([0, 100, 2 * limit + 2, 120], 0.9)]  # 48 and 49 px in the frame
    found = bs.BystanderBlur(Told(hits))._pass(image, bs.UPSCALE)
    assert [f[0].tolist() for f in found] == [[0, 20, limit, 30]]


@pytest.mark.parametrize("bad", [None, np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((0, 0, 3), np.uint8)])
def test_find_faces_wants_a_bgr_image(bad):
    with pytest.raises(ValueError) as caught:
        bs.BystanderBlur(Told()).find_faces(bad)
    assert str(caught.value) == "find_faces() needs a BGR image of shape (h, w, 3)"


def test_a_large_frame_is_also_searched_whole_at_640_a_small_one_only_at_its_size_and_twice_it():
    det = Told()
    bs.BystanderBlur(det).find_faces(np.zeros((720, 1280, 3), np.uint8))
    assert det.seen[0].shape[:2] == (360, 640) and det.seen[1].shape[:2] == (720, 1280)
    assert {s.shape[:2] for s in det.seen[2:]} == {(1440, 1360)}  # twice its size, as two tiles
    det = Told()
    bs.BystanderBlur(det).find_faces(np.zeros((480, 640, 3), np.uint8))  # 640 on its longer side: no overview
    assert [s.shape[:2] for s in det.seen] == [(480, 640), (960, 1280)]


def _flat(out, box) -> bool:
    x1, y1, x2, y2 = (int(v) for v in box)
    return len(np.unique(out[y1:y2, x1:x2].reshape(-1, 3), axis=0)) == 1


def test_a_covered_face_is_one_flat_colour_to_its_corners_even_at_the_frames_edge():
    for box in ([30, 20, 70, 70], [0, 0, 30, 40], [130, 80, 160, 120]):
        out = _frame()
        bs._cover(out, np.array(box, np.float32))
        assert _flat(out, box), box


def test_covering_a_box_outside_the_frame_touches_nothing():
    for box in ([104, 10, 110, 20], [10, 124, 20, 130], [1000, 10, 1010, 20]):
        out = _frame(120, 100)
        bs._cover(out, np.array(box, np.float32))
        assert np.array_equal(out, _frame(120, 100)), box


def test_with_no_alerted_face_every_face_is_covered():
    frame = _frame()
    hits = [([10, 10, 30, 30], 0.9), ([100, 10, 120, 30], 0.5)]
    out, covered = bs.BystanderBlur(Told(hits, frame.shape[:2])).blur(frame, None)
    assert covered == 2 and _flat(out, [10, 10, 30, 30]) and _flat(out, [100, 10, 120, 30])


def test_a_hit_on_the_alerted_persons_body_at_the_detectors_own_threshold_is_a_face():
    frame = _frame(200, 200)
    alerted = (80, 10, 120, 60)
    chest = ([90, 80, 110, 100], bs.TORSO_SCORE)
    out, covered = bs.BystanderBlur(Told([(alerted, 0.9), chest], frame.shape[:2])).blur(frame, alerted)
    assert covered == 1 and _flat(out, chest[0])


def test_the_alerted_face_is_restored_to_its_first_row_and_column_after_a_neighbours_blur():
    frame = _frame(120, 160)
    alerted = (0, 0, 20, 20)
    below, beside = ([2, 25, 18, 45], 0.9), ([24, 0, 40, 16], 0.9)  # their covers reach into the alerted face
    out, covered = bs.BystanderBlur(Told([(alerted, 0.9), below, beside], frame.shape[:2])).blur(frame, alerted)
    assert covered == 2
    assert np.array_equal(out[0:20, 0:20], frame[0:20, 0:20])

"""Head pose from five landmarks: known rotations of 3D faces are read back, without the old
saturation at "90 deg" for a three-quarter view, and real frontal photos read near frontal."""

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from console.vision.align import ARCFACE_TEMPLATE
from console.vision.engine import describe_faces, largest_face
from console.vision.pose import MEAN_FACE, project
from console.vision.quality import estimate_pose

YAWS = list(range(0, 85, 5))


def _landmarks(model, yaw, pitch=0.0, roll=0.0, scale=40.0, at=(320.0, 240.0)):
    """Image landmarks of a 3D model turned by the angles in degrees, 40 px between the eyes."""
    return project(model, math.radians(yaw), math.radians(pitch), math.radians(roll)) * scale + np.array(at)


def _independent_face() -> np.ndarray:
    """Five points of a mean 3D face made elsewhere (insightface's 68-point mean shape): eye centres
    (means of the eye contours), nose tip, mouth corners; origin at the eye midpoint, eye distance 1."""
    insightface = pytest.importorskip("insightface")
    path = Path(insightface.__file__).parent / "data" / "objects" / "meanshape_68.pkl"
    with open(path, "rb") as f:
        m = np.asarray(pickle.load(f), dtype=np.float64)
    five = np.stack([m[36:42].mean(0), m[42:48].mean(0), m[30], m[48], m[54]])
    five = five - (five[0] + five[1]) / 2
    return five / np.linalg.norm(five[1] - five[0])


@pytest.mark.parametrize("pitch", [-20.0, 0.0, 15.0])
@pytest.mark.parametrize("roll", [0.0, 20.0])
def test_the_model_turned_through_known_angles_is_read_back(pitch, roll):
    for sign in (1, -1):
        for yaw in YAWS:
            got = estimate_pose(_landmarks(MEAN_FACE, sign * yaw, pitch, roll))
            assert got == pytest.approx((sign * yaw, pitch, roll), abs=0.5), (yaw, pitch, roll, got)


def test_yaw_grows_smoothly_past_45_degrees_instead_of_saturating():
    yaws = [estimate_pose(_landmarks(MEAN_FACE, y))[0] for y in YAWS]
    steps = np.diff(yaws)
    assert (steps > 3.5).all() and (steps < 6.5).all()  # about 5 deg per 5 deg, all the way to 80
    assert 42 < yaws[YAWS.index(45)] < 48 and yaws[-1] < 85  # a three-quarter view reads ~45, not 90
    # The nose at one eye is where the old asin estimate read 90 deg: here a three-quarter view.
    nose_at_eye = next(y for y in range(0, 90) if _landmarks(MEAN_FACE, y)[2, 0] >= _landmarks(MEAN_FACE, y)[1, 0])
    assert 40 <= nose_at_eye <= 55
    assert estimate_pose(_landmarks(MEAN_FACE, nose_at_eye))[0] == pytest.approx(nose_at_eye, abs=0.5)


def test_an_independent_mean_face_is_read_within_six_degrees_and_in_order():
    """Model error: another project's mean shape (other depths, another nose point) turned through
    known yaws. Its nose landmark sits higher than YuNet's, so it reads as tipped up; that offset is
    the same at every yaw and not what is tested here."""
    face = _independent_face()
    read = [estimate_pose(_landmarks(face, y)) for y in YAWS]
    yaws = np.array([r[0] for r in read])
    assert np.abs(yaws - YAWS).max() < 6.0, yaws.round(1)
    assert (np.diff(yaws) > 0).all()
    for y in (30, 60):  # and the other way round
        assert estimate_pose(_landmarks(face, -y))[0] == pytest.approx(-estimate_pose(_landmarks(face, y))[0],
                                                                       abs=1.5)


def test_a_different_head_shape_scales_yaw_but_keeps_it_in_order():
    """A flatter or a longer nose than the model's (depth 0.40 or 0.70 eye distances instead of 0.55)."""
    for depth, lo, hi in ((0.40, 0.6, 0.95), (0.70, 1.05, 1.35)):
        face = MEAN_FACE.copy()
        face[2, 2] = depth
        yaws = np.array([estimate_pose(_landmarks(face, y))[0] for y in YAWS[1:]])
        assert (np.diff(yaws) > 0).all()
        ratio = yaws[:8] / np.array(YAWS[1:9])  # up to 40 deg; past it the eyes carry more of the turn
        assert (lo < ratio).all() and (ratio < hi).all(), ratio.round(2)


def test_noisy_landmarks_of_small_faces_still_give_yaw_in_order():
    """Landmark noise of 5% of the eye distance (0.5 px on a face with 10 px between the eyes)."""
    rng = np.random.default_rng(7)
    means = []
    for y in range(0, 80, 10):
        reads = [estimate_pose(_landmarks(MEAN_FACE, y, scale=10.0) + rng.normal(0, 0.5, (5, 2)))[0]
                 for _ in range(40)]
        assert np.isfinite(reads).all()
        means.append(float(np.median(reads)))
    assert (np.diff(means) > 3).all()
    assert np.abs(np.array(means) - np.arange(0, 80, 10)).max() < 6


def test_degenerate_landmarks_give_finite_angles():
    for pts in (np.zeros((5, 2)), np.full((5, 2), np.nan), np.array([[0, 0], [10, 0], [5, 0], [0, 0], [10, 0.0]])):
        assert all(math.isfinite(v) and abs(v) <= 90 for v in estimate_pose(pts))


def test_the_template_reads_frontal():
    yaw, pitch, roll = estimate_pose(ARCFACE_TEMPLATE)
    assert abs(yaw) < 1 and abs(roll) < 1 and abs(pitch) < 10


def test_real_frontal_photos_read_near_frontal(engine, photos):
    """YuNet's own landmarks wobble by several degrees (a mirror image of img21 reads -8.7 against
    +2.3), so each photo is held to 15 deg and their mean to 8."""
    yaws = []
    for name in ("img16.jpg", "img17.jpg", "img20.jpg", "img21.jpg"):
        yaw, pitch, roll = estimate_pose(largest_face(describe_faces(engine, photos(name))).detection.landmarks)
        assert abs(yaw) < 15 and abs(roll) < 10 and abs(pitch) < 20, (name, yaw, pitch, roll)
        yaws.append(abs(yaw))
    assert np.mean(yaws) < 8

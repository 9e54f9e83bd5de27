"""Detection, alignment, embedding and quality on real photos with the bundled models."""

import cv2
import numpy as np
import pytest

from console.vision.align import ARCFACE_TEMPLATE, alignment_matrix, similarity_transform
from console.vision.engine import describe_faces, largest_face
from console.vision.quality import QualityGate, estimate_pose


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 200, size=(5, 2))
    angle, scale, shift = np.radians(17), 0.7, np.array([12.0, -5.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)


def test_alignment_agrees_with_insightface():
    face_align = pytest.importorskip("insightface.utils.face_align")
    lm = np.array([[130.0, 160.0], [190.0, 150.0], [165.0, 190.0], [140.0, 230.0], [192.0, 222.0]])
    np.testing.assert_allclose(alignment_matrix(lm), face_align.estimate_norm(lm, 112), atol=1e-4)


def test_aligned_crop_puts_landmarks_on_the_template(engine, photos):
    image = photos("img20.jpg")
    det = largest_face(describe_faces(engine, image)).detection
    m = alignment_matrix(det.landmarks)
    mapped = det.landmarks @ m[:, :2].T + m[:, 2]
    # Five real landmarks never fit the template exactly, but each lands within a few pixels.
    assert np.abs(mapped - ARCFACE_TEMPLATE).max() < 6.0
    crop = engine.align(image, det)
    assert crop.shape == (112, 112, 3)
    # The detector finds the face again in its own aligned crop, eyes where the template puts them.
    again = engine.detect(cv2.copyMakeBorder(crop, 40, 40, 40, 40, cv2.BORDER_CONSTANT))
    assert again and np.abs(again[0].landmarks[:2] - 40 - ARCFACE_TEMPLATE[:2]).max() < 6.0


def test_detector_finds_every_face_in_a_group_photo(engine, group_photo):
    dets = engine.detect(group_photo)
    assert len(dets) == 6
    for d in dets:
        assert d.score >= 0.6 and d.landmarks.shape == (5, 2)
        # Landmarks lie inside their box.
        assert (d.landmarks[:, 0] >= d.box[0] - 2).all() and (d.landmarks[:, 0] <= d.box[2] + 2).all()


def test_detector_finds_nothing_in_an_empty_scene(engine):
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
    assert engine.detect(noise) == []
    assert engine.detect(np.zeros((480, 640, 3), np.uint8)) == []


def test_detector_rejects_what_is_not_an_image(engine):
    with pytest.raises(ValueError):
        engine.detect(np.zeros((10, 10), np.uint8))


def test_same_person_scores_above_threshold_and_different_below(engine, photos):
    emb = {n: largest_face(describe_faces(engine, photos(n))).embedding for n in
           ("img16.jpg", "img17.jpg", "img20.jpg", "img21.jpg")}
    t = engine.default_threshold
    same = [emb["img16.jpg"] @ emb["img17.jpg"], emb["img20.jpg"] @ emb["img21.jpg"]]
    diff = [emb[a] @ emb[b] for a in ("img16.jpg", "img17.jpg") for b in ("img20.jpg", "img21.jpg")]
    assert min(same) > t + 0.1
    assert max(diff) < t - 0.1
    for e in emb.values():
        assert e.shape == (128,) and abs(np.linalg.norm(e) - 1) < 1e-4


def test_batched_embedding_equals_one_at_a_time(engine, group_photo):
    dets = engine.detect(group_photo)
    crops = [engine.align(group_photo, d) for d in dets]
    batch = engine.embed(crops)
    single = np.concatenate([engine.embed([c]) for c in crops])
    np.testing.assert_allclose(batch, single, atol=1e-4)
    assert engine.embed([]).shape == (0, 128)


def test_good_photo_passes_the_quality_gate(engine, photos):
    face = largest_face(describe_faces(engine, photos("img21.jpg")))
    assert face.quality.passed, face.quality.reasons
    assert face.quality.score > 0.7
    assert abs(face.quality.yaw) < 25 and abs(face.quality.roll) < 15


def _tiny(image, fx):
    tiny = cv2.resize(image, None, fx=fx, fy=fx, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 120, np.uint8)
    canvas[200 : 200 + tiny.shape[0], 300 : 300 + tiny.shape[1]] = tiny
    return canvas


def test_a_small_face_is_searched_with_a_margin_and_a_tinier_one_not_at_all(engine, photos):
    image = photos("img21.jpg")  # 110 px between the eyes
    small = describe_faces(engine, _tiny(image, 0.08))  # about 9 px: between the floor (8) and the limit (12)
    assert small, "the detector should still find the small face"
    q = small[0].quality
    assert q.passed and not q.good and 0 < q.margin <= 0.1
    assert any("too small" in r and "needs 12" in r for r in q.reasons), q.reasons
    tinier = describe_faces(engine, _tiny(image, 0.07))  # about 7.5 px: under the floor
    assert tinier, "the detector should still find the tinier face"
    q = tinier[0].quality
    assert not q.passed and q.margin == 0
    assert any("too small" in r and "not searched" in r for r in q.reasons), q.reasons
    # A face at the good-view limit or above needs no margin.
    big = largest_face(describe_faces(engine, image)).quality
    assert big.passed and big.good and big.margin == 0 and big.reasons == ()


def test_a_blurred_face_needs_a_margin_and_one_with_no_detail_left_is_not_searched(engine, photos):
    image = photos("img21.jpg")
    face = largest_face(describe_faces(engine, cv2.GaussianBlur(image, (0, 0), 8)))
    assert face is not None and face.quality.passed and face.quality.margin > 0
    assert any("blurred" in r and "needs 20" in r for r in face.quality.reasons)
    sharp = largest_face(describe_faces(engine, image))
    assert face.quality.score < sharp.quality.score
    # The aligned crop itself smoothed until almost nothing of the face is left: below the floor.
    smooth = cv2.GaussianBlur(sharp.crop, (0, 0), 8)
    q = engine.assess(sharp.detection, smooth)
    assert q.sharpness < QualityGate().floor_sharpness and not q.passed
    assert any("blurred" in r and "not searched" in r for r in q.reasons)


def test_a_gate_from_old_settings_keeps_its_limits_as_good_view_limits_and_gets_floors():
    gate = QualityGate.from_dict({"min_eye_distance_px": 14, "max_yaw_deg": 30, "no_such_key": 1})
    assert (gate.min_eye_distance_px, gate.max_yaw_deg, gate.floor_eye_distance_px, gate.floor_yaw_deg) == (
        14, 30, 8, 75)
    loose = QualityGate.from_dict({"min_eye_distance_px": 6})  # looser than the default floor: kept as it was
    assert loose.floor_eye_distance_px == 6
    assert QualityGate.from_dict(gate.as_dict()) == gate


def test_rolled_head_is_measured(engine, photos):
    """Roll grows with in-plane rotation. YuNet's landmarks lag behind large rotations
    (about half of a 50 deg turn, in OpenCV's own runtime too), so only the trend is held."""
    image = photos("img21.jpg")
    h, w = image.shape[:2]
    big = cv2.copyMakeBorder(image, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_REPLICATE)
    rolls = []
    for angle in (0, 25, 50):
        rot = cv2.warpAffine(big, cv2.getRotationMatrix2D((big.shape[1] / 2, big.shape[0] / 2), angle, 1.0),
                             (big.shape[1], big.shape[0]))
        face = largest_face(describe_faces(engine, rot))
        assert face is not None
        rolls.append(abs(face.quality.roll))
        strict = engine.assess(face.detection, face.crop, QualityGate(max_roll_deg=10))
    assert rolls[0] < 5 < rolls[1] < rolls[2]
    assert any("rolled" in r for r in strict.reasons)


def test_face_cut_by_the_frame_edge_fails_the_gate(engine, photos):
    image = photos("img21.jpg")
    det = largest_face(describe_faces(engine, image)).detection
    x_mid = int((det.box[0] + det.box[2]) / 2)
    cut = np.ascontiguousarray(image[:, x_mid - int(det.width * 0.45):])
    faces = describe_faces(engine, cut)
    if faces:  # the detector may or may not find half a face; if it does, it must not pass
        q = engine.assess(faces[0].detection, faces[0].crop, QualityGate(), cut.shape)
        assert "face cut off by the frame edge" in q.reasons


def test_pose_of_the_template_is_frontal():
    yaw, pitch, roll = estimate_pose(ARCFACE_TEMPLATE)
    assert abs(yaw) < 5 and abs(roll) < 2 and abs(pitch) < 15
    # The nose moved to one eye while the eyes stay a frontal width apart: no real head looks like
    # that, and the 3D fit reads it as a clear turn to that side (the old asin estimate read 90 deg
    # here, as it did for every three-quarter view; known rotations are in test_pose.py).
    turned = ARCFACE_TEMPLATE.copy()
    turned[2, 0] = ARCFACE_TEMPLATE[1, 0] - 3
    assert 30 < estimate_pose(turned)[0] < 60
    turned[2, 0] = ARCFACE_TEMPLATE[0, 0] + 3
    assert -60 < estimate_pose(turned)[0] < -30

"""Exported context frames, checked without the detector that blurred them.

``blur_bystanders`` finds faces with YuNet; a test that asks YuNet whether the faces are gone
would share its blind spots. Here the six faces of the group photo are boxes found by eye
(see FACES), and a face counts as blurred when the high-frequency energy of its inner region
(the variance of the Laplacian: eyes, nose and mouth edges) has all but vanished, while the
alerted face and the rest of the scene keep theirs, pixel for pixel up to JPEG re-encoding.
"""

import cv2
import numpy as np
import pytest

from console.services.accounts.auth import actor_for
from console.services.decisions import case_file
from console.store import repo
from tests.factories import small_deployment

# The faces of tests/conftest.py's group_photo (insightface's t1.jpg, 1280x886), as
# (x1, y1, x2, y2) from brow to chin and ear to ear. Found by eye: the photo was drawn with a
# 100-pixel grid, each box read off it, drawn on the photo and adjusted until it framed the face.
# Not from any detector.
FACES = {
    "woman, left, holding cards": (65, 270, 160, 385),
    "woman, standing behind": (275, 150, 380, 262),
    "man, centre, dark shirt": (468, 262, 590, 395),
    "man, laughing, red shirt": (748, 335, 870, 458),
    "man, standing, right": (908, 60, 1030, 190),
    "woman, right": (1135, 275, 1240, 400),
}
ALERTED = "man, centre, dark shirt"
SCENE = (500, 650, 700, 800)  # poker chips on the table: no face, plenty of edges


def _inner(box, margin=0.2):
    x1, y1, x2, y2 = box
    dx, dy = int((x2 - x1) * margin), int((y2 - y1) * margin)
    return x1 + dx, y1 + dy, x2 - dx, y2 - dy


def _crop(image, box):
    x1, y1, x2, y2 = box
    return image[y1:y2, x1:x2]


def _detail(image, box) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(_crop(image, box), cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


@pytest.fixture
def exported(store, engine, group_photo, tmp_path):
    """The group photo as an alert's context frame, exported with the alerted face's box."""
    assert group_photo.shape[:2] == (886, 1280)  # the photo the boxes were read from
    d = small_deployment(store)
    ok, buf = cv2.imencode(".jpg", group_photo, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    alert = repo.insert_alert(store, repo.AlertRecord(
        d.deployment_id, d.camera_id, 1, [(d.entry_id, d.image_id, 0.7)], 0.4, "m", list(FACES[ALERTED]), {},
        b"p", buf.tobytes(), "2026-01-01T09:00:00Z"))
    files = case_file.export_alert(store, actor_for(store, "sup"), alert, tmp_path / "case", engine=engine)
    context = next(p for p in files if p.name.endswith("context.jpg"))
    original = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    out = cv2.imread(str(context))
    assert out is not None and out.shape == original.shape
    return original, out


def test_every_bystanders_face_loses_its_detail(exported):
    original, out = exported
    for name, box in FACES.items():
        if name == ALERTED:
            continue
        core = _inner(box)
        before, after = _detail(original, core), _detail(out, core)
        assert before > 50, name  # a face with features to lose
        assert after < before / 20, (name, before, after)
        changed = np.abs(_crop(original, core).astype(int) - _crop(out, core)).mean()
        assert changed > 20, (name, changed)


def test_the_alerted_face_and_the_scene_are_left_as_they_were(exported):
    original, out = exported
    for box in (FACES[ALERTED], SCENE):
        diff = np.abs(_crop(original, box).astype(int) - _crop(out, box))
        assert diff.mean() < 2 and diff.max() < 32, box  # JPEG re-encoding only
        ratio = _detail(out, box) / _detail(original, box)
        assert 0.8 < ratio < 1.25, (box, ratio)


# -- no engine given: the export loads a detector itself, or refuses ---------------------------
TWO = (440, 220, 900, 500)  # a cut of the group photo holding two faces: the alerted man and one other
ALERTED_IN_TWO = (468 - 440, 262 - 220, 590 - 440, 395 - 220)
BYSTANDER_IN_TWO = (748 - 440, 335 - 220, 870 - 440, 458 - 220)


@pytest.fixture
def two_faces(store, group_photo):
    x1, y1, x2, y2 = TWO
    frame = np.ascontiguousarray(group_photo[y1:y2, x1:x2])
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    d = small_deployment(store)
    alert = repo.insert_alert(store, repo.AlertRecord(
        d.deployment_id, d.camera_id, 1, [(d.entry_id, d.image_id, 0.7)], 0.4, "m", list(ALERTED_IN_TWO), {},
        b"p", buf.tobytes(), "2026-01-01T09:00:00Z"))
    return store, alert, cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _logged_exports(store):
    import json

    return [json.loads(r["details_json"]) for r in
            store.query("SELECT details_json FROM audit_log WHERE action = 'alert.exported' ORDER BY seq")]


def test_an_export_without_an_engine_still_blurs_the_bystander(two_faces, tmp_path):
    store, alert, original = two_faces
    files = case_file.export_alert(store, actor_for(store, "sup"), alert, tmp_path / "case")  # engine=None
    out = cv2.imread(str(next(p for p in files if p.name.endswith("context.jpg"))))
    core = _inner(BYSTANDER_IN_TWO)
    assert _detail(out, core) < _detail(original, core) / 20
    diff = np.abs(_crop(original, ALERTED_IN_TWO).astype(int) - _crop(out, ALERTED_IN_TWO))
    assert diff.mean() < 2
    logged = _logged_exports(store)
    assert len(logged) == 1 and logged[0]["blurring"] is True and logged[0]["bystanders_blurred"] == 1


def test_an_export_that_cannot_load_a_detector_is_refused_whole(two_faces, tmp_path, monkeypatch):
    from console.errors import ConsoleError, ModelError
    from console.vision import bystanders

    def broken(*_a, **_k):
        raise ModelError("the face detector model file is missing")

    monkeypatch.setattr(bystanders, "shared_blur", broken)
    store, alert, _ = two_faces
    with pytest.raises(ConsoleError, match="blur.*detector model file is missing"):
        case_file.export_alert(store, actor_for(store, "sup"), alert, tmp_path / "case")
    assert not (tmp_path / "case").exists() or list((tmp_path / "case").iterdir()) == []
    assert _logged_exports(store) == []


def test_an_export_whose_context_frame_cannot_be_read_is_refused(store, tmp_path, engine):
    from console.errors import ConsoleError

    d = small_deployment(store)
    alert = d.alert()  # a context frame of three bytes: nothing to find faces in, so no way to blur
    with pytest.raises(ConsoleError, match="blur"):
        case_file.export_alert(store, actor_for(store, "sup"), alert, tmp_path / "case", engine=engine)
    assert not (tmp_path / "case").exists() or list((tmp_path / "case").iterdir()) == []
    assert _logged_exports(store) == []

"""Bystanders' faces are made unrecognisable at capture, before the context frame is stored.

The scene: real faces (the bundled test photos, the demo's photos, the six people of the group
photo) pasted at 20, 16 and 13 px wide into a 1280x720 frame with no face of its own, around one
alerted face 120 px wide. It goes through the live recognition step, which raises the alert and
stores the context frame; then each face is judged in the stored frame by means other than the
detector that blurred it:

- recognition: the face is aligned from where it was pasted (its landmarks carried over from the
  source photo, not detected) and embedded with SFace, the product's recogniser; its similarity
  to the same face in the full-size source photo must fall below the recogniser's published
  threshold (0.363, the lowest floor any deployment can run at);
- detail: the variance of the Laplacian inside the face (eyes, nose, mouth edges) must all but
  vanish.
The alerted face must still match its watchlist photo as before.
"""

import cv2
import numpy as np
import pytest

from console.feeds.demo_media import demo_subjects, read_image
from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings
from console.vision.align import align_face
from console.vision.engine import SFACE_DEFAULT_THRESHOLD

SIZES = (20, 16, 13)  # face box width in the stored frame, px
ALERTED_WIDTH = 120
ALERTED_AT = (580, 180)  # top-left of the pasted crop


def _face(engine, image):
    det = max(engine.detect(image), key=lambda d: d.width)
    return image, det, engine.embed([align_face(image, det.landmarks)])[0]


def _paste(scene, face, width, at):
    """Paste ``face`` (image, detection, embedding) with its box ``width`` px wide and its top-left
    crop corner at ``at``; return the face's box and landmarks in the scene."""
    image, det, _ = face
    x1, y1, x2, y2 = det.box
    pad = 0.3 * (x2 - x1)
    cx1, cy1 = int(max(0, x1 - pad)), int(max(0, y1 - pad))
    cx2, cy2 = int(min(image.shape[1], x2 + pad)), int(min(image.shape[0], y2 + pad))
    s = width / (x2 - x1)
    small = cv2.resize(image[cy1:cy2, cx1:cx2], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    px, py = at
    scene[py:py + small.shape[0], px:px + small.shape[1]] = small
    shift = np.array([px - cx1 * s, py - cy1 * s], np.float32)
    return det.box.reshape(2, 2) * s + shift, (det.landmarks * s + shift).astype(np.float32)


def _background():
    """A frame with texture and edges but no face: smoothed noise over a gradient, some shelves."""
    rng = np.random.default_rng(7)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (720, 1280, 3)).astype(np.uint8), (0, 0), 3)
    ramp = np.linspace(60, 180, 1280, dtype=np.float32)[None, :, None]
    frame = np.clip(ramp + (noise.astype(np.float32) - 128) * 0.6, 0, 255).astype(np.uint8)
    for y in range(40, 720, 140):
        cv2.rectangle(frame, (0, y), (1279, y + 6), (40, 50, 70), -1)
    return frame


def _detail(image, box) -> float:
    x1, y1, x2, y2 = box.reshape(-1)
    dx, dy = (x2 - x1) * 0.2, (y2 - y1) * 0.2
    core = image[int(y1 + dy):int(np.ceil(y2 - dy)), int(x1 + dx):int(np.ceil(x2 - dx))]
    return float(cv2.Laplacian(cv2.cvtColor(core, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _similarity(engine, image, landmarks, reference) -> float:
    return float(engine.embed([align_face(image, landmarks)])[0] @ reference)


@pytest.fixture(scope="module")
def capture(engine, photos, group_photo):
    """The scene, the faces pasted in it, and the alert the live recognition step raised on it."""
    bystanders = [_face(engine, photos(n)) for n in ("img16.jpg", "img17.jpg")]
    bystanders += [_face(engine, read_image(s.photo)) for s in demo_subjects()]
    for det in engine.detect(group_photo):
        bystanders.append((group_photo, det, engine.embed([align_face(group_photo, det.landmarks)])[0]))
    assert len(bystanders) == 10
    scene = _background()
    alerted = _face(engine, photos("img21.jpg"))
    alerted_box, alerted_lm = _paste(scene, alerted, ALERTED_WIDTH, ALERTED_AT)
    # Bystanders on a grid left and right of the alerted person (not on their body).
    cells = [(x, y) for x in (*range(40, 440, 80), *range(840, 1240, 80)) for y in range(70, 700, 105)]
    pasted = []
    for n, (face, width) in enumerate((f, w) for w in SIZES for f in bystanders):
        box, lm = _paste(scene, face, width, cells[n])
        pasted.append((width, box, lm, face[2]))
    enrol = _face(engine, photos("img20.jpg"))[2]  # the alerted person's watchlist photo: another photo
    alerts = []
    rec = CameraRecognizer(engine, Gallery(enrol[None, :], np.array([1]), np.array([1])), deployment_id=1,
                           camera_id=1, settings=RecognizerSettings(threshold=SFACE_DEFAULT_THRESHOLD),
                           write_alert=lambda record: alerts.append(record) or len(alerts))
    for i in range(6):
        rec.process(scene, 100.0 + 0.4 * i, i)
        if alerts:
            break
    assert len(alerts) == 1
    stored = cv2.imdecode(np.frombuffer(alerts[0].context_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert stored.shape == scene.shape  # 1280 wide: stored at its own size
    return engine, scene, stored, pasted, (alerted_box, alerted_lm, enrol)


def test_no_bystander_stays_recognisable_in_the_stored_frame(capture):
    engine, scene, stored, pasted, _ = capture
    references = np.array([reference for *_, reference in pasted])
    recognisable_before = 0
    for width, box, lm, reference in pasted:
        before = _similarity(engine, scene, lm, reference)
        after = _similarity(engine, stored, lm, reference)
        recognisable_before += before >= SFACE_DEFAULT_THRESHOLD
        # Measured: 0.38-0.84 before (0.68 on average), 0.02-0.26 after.
        assert after < SFACE_DEFAULT_THRESHOLD - 0.06, (width, box.tolist(), before, after)
        # Nor does what is left match any of the ten people: impostor level (0.19-0.28 measured).
        anyone = float((references @ engine.embed([align_face(stored, lm)])[0]).max())
        assert anyone < SFACE_DEFAULT_THRESHOLD - 0.06, (width, box.tolist(), anyone)
        detail_before, detail_after = _detail(scene, box), _detail(stored, box)
        assert detail_after < detail_before / 20, (width, box.tolist(), detail_before, detail_after)
    # The test means something: at these sizes the faces were recognisable before the blur.
    assert recognisable_before >= 0.8 * len(pasted)


def test_the_small_faces_the_recognition_detector_misses_are_blurred_too(capture):
    engine, scene, stored, pasted, _ = capture
    found = [d.box for d in engine.detect(scene)]  # recognition's detector: 640 px input, score 0.6

    def seen(box):
        cx, cy = box.reshape(2, 2).mean(axis=0)
        return any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in found)

    missed = [(w, box) for w, box, _, _ in pasted if not seen(box)]
    assert len(missed) >= 0.9 * len(pasted)  # at 640 px a 20 px face is 10 px: nearly all go unseen
    for width, box in missed:
        assert _detail(stored, box) < _detail(scene, box) / 20, (width, box.tolist())


def test_the_alerted_face_stays_sharp_and_still_matches(capture):
    engine, scene, stored, _, (box, lm, enrol) = capture
    before, after = _similarity(engine, scene, lm, enrol), _similarity(engine, stored, lm, enrol)
    assert before >= SFACE_DEFAULT_THRESHOLD and abs(after - before) < 0.02, (before, after)
    assert 0.7 < _detail(stored, box) / _detail(scene, box) < 1.25  # JPEG q85 alone: 0.84 measured
    # its body too: the region below the face is only re-encoded
    x1, y1, x2, y2 = box.reshape(-1).astype(int)
    body = (slice(y2, min(720, y2 + 2 * (y2 - y1))), slice(max(0, x1 - 20), x2 + 20))
    assert np.abs(stored[body].astype(int) - scene[body]).mean() < 3


def test_a_frame_whose_bystanders_cannot_be_blurred_is_not_stored(engine, photos):
    class Broken:
        def blur(self, *_a, **_k):
            raise RuntimeError("the detector failed")

    probe = photos("img21.jpg")
    enrol = _face(engine, photos("img20.jpg"))[2]
    alerts = []
    rec = CameraRecognizer(engine, Gallery(enrol[None, :], np.array([1]), np.array([1])), deployment_id=1,
                           camera_id=1, settings=RecognizerSettings(threshold=SFACE_DEFAULT_THRESHOLD),
                           write_alert=lambda record: alerts.append(record) or len(alerts), bystanders=Broken())
    for i in range(6):
        rec.process(probe, 100.0 + 0.4 * i, i)
    assert len(alerts) == 1  # the alert is raised...
    assert alerts[0].context_jpeg == b"" and alerts[0].probe_jpeg[:2] == b"\xff\xd8"  # ...without the frame


# -- the rules, with a detector that answers what it is told ----------------------------------------
def test_tiles_cover_any_length_with_overlap_and_bounded_size():
    from console.vision import bystanders

    for length in (1, 640, bystanders.TILE, bystanders.TILE + 1, 2560, 3840, 7680, 10001):
        spans = bystanders._spans(length)
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(b - a <= bystanders.TILE for a, b in spans)
        assert all(prev[1] - nxt[0] >= bystanders.OVERLAP for prev, nxt in zip(spans, spans[1:], strict=False))


def test_only_the_alerted_face_and_weak_hits_on_its_body_are_left():
    from console.vision.bystanders import BystanderBlur
    from console.vision.types import Detection

    frame = (np.indices((400, 600)).sum(axis=0) % 7 * 30).astype(np.uint8)[:, :, None].repeat(3, axis=2)
    alerted = (250, 60, 310, 130)
    beside, far = (318, 70, 368, 125), (20, 20, 40, 45)  # a bystander beside it (its blur reaches in), one afar
    weak_chest, strong_chest = (265, 160, 295, 190), (260, 250, 300, 290)  # below the alerted face
    hits = [(alerted, 0.9), (beside, 0.35), (far, 0.31), (weak_chest, 0.4), (strong_chest, 0.7)]

    class Told:  # answers at the frame's own size only (the other passes see nothing)
        def detect(self, image):
            if image.shape != frame.shape:
                return []
            return [Detection(np.array(box, np.float32), np.zeros((5, 2), np.float32), score) for box, score in hits]

    def changed(out, box):
        x1, y1, x2, y2 = box
        return bool(np.any(out[y1:y2, x1:x2] != frame[y1:y2, x1:x2]))

    out, covered = BystanderBlur(Told()).blur(frame, alerted)
    assert covered == 3
    assert all(changed(out, box) for box in (beside, far, strong_chest))
    assert not changed(out, alerted) and not changed(out, weak_chest)  # clothes or hands, most likely
    # a face the caller already knows is covered too, whatever the detector says
    known = (500, 300, 540, 350)
    out, covered = BystanderBlur(Told()).blur(frame, alerted, known=[np.array(known, np.float32)])
    assert covered == 4 and changed(out, known)


def test_a_recogniser_whose_alerts_keep_no_image_makes_no_context_frame(engine, photos):
    class Counting:
        calls = 0

        def blur(self, image, *_a, **_k):
            Counting.calls += 1
            return image, 0

    probe = photos("img21.jpg")
    enrol = _face(engine, photos("img20.jpg"))[2]
    alerts = []
    rec = CameraRecognizer(engine, Gallery(enrol[None, :], np.array([1]), np.array([1])), deployment_id=1,
                           camera_id=1, settings=RecognizerSettings(threshold=SFACE_DEFAULT_THRESHOLD),
                           write_alert=lambda record: alerts.append(record) or len(alerts), bystanders=Counting(),
                           keep_context=False)  # what scan builds: its alerts are printed, never stored
    for i in range(6):
        rec.process(probe, 100.0 + 0.4 * i, i)
    assert len(alerts) == 1 and alerts[0].context_jpeg == b"" and Counting.calls == 0

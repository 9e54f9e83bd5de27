"""Gallery search, tracking and the recognition step (privacy included)."""

import numpy as np

from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings
from console.pipeline.tracker import IouTracker, iou


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_gallery_returns_k_distinct_subjects_best_first():
    rng = np.random.default_rng(1)
    base = _unit(rng.normal(size=(4, 16)))
    # Subject 10 has two images, both close to the probe; subjects 20, 30, 40 one each.
    matrix = _unit(np.vstack([base[0] + 0.05, base[0] + 0.1, base[1], base[2], base[3]]))
    gallery = Gallery(matrix, np.array([1, 2, 3, 4, 5]), np.array([10, 10, 20, 30, 40]))
    (cands,) = gallery.search(base[0], k=3)
    assert [c.entry_id for c in cands][0] == 10
    assert len({c.entry_id for c in cands}) == 3
    assert cands[0].image_id in (1, 2)
    assert all(cands[i].score >= cands[i + 1].score for i in range(2))
    assert abs(cands[0].score - float(matrix[cands[0].image_id - 1] @ base[0])) < 1e-6


def test_empty_gallery_finds_nothing():
    assert Gallery.empty().search(np.ones((2, 128), np.float32)) == [[], []]


def test_iou():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou(a, b), [[1 / 3, 0.0]], atol=1e-6)


def test_tracker_keeps_ids_for_moving_faces_and_forgets_old_ones():
    tracker = IouTracker(max_age_s=0.5)
    boxes = np.array([[0, 0, 50, 50], [200, 0, 250, 50]], np.float32)
    first = [t.track_id for t in tracker.update(boxes, 0.0)]
    second = [t.track_id for t in tracker.update(boxes + [8, 0, 8, 0], 0.1)]
    assert first == second and len(set(first)) == 2
    third = [t.track_id for t in tracker.update(boxes[:1] + 16, 1.0)]  # 0.9 s later: both tracks expired
    assert third[0] not in first


class _Sink:
    def __init__(self):
        self.records = []

    def __call__(self, record):
        self.records.append(record)
        return len(self.records)


def _recognizer(engine, gallery, sink, threshold=None, names=None):
    return CameraRecognizer(engine, gallery, deployment_id=1, camera_id=1,
                            settings=RecognizerSettings(threshold=threshold or engine.default_threshold),
                            write_alert=sink, subject_names=names or {})


def test_a_watchlisted_face_raises_one_alert_per_track(engine, photos):
    probe = photos("img21.jpg")
    enrol = engine.embed([engine.align(photos("img20.jpg"), engine.detect(photos("img20.jpg"))[0])])
    sink = _Sink()
    rec = _recognizer(engine, Gallery(enrol, np.array([5]), np.array([9])), sink, names={9: "Subject"})
    for i in range(6):
        result = rec.process(probe, 100.0 + i * 0.4, i)
    assert len(sink.records) == 1
    alert = sink.records[0]
    assert alert.candidates[0][0] == 9 and alert.candidates[0][2] > engine.default_threshold
    assert alert.probe_jpeg[:2] == b"\xff\xd8" and alert.context_jpeg[:2] == b"\xff\xd8"
    assert alert.model_id == engine.model_id and alert.threshold == engine.default_threshold
    assert result.faces[0].matched and result.faces[0].subject == "Subject"


def test_faces_that_match_nobody_leave_nothing_but_counts(engine, group_photo, photos):
    enrol = engine.embed([engine.align(photos("img20.jpg"), engine.detect(photos("img20.jpg"))[0])])
    sink = _Sink()
    rec = _recognizer(engine, Gallery(enrol, np.array([5]), np.array([9])), sink)
    result = rec.process(group_photo, 0.0, 0)
    assert sink.records == []
    assert result.alert_ids == [] and not any(f.matched for f in result.faces)
    # What leaves the step is overlays and counts: no embedding, no pixels of a face.
    for face in result.faces:
        assert set(vars(face)) == {"box", "track_id", "passed_gate", "matched", "subject", "score", "rejected"}
    analysed, gated, best = rec.stats.take()
    assert analysed + gated == 6 and len(best) == analysed
    assert (best < engine.default_threshold).all()
    for track in rec.tracker.tracks:
        assert not any(isinstance(v, np.ndarray) and v.size > 8 for v in vars(track).values())


def test_a_rejected_track_raises_no_further_alert_and_loses_its_match_mark(engine, photos):
    from console.pipeline.gallery import Gallery

    probe = photos("img21.jpg")
    enrol = engine.embed([engine.align(photos("img20.jpg"), engine.detect(photos("img20.jpg"))[0])])
    sink, views = _Sink(), []
    rec = CameraRecognizer(engine, Gallery(enrol, np.array([5]), np.array([9])), deployment_id=1, camera_id=1,
                           settings=RecognizerSettings(threshold=engine.default_threshold, realert_window_s=0),
                           write_alert=sink, write_view=lambda *a: views.append(a))
    first = rec.process(probe, 0.0, 0)
    assert first.faces[0].matched and len(sink.records) == 1
    rec.suppress(first.faces[0].track_id, 9)
    for i in range(1, 8):
        later = rec.process(probe, i * 0.5, i)  # within the tracker's memory, past the refresh time
    assert len(sink.records) == 1
    assert not later.faces[0].matched and later.faces[0].rejected

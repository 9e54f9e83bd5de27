"""The alert rule at its edge: a score equal to the threshold raises an alert (the rule is
score >= threshold), a score just under it does not. The gallery vector is built so that the
real probe embedding of a real photo scores exactly the threshold against it."""

import numpy as np
import pytest

from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings
from console.vision.engine import describe_faces

TARGET = 0.5  # any cosine well inside (-1, 1); the deployment's calibrated value is beside the point


class _Sink:
    def __init__(self):
        self.records = []

    def __call__(self, record):
        self.records.append(record)
        return len(self.records)


@pytest.fixture(scope="module")
def edge(engine, photos):
    """The photo, a one-row gallery whose vector lies at cosine TARGET from the photo's own
    embedding, and the score that the gallery's float32 arithmetic gives for it."""
    image = photos("img20.jpg")
    faces = describe_faces(engine, image)
    assert len(faces) == 1 and faces[0].quality.passed
    e = faces[0].embedding.astype(np.float64)
    e /= np.linalg.norm(e)
    r = np.random.default_rng(20).normal(size=e.shape)
    u = r - (r @ e) * e
    u /= np.linalg.norm(u)
    g = (TARGET * e + np.sqrt(1 - TARGET**2) * u).astype(np.float32)
    assert abs(float(np.linalg.norm(g.astype(np.float64))) - 1) < 1e-6
    gallery = Gallery(g[None, :], np.array([7]), np.array([70]))
    # The score as the recogniser will see it (the gallery's own float32 product), checked
    # against the double-precision construction: it is TARGET up to float32 rounding.
    score = gallery.search(faces[0].embedding[None, :], k=1)[0][0].score
    assert abs(score - TARGET) < 1e-5
    return image, gallery, score


def _run(engine, edge, threshold: float, frames: int = 6):
    image, gallery, _ = edge
    sink = _Sink()
    rec = CameraRecognizer(engine, gallery, deployment_id=1, camera_id=1,
                           settings=RecognizerSettings(threshold=threshold), write_alert=sink)
    for i in range(frames):  # 0.5 s apart: past the refresh time, so the face is embedded again
        rec.process(image, 100.0 + i * 0.5, i)
    return sink.records, rec.stats.take()[2]


def test_a_score_equal_to_the_threshold_raises_an_alert(engine, edge):
    _, _, score = edge
    records, best = _run(engine, edge, threshold=score)
    # The recogniser compared exactly the score measured above, on every embedding it made.
    assert len(best) >= 2 and all(float(b) == score for b in best)
    assert len(records) == 1  # one alert for the track, at score == threshold
    assert records[0].candidates[0][0] == 70 and records[0].candidates[0][2] == score
    assert records[0].threshold == score


def test_a_score_just_under_the_threshold_raises_none(engine, edge):
    _, _, score = edge
    records, best = _run(engine, edge, threshold=score + 1e-4)
    assert len(best) >= 2 and all(float(b) == score for b in best)
    assert records == []


def test_a_score_well_over_the_threshold_raises_one_alert(engine, edge):
    _, _, score = edge
    records, _ = _run(engine, edge, threshold=score - 0.05)
    assert len(records) == 1

"""The fakes the recognizer's mutant-killing tests share: a real gallery of basis vectors, an engine that
detects, assesses and embeds the faces it is given, and a store that can be down or refuse."""

from dataclasses import dataclass

import numpy as np

from console.errors import AlertRefused, StoreError
from console.pipeline import recognizer as rec
from console.pipeline.gallery import Gallery
from console.vision.types import Detection, Quality

DIM = 8
ALICE, BOB, CAROL = 11, 12, 13  # entry ids; images 101, 102, 103
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol"}


def gallery() -> Gallery:
    return Gallery(np.eye(3, DIM, dtype=np.float32), np.array([101, 102, 103]), np.array([ALICE, BOB, CAROL]))


@dataclass
class Face:
    box: tuple
    quality: float = 0.8
    scores: tuple = (0.0, 0.0, 0.0)  # against Alice, Bob, Carol
    detector_score: float = 0.9
    yaw: float = 0.0
    face_px: float = 50.0


class FakeEngine:
    """Detects the faces it is given for the frame; applies the gate's detector score and refuses a
    face that leaves the frame, as the real assessment does; embeds to the given scores."""

    model_id = "fake-model"

    def __init__(self) -> None:
        self.faces: list[Face] = []

    def detect(self, frame):
        return [Detection(np.array(f.box, np.float32), np.zeros((5, 2), np.float32), f.detector_score)
                for f in self.faces]

    def align(self, frame, det):
        i = next(n for n, f in enumerate(self.faces) if np.allclose(f.box, det.box))
        return np.full((4, 4, 3), i, np.uint8)

    def assess(self, det, crop, gate, frame_shape):
        face = self.faces[int(crop[0, 0, 0])]
        h, w = frame_shape[:2]
        x1, y1, x2, y2 = face.box
        passed = det.score >= gate.min_detector_score and x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h
        return Quality(face.quality, face.face_px, 100.0, face.yaw, 0.0, 0.0, det.score, passed)

    def embed(self, crops):
        out = np.zeros((len(crops), DIM), np.float32)
        for row, crop in enumerate(crops):
            out[row, :3] = self.faces[int(crop[0, 0, 0])].scores
        return out


class Store:
    """write_alert / write_view / attach_context / is_decided, with a switch for a store that is down."""

    def __init__(self) -> None:
        self.alerts: list = []
        self.contexts: dict[int, bytes] = {}  # context frames stored after their alerts
        self.views: list = []
        self.decided: set[int] = set()
        self.down = ""  # the error message while down
        self.refuse = ""  # the refusal while the deployment is stopped

    def write_alert(self, record) -> int:
        if self.refuse:
            raise AlertRefused(self.refuse)
        if self.down:
            raise StoreError(self.down)
        self.alerts.append(record)
        return len(self.alerts)

    def attach_context(self, alert_id: int, jpeg: bytes) -> None:
        if self.down:
            raise StoreError(self.down)
        assert alert_id not in self.contexts and 1 <= alert_id <= len(self.alerts), "once, to a stored alert"
        self.contexts[alert_id] = jpeg

    def write_view(self, alert_id, jpeg, score, quality, captured_at):
        if self.down:
            raise StoreError(self.down)
        self.views.append((alert_id, jpeg, score, quality, captured_at))


def make(store=None, *, threshold=0.5, clock=None, **kw):
    store = store or Store()
    engine = FakeEngine()
    t = {"now": 1000.0}
    kw.setdefault("write_view", store.write_view)
    r = rec.CameraRecognizer(engine, kw.pop("gallery") if "gallery" in kw else gallery(), deployment_id=7,
                             camera_id=3, settings=kw.pop("settings", None) or rec.RecognizerSettings(threshold=threshold),
                             write_alert=store.write_alert, is_decided=lambda a: a in store.decided,
                             subject_names=NAMES, clock=clock or (lambda: t["now"]), **kw)
    return r, engine, store, t


FRAME = np.zeros((240, 320, 3), np.uint8)
LEFT, RIGHT, MIDDLE = (20, 20, 80, 100), (200, 20, 260, 100), (110, 120, 170, 200)


def see(r, engine, faces, at, frame=FRAME, **kw):
    engine.faces = list(faces)
    return r.process(frame, at, **kw)

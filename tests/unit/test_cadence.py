"""Step 14's cheaper frames: the detector's cadence on empty views, tracks not due skip their scoring,
and one recogniser run for the faces of several cameras."""

import threading
import time

import cv2
import numpy as np
import pytest

from console.pipeline.batcher import SharedEmbedder
from console.pipeline.cadence import CARRY_S, EMPTY_INTERVAL_S, DetectionCadence
from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings

FPS = 25.0


def _quiet_frames(rng, n):
    """A still view with a little sensor noise: nothing the motion test should call movement."""
    base = rng.integers(60, 200, (720, 1280, 3), dtype=np.uint8)
    return [np.clip(base.astype(np.int16) + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8)
            for _ in range(n)]


@pytest.mark.parametrize("appears", range(0, 40, 3))
def test_a_face_the_motion_test_cannot_see_is_still_detected_within_the_stated_bound(appears):
    rng = np.random.default_rng(appears)
    frames = _quiet_frames(rng, 60)
    for f in frames[appears + 12:]:  # a change that misses every sample of the motion test
        f[17:31, 17:31] = 255 - f[17:31, 17:31]
    cadence = DetectionCadence()
    start = 12  # the view has been empty for a while: the cadence is at its low rate
    detected = [i for i in range(60) if cadence.due(frames[i], 100.0 + i / FPS)]
    assert sum(1 for i in detected if i > start) < (60 - start) / 2  # the empty view costs far less
    first = next(i for i in detected if i >= appears + 12)
    assert (first - (appears + 12)) / FPS <= EMPTY_INTERVAL_S + 1e-9


def test_motion_detects_at_once_and_faces_in_view_keep_the_full_rate():
    rng = np.random.default_rng(1)
    frames = _quiet_frames(rng, 40)
    for f in frames[21:]:
        f[200:400, 300:500] = 0  # someone walks in
    cadence = DetectionCadence()
    due = [cadence.due(frames[i], i / FPS) for i in range(21)]
    assert not all(due[5:])  # empty: not every frame
    assert cadence.due(frames[21], 21 / FPS)  # the picture moved: detected on that very frame
    cadence.saw(21 / FPS, 1)
    for i in range(22, 40):  # a face in view: every frame
        assert cadence.due(frames[i], i / FPS)
        cadence.saw(i / FPS, 1)
    later = [cadence.due(frames[39], (39 + k) / FPS) for k in range(1, 40)]
    assert all(later[:24]) and not all(later[25:])  # full rate while the face may come back, then lower


def test_a_clock_set_back_and_a_cadence_of_zero_both_detect():
    frame = np.zeros((72, 128, 3), np.uint8)
    cadence = DetectionCadence()
    cadence.due(frame, 100.0)
    assert not cadence.due(frame, 100.04)
    assert cadence.due(frame, 50.0)  # the clock went back: never a reason to stop looking
    every = DetectionCadence(empty_interval_s=0)
    assert all(every.due(frame, i / FPS) for i in range(10))


class _Counting:
    def __init__(self, engine):
        self.engine, self.detects, self.aligns = engine, 0, 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def detect(self, image):
        self.detects += 1
        return self.engine.detect(image)

    def align(self, image, det):
        self.aligns += 1
        return self.engine.align(image, det)


def _scene_with(photo, present: bool, shift: int = 0):
    canvas = np.full((720, 1280, 3), 90, np.uint8)
    if present:
        face = cv2.resize(photo, (300, 300))
        canvas[200:500, 400 + shift:700 + shift] = face
    return canvas


def test_a_real_face_walking_into_an_empty_view_is_found_within_the_bound(engine, photos):
    counting = _Counting(engine)
    rec = CameraRecognizer(counting, Gallery.empty(), deployment_id=1, camera_id=1,
                           settings=RecognizerSettings(threshold=engine.default_threshold), write_alert=lambda r: 1)
    photo = photos("img21.jpg")
    for i in range(50):  # two seconds of an empty corridor
        assert rec.process(_scene_with(photo, False), 10.0 + i / FPS, i).faces == []
    empty_detects = counting.detects
    assert empty_detects <= 50 * 0.5
    found = None
    for i in range(50, 70):
        result = rec.process(_scene_with(photo, True, 2 * (i - 50)), 10.0 + i / FPS, i)
        if result.faces:
            found = i
            break
    assert found is not None and (found - 50) / FPS <= EMPTY_INTERVAL_S


def test_tracks_not_due_for_an_embedding_are_neither_aligned_nor_scored(engine, photos):
    counting = _Counting(engine)
    enrol = engine.embed([engine.align(photos("img20.jpg"), engine.detect(photos("img20.jpg"))[0])])
    rec = CameraRecognizer(counting, Gallery(enrol, np.array([5]), np.array([9])), deployment_id=1, camera_id=1,
                           settings=RecognizerSettings(threshold=engine.default_threshold), write_alert=lambda r: 1)
    photo = photos("img21.jpg")
    embedded_at, overlays, detected_at = [], [], []
    for i in range(50):  # two seconds of one face in view: full passes at least every CARRY_S, boxes carried between
        before = counting.detects
        result = rec.process(_scene_with(photo, True, i), 10.0 + i / FPS, i)
        overlays.append(result.faces)
        if counting.detects > before:
            detected_at.append(i)
        if result.embedded:
            embedded_at.append(i)
    assert all(len(f) == 1 for f in overlays)  # a box on every frame, detected or carried
    assert 50 / 6 <= counting.detects <= 50 / 3
    assert max(b - a for a, b in zip(detected_at, detected_at[1:], strict=False)) / FPS <= CARRY_S + 1e-9
    assert counting.aligns <= 50 / 2  # most frames: no alignment, no quality score
    assert embedded_at[0] == 0 and len(embedded_at) >= 2  # embedded at once, and again within the refresh
    assert max(b - a for a, b in zip(embedded_at, embedded_at[1:], strict=False)) / FPS <= 1.0 + 1 / FPS
    assert all(f[0].passed_gate and f[0].matched for f in overlays)  # skipped frames keep the track's marks


class _SlowEngine:
    """Embeds a crop as its mean pixel value, slowly, and counts its runs: the batching is what is tested."""

    def __init__(self, fail=False):
        self.runs, self.sizes, self.fail = 0, [], fail
        self.now, self.most = 0, 0
        self.lock = threading.Lock()

    def embed(self, crops):
        with self.lock:
            self.runs += 1
            self.sizes.append(len(crops))
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        if self.fail:
            raise RuntimeError("the model failed")
        return np.array([[float(c.mean()), 1.0] for c in crops], np.float32).reshape(-1, 2)


def _ask_together(embedder, callers):
    out, errors = {}, {}

    def ask(k):
        crops = [np.full((4, 4, 3), k * 10 + j, np.uint8) for j in range(k % 3 + 1)]
        try:
            out[k] = embedder.embed(crops)
        except RuntimeError as exc:
            errors[k] = exc

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return out, errors


def test_the_faces_of_several_cameras_share_model_runs_and_each_gets_its_own_rows():
    slow = _SlowEngine()
    out, errors = _ask_together(SharedEmbedder(slow), 8)
    assert not errors and len(out) == 8
    for k, rows in out.items():
        assert rows[:, 0].tolist() == [k * 10 + j for j in range(k % 3 + 1)]
    assert slow.runs < 8 and max(slow.sizes) > 3  # callers that waited were embedded together
    assert sum(slow.sizes) == sum(k % 3 + 1 for k in range(8))


def test_a_failed_batch_reaches_every_camera_in_it_and_the_next_batch_runs():
    slow = _SlowEngine(fail=True)
    embedder = SharedEmbedder(slow)
    out, errors = _ask_together(embedder, 5)
    assert not out and len(errors) == 5
    slow.fail = False
    assert embedder.embed([np.full((4, 4, 3), 7, np.uint8)])[0, 0] == 7.0


def test_batched_embeddings_equal_the_engine_own(engine, photos):
    photo = photos("img20.jpg")
    crops = [engine.align(photo, d) for d in engine.detect(photo)] + [engine.align(photos("img21.jpg"),
                                                                                 engine.detect(photos("img21.jpg"))[0])]
    embedder = SharedEmbedder(engine)
    results = [None] * len(crops)

    def one(i):
        results[i] = embedder.embed([crops[i]])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(crops))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    np.testing.assert_allclose(np.vstack(results), engine.embed(crops), atol=1e-4)
    assert embedder.model_id == engine.model_id  # everything but embed is the engine's own


def test_on_a_cpu_as_many_runs_go_at_once_as_there_are_runners_and_no_more():
    slow = _SlowEngine()
    out, errors = _ask_together(SharedEmbedder(slow, runners=2), 10)
    assert not errors and len(out) == 10 and all(rows[:, 0][0] == k * 10 for k, rows in out.items())
    assert slow.most == 2 and slow.runs < 10
    one = _SlowEngine()
    _ask_together(SharedEmbedder(one, runners=1), 6)
    assert one.most == 1


def test_shared_batches_as_large_as_they_come_on_a_gpu_and_runs_per_core_on_a_cpu(monkeypatch):
    from console.pipeline import batcher

    class Gpu(_SlowEngine):
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]

    class Cpu(_SlowEngine):
        providers = ["CPUExecutionProvider"]

    monkeypatch.setattr(batcher.os, "cpu_count", lambda: 6)
    gpu, cpu = batcher.shared(Gpu()), batcher.shared(Cpu())
    assert (gpu.runners, cpu.runners) == (1, 6)
    assert batcher.shared(gpu) is gpu


class _FakeCapture:
    def __init__(self, frames, fail_at=None):
        self.frames, self.fail_at, self.read_at = frames, fail_at, 0

    def _next(self):
        if self.fail_at is not None and self.read_at == self.fail_at:
            raise RuntimeError("decoder crashed")
        if self.read_at >= self.frames:
            return False
        self.read_at += 1
        return True

    def read(self):
        ok = self._next()
        return ok, (np.full((2, 2, 3), self.read_at - 1, np.uint8) if ok else None)

    def grab(self):
        return self._next()


def test_a_scan_decodes_ahead_in_order_skips_what_it_is_told_and_hands_on_a_decoder_failure():
    from console.services.runtime.scan import _decode_ahead

    got = [(i, None if f is None else int(f[0, 0, 0])) for i, f in _decode_ahead(_FakeCapture(7), every=3)]
    assert got == [(0, 0), (1, None), (2, None), (3, 3), (4, None), (5, None), (6, 6)]
    with pytest.raises(RuntimeError, match="decoder crashed"):
        list(_decode_ahead(_FakeCapture(50, fail_at=20), every=1))
    frames = _decode_ahead(_FakeCapture(10_000), every=1, ahead=2)
    assert next(frames)[0] == 0
    frames.close()  # the scan stopped early: the reader thread ends, nothing hangs
    assert not any(t.name == "scan-decode" and t.is_alive() for t in threading.enumerate())


def test_batches_padded_for_a_gpu_give_each_face_its_own_embedding(engine, photos):
    from console.vision.bundled import verify_bundled
    from console.vision.sface import SFaceEmbedder

    photo = photos("img20.jpg")
    crops = [engine.align(photo, d) for d in engine.detect(photo)] * 5
    padded = SFaceEmbedder(verify_bundled(None).recogniser, ["CPUExecutionProvider"], threads=1, max_batch=8)
    padded.pad_batches = True  # as on a GPU: every run the same shape
    rows = padded.embed(crops[:5])
    assert rows.shape == (5, 128)
    np.testing.assert_allclose(rows, engine.embed(crops[:5]), atol=1e-4)


def test_a_camera_whose_faces_another_run_took_waits_for_that_run_and_gets_its_own_rows():
    # Runners free up while cameras wait: a newcomer may lead a run with a waiting camera's faces,
    # and that camera must then wait for that run, not lead an empty one and return nothing.
    class Quick(_SlowEngine):
        def embed(self, crops):
            time.sleep(0.003 * (1 + len(crops) % 3))
            return np.array([[float(c.mean()), 1.0] for c in crops], np.float32).reshape(-1, 2)

    embedder = SharedEmbedder(Quick(), runners=2)
    wrong = []

    def camera(k):  # like a camera worker: asks again as soon as it has its answer
        crops = [np.full((4, 4, 3), k * 10 + j, np.uint8) for j in range(k % 3 + 1)]
        for _ in range(40):
            rows = embedder.embed(crops)
            if rows is None or rows[:, 0].tolist() != [k * 10 + j for j in range(k % 3 + 1)]:
                wrong.append((k, rows))

    threads = [threading.Thread(target=camera, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert wrong == []


def test_a_burst_of_faces_is_shared_between_the_runners_not_queued_on_one():
    """Eight cameras starting with faces in view: the faces that gathered while both runners were busy
    go half to the first runner free and half to the next, not all to the first while the other core
    waits (before: one batch of 12, twice as long as it needs)."""
    release = {0: threading.Event(), 10: threading.Event()}  # cameras 0 and 1, by their first crop's value

    class Held(_SlowEngine):
        def embed(self, crops):
            marker = int(crops[0][0, 0, 0])
            if marker in release:  # the two first runs hold both runners until let go
                assert release[marker].wait(10)
            with self.lock:
                self.sizes.append(len(crops))
            return np.array([[float(c.mean()), 1.0] for c in crops], np.float32).reshape(-1, 2)

    held = Held()
    embedder = SharedEmbedder(held, runners=2)
    out = {}

    def ask(k, n):
        out[k] = embedder.embed([np.full((4, 4, 3), k * 10 + j, np.uint8) for j in range(n)])

    first = [threading.Thread(target=ask, args=(k, 1)) for k in (0, 1)]
    for t in first:
        t.start()
    while embedder._running < 2:
        time.sleep(0.001)
    burst = [threading.Thread(target=ask, args=(k, 2)) for k in range(2, 8)]  # 12 faces wait
    for t in burst:
        t.start()
    while len(embedder._waiting) < 6:
        time.sleep(0.001)
    release[0].set()
    while len(held.sizes) < 2:  # the first runner free took its share and ran it
        time.sleep(0.001)
    release[10].set()
    assert held.sizes[:2] == [1, 6]  # half the 12 waiting, not all of them, while the other runner was busy
    for t in first + burst:
        t.join(10)
    assert sum(held.sizes) == 14 and max(held.sizes) == 6
    assert all(out[k][:, 0].tolist() == [k * 10 + j for j in range(1 if k < 2 else 2)] for k in range(8))

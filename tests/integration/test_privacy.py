"""Privacy by construction: a live scan of a video with no watchlist person in it stores no
biometric data of the people in it - not in the database, not beside it - only counts."""

import json
import sqlite3

import cv2
import numpy as np

from console.feeds.demo import write_demo_video
from console.media import read_image
from console.services.accounts.auth import actor_for
from console.services.runtime import recognition
from console.services.setup.enrol import enrol_image
from console.store import open_store, repo
from tests.conftest import DATA


class RecordingEngine:
    """The real engine, remembering every embedding it makes so the test can look for them."""

    def __init__(self, engine):
        self._engine = engine
        self.made: list[np.ndarray] = []

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def embed(self, crops):
        out = self._engine.embed(crops)
        self.made.extend(out.copy())
        return out


def test_no_biometric_data_of_passers_by_is_stored(engine, tmp_path):
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    sup_id = repo.create_user(store, "sup", "Supervisor", "supervisor")
    supervisor = actor_for(store, "sup")
    dep = repo.create_deployment(store, repo.DeploymentSpec(
        "Privacy test", "Corridor", "test", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z",
        engine.default_threshold, engine.default_threshold, engine.model_id), sup_id, "sup")
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam", "file", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "Not in the video", "wanted_by_courts", "test", "test",
                                                     "test photo", "2020-01-01", "2027-01-01"), sup_id, "sup")
    enrol_image(store, engine, supervisor, entry, read_image(DATA / "img20.jpg"), "img20.jpg")
    files_before = sorted(p.name for p in data_dir.iterdir())

    video = tmp_path / "passers-by.mp4"
    written = write_demo_video(video, 3, seconds=10.0, size=(960, 540))
    recording = RecordingEngine(engine)
    wstore = store.reopen()
    # The camera's recogniser as the console and the worker build it (plan and sink from the store),
    # fed every frame of the file in turn: pacing is not what this test is about, and a paced run
    # on a busy machine analyses fewer frames than it should.
    recognizer = recognition.recognizer_for_camera(wstore, recording, dep, cam)
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            recognizer.process(frame, 1_767_258_000.0 + frames / fps, frames)
            frames += 1
            if frames % 25 == 0:  # face counts are flushed as the worker flushes them
                repo.add_face_stats(wstore, dep, cam, *recognizer.stats.take())
    finally:
        capture.release()
    repo.add_face_stats(wstore, dep, cam, *recognizer.stats.take())
    wstore.close()

    # The pipeline really looked at faces...
    assert frames == written > 100 and len(recording.made) > 5
    stats = store.one("SELECT SUM(faces_analysed) AS n, SUM(faces_gated) AS g FROM face_stats")
    assert stats["n"] == len(recording.made)
    # ...raised nothing, and kept nothing of them.
    assert store.one("SELECT COUNT(*) AS n FROM alerts")["n"] == 0
    assert store.one("SELECT COUNT(*) AS n FROM entry_images")["n"] == 1
    store.close()
    assert sorted(p.name for p in data_dir.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        n for n in files_before if not n.endswith(("-wal", "-shm"))]
    # Not one embedding computed during the scan is anywhere in the data directory, in any
    # byte order or precision a database or log might use.
    blobs = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    for emb in recording.made:
        for needle in (emb.astype(np.float32).tobytes(), emb.astype(np.float64).tobytes(),
                       emb.astype(">f4").tobytes()):
            assert needle[:64] not in blobs
    # And nothing but counts and a histogram reached the statistics table.
    db = sqlite3.connect(data_dir / "console.sqlite3")
    try:
        hist = json.loads(db.execute("SELECT score_hist FROM face_stats").fetchone()[0])
        assert len(hist) == repo.HIST_BINS and all(isinstance(v, int) for v in hist)
        assert sum(hist) == len(recording.made)
    finally:
        db.close()
    # The worker keeps no face data once done: its tracks hold boxes and scalars only.
    for track in recognizer.tracker.tracks:
        assert all(not isinstance(v, np.ndarray) or v.size <= 4 for v in vars(track).values())
        assert track.alert_ids == {} and track.views_saved == 0 and track.matched_entries == set()

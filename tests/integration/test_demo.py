"""The demo feed: real detection and real alerts for the demo subjects, none for passers-by."""

import numpy as np

from console.feeds.demo import FPS, PERIOD_S, DemoScene
from console.feeds.demo_media import demo_subjects, read_image
from console.feeds.source import DemoSource, SourceState
from console.pipeline.gallery import Gallery
from console.pipeline.recognizer import CameraRecognizer, RecognizerSettings
from console.vision.engine import describe_faces, largest_face


def test_frames_are_repeatable():
    a, b = DemoScene(0), DemoScene(0)
    assert np.array_equal(a.frame(123), b.frame(123))
    assert not np.array_equal(a.frame(123), DemoScene(1).frame(123))


def test_demo_raises_alerts_for_each_watchlisted_walker_only(engine):
    subjects = demo_subjects()
    faces = [largest_face(describe_faces(engine, read_image(s.photo))) for s in subjects]
    gallery = Gallery(np.stack([f.embedding for f in faces]), np.array([1, 2]), np.array([1, 2]))
    records = []
    rec = CameraRecognizer(engine, gallery, deployment_id=1, camera_id=1,
                           settings=RecognizerSettings(threshold=engine.default_threshold),
                           write_alert=lambda r: records.append(r) or len(records))
    scene = DemoScene(0)
    for index in range(0, int(PERIOD_S * FPS), 3):
        rec.process(scene.frame(index), index / FPS, index)
    alerted = sorted({r.candidates[0][0] for r in records})
    assert alerted == [1, 2]
    # One alert per walk-by, not one per frame.
    assert len(records) <= 4


def test_demo_source_delivers_newest_frames_on_its_own_thread():
    source = DemoSource(0, realtime=False).start()
    try:
        seq, frame = source.slot.get_newer(0, timeout=10)
        assert frame is not None and frame.image.shape == (720, 1280, 3)
        seq2, frame2 = source.slot.get_newer(seq, timeout=10)
        assert seq2 > seq and frame2.index > frame.index
        assert source.state is SourceState.LIVE
    finally:
        source.stop()
    assert source.state is SourceState.STOPPED


def test_the_demo_on_two_cameras_queues_one_incident_per_walker(engine, tmp_path):
    """Real detection into a real store: both walkers are seen on both cameras, and the queue holds
    one card per walker with every sighting in it."""
    from console.services.accounts.auth import actor_for
    from console.services.decisions import adjudication
    from console.services.runtime.recognition import recognizer_for_camera
    from console.services.setup import demo
    from console.store import open_store, repo

    store = open_store(tmp_path / "data")
    try:
        dep = demo.ensure_demo_deployment(store, engine, cameras=2)
        repo.activate_deployment(store, dep, "test")
        for i, cam in enumerate(repo.cameras(store, dep)):
            rec = recognizer_for_camera(store, engine, dep, int(cam["id"]))
            scene = DemoScene(i)
            for index in range(0, int(PERIOD_S * FPS), 3):
                rec.process(scene.frame(index), index / FPS, index)
        alerts = store.query("SELECT entry_id, camera_id, incident_id FROM alerts WHERE deployment_id = ?", (dep,))
        names = {r["entry_id"]: r["subject_name"] for r in store.query("SELECT id AS entry_id, subject_name"
                                                                         " FROM watchlist_entries")}
        assert sorted({names[a["entry_id"]] for a in alerts}) == sorted(s.name for s in demo_subjects())
        assert len({a["camera_id"] for a in alerts}) == 2 and len(alerts) >= 4
        cards = adjudication.queue_rows(store, actor_for(store, demo.DEMO_OPERATOR), dep)
        assert len(cards) == 2 and sum(c["sightings"] for c in cards) == len(alerts)
        assert all(c["cameras"] == 2 for c in cards)
    finally:
        store.close()

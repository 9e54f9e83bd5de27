"""The reveal of a known-answer test, photographed for the docs: docs/known_answer_reveal.png.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.known_answer_screens [--data tests/data] [--out docs]

A throwaway store (a temporary folder, removed after): a deployment with known-answer tests on, one
non-mated pair from the project's own test photos (tests/data, licence in its SOURCE.md; two
different people, the capture made poorer as a live one is), put into the queue by the service;
an operator confirms it and is told the truth.
The pair is written straight into the store here (loading a set needs the face model: main.py
known-answer load). Nothing here is a watchlist subject.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

from console.services.accounts import auth
from console.services.accuracy import known_answer
from console.store import audit, ledger, open_store, repo
from console.store import known_answer as ka_db

PASSWORD = "an illustrative long passphrase"
PAIR = ("img20.jpg", "img16.jpg")  # master.csv: Decision = No


def _jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def _square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = max(0, (h - side) // 3), (w - side) // 2
    return cv2.resize(image[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)


def pair_item(store, sup_id: int, data: Path) -> None:
    """One non-mated pair: the probe small, blurred and compressed, in a frame; the photo as enrolled."""
    probe_src, photo_src = (cv2.imread(str(data / name)) for name in PAIR)
    face = cv2.GaussianBlur(_square(probe_src, 96), (5, 5), 1.6)
    face = cv2.imdecode(np.frombuffer(_jpeg(face, 35), np.uint8), cv2.IMREAD_COLOR)
    frame = np.full((540, 960, 3), 58, np.uint8)
    cv2.rectangle(frame, (0, 380), (960, 540), (44, 48, 52), -1)  # a floor, for a corridor-like frame
    x, y = 520, 180
    frame[y:y + 96, x:x + 96] = face
    quality = {"score": 0.58, "face_px": 31, "sharpness": 62, "yaw": 8, "pitch": -4, "detector_score": 0.81,
               "reasons": []}
    with store.transaction() as conn:
        set_id = ka_db.insert_set(conn, "illustration", "m", "0" * 64, sup_id, "2026-01-01T00:00:00Z")
        item = ka_db.insert_item(conn, set_id, False, True, "a", "b", _jpeg(face, 35), _jpeg(frame, 60),
                                 json.dumps([x, y, x + 96, y + 96]), json.dumps(quality),
                                 _jpeg(_square(photo_src, 320)), np.ones(128, np.float32).tobytes(), 128, 0.47)
        audit.append(store, "sup.dee", "known_answer.set_loaded", "store", "",
                     {"rows": ledger.merged(ledger.of(conn, "proficiency_sets", id=set_id),
                                            ledger.of(conn, "proficiency_items", id=[item]))})


def build(store, data: Path) -> SimpleNamespace:
    hashed = auth.hash_password(PASSWORD)
    sup_id = repo.create_user(store, "sup.dee", "Supervisor", "supervisor", password_hash=hashed)
    repo.create_user(store, "op.ada", "Ada", "operator", password_hash=hashed)
    dep = repo.create_deployment(store, repo.DeploymentSpec("High Street (illustration)", "High Street", "scripted",
                                                            "2026-01-01T07:00:00Z", "2099-01-01T19:00:00Z", 0.4,
                                                            0.363, "m", incident_window_s=0), sup_id, "sup.dee")
    repo.activate_deployment(store, dep, "sup.dee")
    repo.add_camera(store, dep, "Entrance north", "demo:0", "sup.dee")
    wl = repo.create_watchlist(store, dep, "WL", "sup.dee")
    repo.add_entry(store, wl, repo.EntrySpec("24-018812", "An illustration", "wanted_suspect", "police powers",
                                             "robbery, warrant issued", "custody image", "2025-03-01", "2099-01-01"),
                   sup_id, "sup.dee")
    pair_item(store, sup_id, data)
    sup, op = auth.login(store, "sup.dee", PASSWORD), auth.login(store, "op.ada", PASSWORD)
    known_answer.configure(store, sup, dep, True, every=20, hourly=True, reason="measure the operators (illustration)")
    test_id = known_answer.maybe_inject(store, dep)
    return SimpleNamespace(store=store, deployment_id=dep, operator=op, engine=None, test_id=test_id,
                           deployment=repo.get_deployment(store, dep))


def shoot(data: Path, out: Path) -> Path:
    from PySide6.QtCore import QEventLoop, QTimer

    from ui.adjudication import AdjudicationView
    from ui.adjudication.controller import ReviewController
    from ui.alert_model import AlertQueueModel
    from ui.app import create_app
    from ui.jobs import JobRunner

    app = create_app()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "known_answer_reveal.png"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "data")
        live = build(store, data)
        jobs = JobRunner(threads=1)
        view = AdjudicationView()
        view.resize(1400, 800)
        view.show()
        review = ReviewController(view, AlertQueueModel(), jobs)
        review.attach(live)

        def wait(until, ms: int = 10000) -> None:
            loop, timer = QEventLoop(), QTimer()
            timer.timeout.connect(lambda: until() and loop.quit())
            timer.start(20)
            QTimer.singleShot(ms, loop.quit)
            loop.exec()
            timer.stop()

        review.open(live.test_id)
        wait(lambda: view.mode == "review" and view.detail is not None)
        shown = []
        review.revealed.connect(shown.append)
        view.ask_confirm()
        view.commit()
        wait(lambda: bool(shown))
        app.processEvents()
        view.grab().save(str(target))
        review.renew_timer.stop()
        jobs.wait(5000)
        view.close()
        store.close()
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "data")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args(argv)
    print(shoot(args.data, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two writers of one camera's face counts at once (a seat and a worker, or a pool's old and new
holder at a hand-over): every count and every histogram bin is kept, on both databases."""

from __future__ import annotations

import threading

import numpy as np

from console.store import audit, ledger, repo
from tests.factories import small_deployment


def test_two_writers_of_one_cameras_counts_lose_nothing(db):
    d = small_deployment(db)
    stores, flushes, scores = [db.reopen(), db.reopen()], 15, np.linspace(0.05, 0.6, 5)
    barrier, errors = threading.Barrier(2), []

    def write(store) -> None:
        try:
            barrier.wait()
            for _ in range(flushes):
                repo.add_face_stats(store, d.deployment_id, d.camera_id, 5, 1, scores)
        except Exception as exc:  # named below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert not errors, errors
    row = db.one("SELECT faces_analysed, score_hist FROM face_stats WHERE camera_id = ?", (d.camera_id,))
    import json

    assert row["faces_analysed"] == 2 * flushes * 5
    assert sum(json.loads(row["score_hist"])) == 2 * flushes * len(scores)  # no flush read a stale histogram
    assert audit.verify_chain(db).ok and ledger.verify(db) == []

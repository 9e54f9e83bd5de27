"""An alert whose COMMIT landed but whose answer was lost with the connection (a server restart, a cut
link) is not written twice when the camera's outbox tries it again; one that never landed is."""

from __future__ import annotations

import numpy as np
import pytest

from console import clock
from console.errors import StoreError
from console.services.runtime.recognition import store_sink
from console.store import repo


def _world(store):
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor")
    dep = repo.create_deployment(store, repo.DeploymentSpec("Retry", "P", "R", "2026-01-01T00:00:00Z",
                                                            "2099-01-01T00:00:00Z", 0.4, 0.363, "m"), sup, "sup")
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "S", "missing_person", "b", "r", "s", "2025-01-01",
                                                     "2099-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"jpeg", np.ones(128, np.float32) / np.sqrt(128), "m", {}, "sup")
    return dep, cam, entry, image


def _record(dep, cam, entry, image, track: int):
    """Keyed as the pipeline keys its alerts (console/pipeline/recognizer.py): camera, track, subject, frame time."""
    at = clock.utcnow()
    return repo.AlertRecord(dep, cam, track, [(entry, image, 0.6)], 0.4, "m", [0, 0, 1, 1], {}, b"probe%d" % track,
                            b"context", at, key=f"{cam}/{track}/{entry}/{at}")


def _count(store, dep) -> int:
    return int(store.one("SELECT COUNT(*) AS n FROM alerts WHERE deployment_id = ?", (dep,))["n"])


@pytest.mark.parametrize("landed", [True, False])
def test_a_retried_alert_is_stored_once(db, landed):
    dep, cam, entry, image = _world(db)
    sink = store_sink(db)
    record = _record(dep, cam, entry, image, 1)
    real_commit = db._commit

    def commit_then_lose_the_answer():
        if landed:
            real_commit()
        raise db._errors("server closed the connection unexpectedly")

    db._commit = commit_then_lose_the_answer
    with pytest.raises(StoreError):
        sink.write_alert(record)
    db._commit = real_commit
    if not landed:
        db._rollback()
    assert _count(db, dep) == (1 if landed else 0)
    alert_id = sink.write_alert(record)  # the outbox's retry
    assert _count(db, dep) == 1
    assert db.one("SELECT track_id FROM alerts WHERE id = ?", (alert_id,))["track_id"] == 1
    # The next alert of the camera is written as usual.
    sink.write_alert(_record(dep, cam, entry, image, 2))
    assert _count(db, dep) == 2

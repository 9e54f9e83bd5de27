"""Live updates: what one seat does reaches another seat's feed within about a second."""

import time

import numpy as np

from console.services import review
from console.services.auth import actor_for
from console.services.changes import ChangeFeed
from console.store import repo


def wait_for(condition, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_new_alert_a_claim_and_a_decision_reach_the_other_seat(db):
    sup = repo.create_user(db, "sup", "Supervisor", "supervisor")
    repo.create_user(db, "ann", "Ann", "operator")
    dep = repo.create_deployment(db, repo.DeploymentSpec("D", "P", "R", "2026-01-01T08:00:00Z",
                                                         "2026-01-01T18:00:00Z", 0.4, 0.363, "m"), sup, "sup")
    cam = repo.add_camera(db, dep, "Cam", "demo:0", "sup")
    wl = repo.create_watchlist(db, dep, "WL", "sup")
    entry = repo.add_entry(db, wl, repo.EntrySpec("R-1", "P", "missing_person", "b", "r", "s", "2025-01-01",
                                                  "2099-01-01"), sup, "sup")
    image = repo.add_entry_image(db, entry, b"j", np.ones(128, np.float32), "m", {}, "sup")
    seen = []
    feed = ChangeFeed(db.reopen, seen.append, interval_s=0.2).start()  # the other seat, its own connection
    try:
        assert wait_for(lambda: feed.last_seq > 0)
        other = db.reopen()  # this seat
        try:
            started = time.monotonic()
            alert = repo.insert_alert(other, repo.AlertRecord(dep, cam, 1, [(entry, image, 0.7)], 0.4, "m",
                                                              [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))
            assert wait_for(lambda: any(c.action == "alert.raised" for c in seen))
            assert time.monotonic() - started < 1.5
            ann = actor_for(other, "ann")
            review.open_alert(other, ann, alert)
            review.confirm(other, ann, alert)
            assert wait_for(lambda: [c.action for c in seen][-2:] == ["alert.opened", "decision.recorded"])
        finally:
            other.close()
        assert all(c.subject_id == str(alert) for c in seen)
        assert [c.seq for c in seen] == sorted(c.seq for c in seen)
    finally:
        feed.stop()

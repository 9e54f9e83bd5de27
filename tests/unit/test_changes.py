"""Live updates: what one seat does reaches another seat's feed within about a second."""

import time

from console.services import review
from console.services.auth import actor_for
from console.services.changes import ChangeFeed
from tests.factories import small_deployment, wait_for


def test_a_new_alert_a_claim_and_a_decision_reach_the_other_seat(db):
    d = small_deployment(db, operators=("ann",))
    seen = []
    feed = ChangeFeed(db.reopen, seen.append, interval_s=0.2).start()  # the other seat, its own connection
    try:
        assert wait_for(lambda: feed.last_seq > 0)
        other = db.reopen()  # this seat
        try:
            started = time.monotonic()
            alert = d.alert(store=other)
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

"""Live updates: what one seat does reaches another seat's feed within about a second."""

import time

from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.runtime.changes import ChangeFeed
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
            adjudication.open_alert(other, ann, alert)
            adjudication.confirm(other, ann, alert)
            assert wait_for(lambda: [c.action for c in seen][-2:] == ["alert.opened", "decision.recorded"])
        finally:
            other.close()
        assert all(c.subject_id == str(alert) for c in seen)
        assert [c.seq for c in seen] == sorted(c.seq for c in seen)
    finally:
        feed.stop()


def test_an_entry_committed_while_the_feed_reads_is_not_skipped(db):
    """A stop (or any entry) committed by another seat in the middle of the feed's read must still
    be delivered on the next read - never jumped over."""
    from console.services.runtime.changes import head_seq
    from console.store import audit

    small_deployment(db)
    seen = []
    feed = ChangeFeed(db.reopen, seen.append, since_seq=head_seq(db))
    reader = db.reopen()
    other = db.reopen()
    try:
        real_query = reader.query

        def query_then_commit(sql, params=()):
            rows = real_query(sql, params)
            if not getattr(query_then_commit, "done", False):
                query_then_commit.done = True
                audit.append(other, "sup", "deployment.stopped", "deployment", 1, {"reason": "committed mid-read"})
            return rows

        reader.query = query_then_commit
        feed._drain(reader)  # the read in which the other seat's entry lands
        feed._drain(reader)  # the next read must deliver it
        assert [c.action for c in seen] == ["deployment.stopped"]
    finally:
        reader.close()
        other.close()

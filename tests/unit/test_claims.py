"""Several seats on one store: claims with leases, and never two decisions on one alert
(enforced by the database), on SQLite and on PostgreSQL."""

import threading

import pytest

from console.errors import StoreError
from console.services import review
from console.services.auth import actor_for
from tests.factories import small_deployment


@pytest.fixture
def seats(db):
    d = small_deployment(db, operators=("ann", "bob"))
    return db, d.alert, actor_for(db, "ann"), actor_for(db, "bob")


def test_an_opened_alert_is_taken_and_others_see_by_whom(seats):
    db, alert, ann, bob = seats
    a = alert()
    review.open_alert(db, ann, a)
    with pytest.raises(review.ReviewError, match="being reviewed by ann"):
        review.open_alert(db, bob, a)
    with pytest.raises(review.ReviewError, match="being reviewed by ann"):
        review.confirm(db, bob, a)
    review.return_to_queue(db, ann, a)  # released
    review.open_alert(db, bob, a)
    review.reject(db, bob, a, "look_alike")
    assert db.one("SELECT claimed_by FROM alerts WHERE id = ?", (a,))["claimed_by"] is None


def test_a_claim_lapses_when_its_console_stops_renewing_it(seats):
    db, alert, ann, bob = seats
    a = alert()
    review.claim(db, ann, a, lease_s=-1)  # a console that died: its lease is already over
    review.open_alert(db, bob, a)
    review.confirm(db, bob, a)


def test_the_database_refuses_a_second_decision_on_one_alert(seats):
    db, alert, ann, bob = seats
    a = alert()
    sql = ("INSERT INTO decisions(alert_id, user_id, decision, reason, decided_at, model_id, threshold, score,"
           " probe_sha256) VALUES (?, ?, 'true_alert', '', '2026-01-01', 'm', 0.4, 0.7, 'h')")
    with db.transaction() as conn:
        conn.execute(sql, (a, ann.user_id))
    with pytest.raises(StoreError, match="(?i)unique"):
        with db.transaction() as conn:
            conn.execute(sql, (a, bob.user_id))
    assert db.one("SELECT COUNT(*) AS n FROM decisions WHERE alert_id = ?", (a,))["n"] == 1


def test_two_seats_deciding_at_once_record_exactly_one_decision(seats):
    db, alert, ann, bob = seats
    ids = [alert() for _ in range(20)]
    results = {"ann": [], "bob": []}

    def seat(actor, name):
        store = db.reopen()
        try:
            for a in ids:
                try:
                    review.confirm(store, actor, a) if name == "ann" else review.reject(store, actor, a, "test")
                    results[name].append(a)
                except Exception:  # already decided by the other seat, or the database said no
                    pass
        finally:
            store.close()

    threads = [threading.Thread(target=seat, args=(ann, "ann")), threading.Thread(target=seat, args=(bob, "bob"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    decided = db.query("SELECT alert_id, COUNT(*) AS n FROM decisions GROUP BY alert_id")
    assert len(decided) == 20 and all(r["n"] == 1 for r in decided)
    assert sorted(results["ann"] + results["bob"]) == sorted(ids)


def test_a_small_control_room_loses_nothing_and_decides_nothing_twice(db):
    from benchmarks.control_room import bench_control_room

    location = db.url if db.dialect == "postgres" else str(db.path.parent)
    r = bench_control_room(location, alerts=160, workers=2, feeds=2, operators=3)["control_room"]
    assert r["alerts_written"] == r["alerts_stored"] == 160
    assert r["alerts_lost"] == 0 and r["decided_twice"] == 0 and r["left_pending"] == 0
    assert r["decisions"] == 160 and r["audit_chain_ok"]

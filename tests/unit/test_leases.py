"""Camera leases of a pool of workers (console/store/leases.py), on SQLite and PostgreSQL: fair shares,
hand-over when a lease lapses, no camera taken twice at once, alerts fenced by their lease, and an
alert written once however often its write is retried."""

from __future__ import annotations

import threading
import time

import pytest

from console.errors import AlertRefused
from console.store import audit, leases, ledger, repo
from tests.factories import small_deployment


def _cameras(d, n: int) -> list[int]:
    return [d.camera_id] + [repo.add_camera(d.store, d.deployment_id, f"Cam {i}", f"demo:{i}", "sup")
                            for i in range(1, n)]


def _renew(store, worker: str, dep: int, period: float = 5.0) -> dict[int, int]:
    with store.transaction() as conn:
        return leases.renew(conn, store.dialect, worker, dep, f"host-{worker}", period)


def _take(store, worker: str, dep: int, count: int, period: float = 5.0) -> dict[int, int]:
    with store.transaction() as conn:
        return leases.take(store, conn, worker, worker, dep, count, period)


def _entries(store, action: str) -> list[dict]:
    import json

    rows = store.query("SELECT action, details_json FROM audit_log WHERE action = ? ORDER BY seq", (action,))
    return [json.loads(r["details_json"]) for r in rows]


def _share(store, dep: int, period: float = 5.0) -> int:
    with store.transaction() as conn:
        return leases.fair_share(conn, store.dialect, dep, period)


def test_a_lone_worker_takes_every_camera_and_a_second_one_gets_half(db):
    d = small_deployment(db)
    cams = _cameras(d, 4)
    _renew(db, "w1", d.deployment_id)
    assert _share(db, d.deployment_id) == 4
    assert sorted(_take(db, "w1", d.deployment_id, 4)) == cams
    assert _take(db, "w2", d.deployment_id, 4) == {}  # nothing free: every lease is live
    _renew(db, "w2", d.deployment_id)
    assert _share(db, d.deployment_id) == 2
    with db.transaction() as conn:
        given = leases.release(db, conn, "w1", "w1", cams[2:], "fair share")
    assert given == cams[2:]
    assert sorted(_take(db, "w2", d.deployment_id, 2)) == cams[2:]
    held = {r["camera_id"]: r["host"] for r in leases.holders(db, d.deployment_id)}
    assert held == {cams[0]: "host-w1", cams[1]: "host-w1", cams[2]: "host-w2", cams[3]: "host-w2"}
    assert sorted(m["cameras"] for m in leases.members(db, d.deployment_id, 5.0)) == [2, 2]
    assert len(_entries(db, "camera.lease_taken")) == 6 and len(_entries(db, "camera.lease_released")) == 2


def test_a_lapsed_lease_is_taken_over_with_a_new_epoch_and_the_old_holder_hears_it(db):
    d = small_deployment(db)
    _renew(db, "w1", d.deployment_id, 0.4)
    first = _take(db, "w1", d.deployment_id, 1, 0.4)
    assert first == {d.camera_id: 1}
    assert _take(db, "w2", d.deployment_id, 1) == {}  # still live
    time.sleep(0.6)  # w1 renews no more: killed, or cut off
    assert _renew(db, "w1", d.deployment_id, 0.4) == {}  # too late: a lapsed lease is not renewed
    assert _take(db, "w2", d.deployment_id, 1) == {d.camera_id: 2}
    taken = _entries(db, "camera.lease_taken")[-1]
    assert taken["from_worker"] == "w1" and taken["epoch"] == 2 and taken["lapsed_s"] > 0


def test_two_workers_taking_at_once_never_take_the_same_camera(db):
    d = small_deployment(db)
    cams = _cameras(d, 6)
    for i in range(4):
        _renew(db, f"w{i}", d.deployment_id)
    stores = [db.reopen() for _ in range(4)]
    barrier, got, errors = threading.Barrier(4), {}, []

    def grab(i: int) -> None:
        try:
            barrier.wait()
            got[i] = _take(stores[i], f"w{i}", d.deployment_id, 3)
        except Exception as exc:  # the test fails below, naming it
            errors.append(exc)

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in stores:
        s.close()
    assert not errors, errors
    taken = [c for g in got.values() for c in g]
    assert len(taken) == len(set(taken)) == len(cams)  # each camera once, and all of them
    assert {r["worker_id"] for r in leases.holders(db, d.deployment_id)} <= {f"w{i}" for i in range(4)}


def _record(d, track: int, key: str = "") -> repo.AlertRecord:
    return repo.AlertRecord(d.deployment_id, d.camera_id, track, [(d.entry_id, d.image_id, 0.7)], 0.4, "m",
                            [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z", key=key)


def test_an_alert_is_written_only_under_the_lease_it_was_raised_under(db):
    d = small_deployment(db)
    _renew(db, "w1", d.deployment_id, 0.4)
    _take(db, "w1", d.deployment_id, 1, 0.4)

    def fence(worker: str, epoch: int):
        return lambda conn: leases.check_fence(conn, db.dialect, d.camera_id, worker, epoch)

    assert repo.insert_alert(db, _record(d, 1), fence=fence("w1", 1)) > 0
    with pytest.raises(AlertRefused, match="no longer this worker's"):
        repo.insert_alert(db, _record(d, 2), fence=fence("w2", 1))  # not its camera
    time.sleep(0.6)
    with pytest.raises(AlertRefused, match="no longer this worker's"):
        repo.insert_alert(db, _record(d, 3), fence=fence("w1", 1))  # its lease lapsed
    _take(db, "w2", d.deployment_id, 1)
    with pytest.raises(AlertRefused):
        repo.insert_alert(db, _record(d, 4), fence=fence("w1", 1))  # the old holder, after the hand-over
    assert repo.insert_alert(db, _record(d, 5), fence=fence("w2", 2)) > 0
    tracks = [r["track_id"] for r in db.query("SELECT track_id FROM alerts ORDER BY id")]
    assert tracks == [1, 5]


def test_an_alert_whose_write_is_retried_is_stored_once(db):
    d = small_deployment(db)
    first = repo.insert_alert(db, _record(d, 7, key="cam/7/entry/t1"))
    again = repo.insert_alert(db, _record(d, 7, key="cam/7/entry/t1"))
    other = repo.insert_alert(db, _record(d, 7, key="cam/7/entry/t2"))  # the same track alerting again later
    assert again == first and other != first
    assert db.one("SELECT COUNT(*) AS n FROM alerts")["n"] == 2
    assert [e["alert_id"] for e in _entries(db, "alert.raised")] == [first, other]
    assert audit.verify_chain(db).ok and ledger.verify(db) == []


def test_the_database_refuses_a_second_alert_with_the_same_key_and_a_changed_key(db):
    d = small_deployment(db)
    alert = repo.insert_alert(db, _record(d, 1, key="k1"))
    second = repo.insert_alert(db, _record(d, 2))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        with db.transaction() as conn:
            conn.execute("INSERT INTO alert_keys(alert_id, idem_key) VALUES (?, ?)", (second, "k1"))
    with pytest.raises(Exception):  # noqa: B017
        with db.transaction() as conn:
            conn.execute("UPDATE alert_keys SET idem_key = 'k2' WHERE alert_id = ?", (alert,))


def test_set_up_shows_which_host_runs_each_camera_and_since_when(db):
    from console.services.accounts.auth import actor_for
    from console.services.setup import cameras

    d = small_deployment(db)
    other = repo.add_camera(db, d.deployment_id, "Cam 2", "demo:2", "sup")
    sup = actor_for(db, "sup")
    assert {c["running_on"] for c in cameras.shown(db, sup, d.deployment_id)} == {"not in a pool"}
    _renew(db, "w1", d.deployment_id, 0.4)
    _take(db, "w1", d.deployment_id, 1, 0.4)
    shown = {c["id"]: c["running_on"] for c in cameras.shown(db, sup, d.deployment_id)}
    assert shown[d.camera_id].startswith("host-w1 since 20") and shown[d.camera_id].endswith(" UTC")
    assert shown[other] == "no worker: waiting for one"
    time.sleep(0.6)
    assert cameras.shown(db, sup, d.deployment_id)[0]["running_on"] == "no worker: waiting for one (last host-w1)"

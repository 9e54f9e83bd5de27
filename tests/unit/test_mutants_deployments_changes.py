"""Deployments' survivors that changed behaviour and had no test (issue 32's mutation check):
authorise's success path and its log entry, the "changed meanwhile" refusals of stop and restart
when a second seat changes the deployment between the read and the write, and start holding the
threshold at the calibrated floor."""

from __future__ import annotations

import json

import pytest

from console.services.accounts.auth import actor_for
from console.services.accuracy import calibration
from console.services.setup import deployment_setup, operating_point
from console.services.setup import deployments as dp
from console.services.setup.deployments import DeploymentError
from console.store import governed, repo
from tests.factories import small_deployment
from tests.unit.test_deployment_setup import setup  # noqa: F401 - the fixture: a draft with two entries


def _entries(store, action):
    return [(r["actor"], r["subject_id"], json.loads(r["details_json"]))
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_authorise_marks_the_deployment_freezes_its_watchlist_and_logs_what_was_authorised(setup):  # noqa: F811
    store, sup, dep = setup["store"], setup["sup"], setup["dep"]
    for item in deployment_setup.CHECKLIST:
        deployment_setup.tick(store, sup, dep, item)
    row = dp.get(store, dep)
    dp.authorise(store, sup, dep, "all checks done")
    after = dp.get(store, dep)
    assert after["state"] == "authorised" and after["authorised_by"] == sup.user_id
    assert after["authorised_at"] and after["authorised_at"] >= row["created_at"]
    assert after["watchlist_sha256"] == deployment_setup.snapshot_hash(store.conn, dep)
    [(actor, subject, details)] = _entries(store, "deployment.authorised")
    assert actor == "sup" and str(subject) == str(dep)
    logged = {k: v for k, v in details.items() if k != "governed"}
    assert logged == {"note": "all checks done", "starts_at": row["starts_at"], "ends_at": row["ends_at"],
                      "location": "Market Square", "watchlist_sha256": after["watchlist_sha256"],
                      "checklist": deployment_setup.checklist(store, dep)}
    assert details["governed"] == {"state": "authorised", "authorised_by": sup.user_id,
                                   "authorised_at": after["authorised_at"],
                                   "watchlist_sha256": after["watchlist_sha256"]}
    assert governed.verify(store) == []


def _meanwhile(monkeypatch, store, change):
    """dp.get hands back the row as read, and another seat then changes it before the write."""
    real = dp.get

    def get(s, deployment_id):
        row = real(s, deployment_id)
        monkeypatch.setattr(dp, "get", real)
        change()
        return row

    monkeypatch.setattr(dp, "get", get)


def test_a_stop_after_another_seat_ended_the_deployment_is_refused_not_written(store, monkeypatch):
    d = small_deployment(store)
    sup = actor_for(store, "sup")
    _meanwhile(monkeypatch, store, lambda: dp.end(store, None, d.deployment_id, "window over"))
    with pytest.raises(DeploymentError) as caught:
        dp.stop(store, sup, d.deployment_id, "crowd too dense")
    assert str(caught.value) == "deployment 'D' changed meanwhile; look again before stopping it"
    assert dp.get(store, d.deployment_id)["state"] == "ended" and not _entries(store, "deployment.stopped")


def test_a_restart_after_another_seat_restarted_it_is_refused_not_written_twice(store, monkeypatch):
    d = small_deployment(store)
    sup = actor_for(store, "sup")
    dp.stop(store, sup, d.deployment_id, "crowd too dense")
    _meanwhile(monkeypatch, store, lambda: dp.restart(store, sup, d.deployment_id, "calmer now"))
    with pytest.raises(DeploymentError) as caught:
        dp.restart(store, sup, d.deployment_id, "calmer at last")
    assert str(caught.value) == "deployment 'D' changed meanwhile; look again before restarting it"
    assert [e[2]["reason"] for e in _entries(store, "deployment.restarted")] == ["calmer now"]


def test_starting_below_the_floor_raises_the_threshold_first_in_the_starters_name(store):
    d = small_deployment(store, operators=("op",))
    with store.transaction() as conn:  # the calibrated model: its floor for one photo is above 0.4
        conn.execute("UPDATE deployments SET model_id = ? WHERE id = ?", (calibration.load().model_id,
                                                                          d.deployment_id))
    floor = operating_point.point(store, d.deployment_id).floor
    assert floor > 0.4
    dp.start(store, actor_for(store, "op"), d.deployment_id)
    assert repo.get_deployment(store, d.deployment_id)["threshold"] == pytest.approx(floor)
    [(actor, subject, details)] = _entries(store, "deployment.threshold_changed")
    assert actor == "op" and str(subject) == str(d.deployment_id)
    assert details["old"] == pytest.approx(0.4) and details["new"] == pytest.approx(floor)
    assert details["reason"] == "raised to the calibrated floor: recognition starting"
    dp.start(store, actor_for(store, "op"), d.deployment_id)  # at the floor now: no second change
    assert len(_entries(store, "deployment.threshold_changed")) == 1


def test_authorise_without_a_note_logs_an_empty_one(setup):  # noqa: F811
    store, sup, dep = setup["store"], setup["sup"], setup["dep"]
    for item in deployment_setup.CHECKLIST:
        deployment_setup.tick(store, sup, dep, item)
    dp.authorise(store, sup, dep)
    assert _entries(store, "deployment.authorised")[0][2]["note"] == ""


def test_a_threshold_below_a_calibrated_floor_is_refused_naming_the_calibration(store):
    d = small_deployment(store)
    with store.transaction() as conn:
        conn.execute("UPDATE deployments SET model_id = ?, threshold = 0.9 WHERE id = ?",
                     (calibration.load().model_id, d.deployment_id))
    op = operating_point.point(store, d.deployment_id)
    with pytest.raises(DeploymentError) as caught:
        dp.change_threshold(store, actor_for(store, "sup"), d.deployment_id, op.floor - 0.01, "tighter")
    assert str(caught.value) == (f"threshold {op.floor - 0.01:.3f} is below the floor {op.floor:.3f} (calibrated for"
                                 f" {op.photos} watchlist photos at 1 false alert in {1 / op.target:,.0f} faces)")
    assert "100,000" in str(caught.value)

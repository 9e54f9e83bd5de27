"""One incident per person per pass: sightings of one subject on any camera within the deployment's
incident window share one queue card and one decision; later sightings of a decided incident are
attached, unless the decision was "different person". On both databases."""

from __future__ import annotations

import json

import pytest

from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.services.setup import deployments
from console.store import audit, repo
from tests.factories import SetClock, small_deployment

T = 1_780_000_000.0


@pytest.fixture
def now(monkeypatch):
    return SetClock(monkeypatch, T)


@pytest.fixture
def room(db, now):
    d = small_deployment(db, operators=("ann", "bob"), incident_window_s=300)  # the product's default
    d.cam2 = repo.add_camera(db, d.deployment_id, "Cam 2", "demo:1", "sup")
    return d, actor_for(db, "ann"), actor_for(db, "bob"), actor_for(db, "sup")


def _status(db, alert_id: int) -> str:
    return db.one("SELECT status FROM alerts WHERE id = ?", (alert_id,))["status"]


def _raised(db, alert_id: int) -> dict:
    row = db.one("SELECT details_json FROM audit_log WHERE action = 'alert.raised' AND subject_id = ?", (str(alert_id),))
    return json.loads(row["details_json"])


def test_sightings_on_two_cameras_make_one_card_with_the_best_first(room, now):
    d, ann, _bob, _sup = room
    first = d.alert(0.62, track=1)
    now.at(40)
    best = d.alert(0.81, track=7, camera=d.cam2)
    now.at(90)
    third = d.alert(0.70, track=2)
    cards = adjudication.queue_rows(d.store, ann, d.deployment_id)
    assert len(cards) == 1
    card = cards[0]
    assert card["id"] == best and card["incident_id"] == first
    assert (card["sightings"], card["cameras"]) == (3, 2)
    assert sorted(card["sighting_ids"]) == sorted([first, best, third])
    assert card["stored_at"] == d.store.one("SELECT stored_at FROM alerts WHERE id = ?", (first,))["stored_at"]
    assert [_raised(d.store, a)["incident"] for a in (first, best, third)] == ["new", "joined", "joined"]
    # any sighting's id finds the same card
    assert adjudication.queue_row(d.store, ann, third)["id"] == best
    detail = adjudication.open_alert(d.store, ann, best)
    assert [s["id"] for s in detail.sightings] == [best, third, first] and detail.sighting_index == 0


def test_deciding_the_incident_once_decides_every_sighting(room, now):
    d, ann, _bob, _sup = room
    a1 = d.alert(0.62)
    now.at(30)
    a2 = d.alert(0.75, track=4, camera=d.cam2)
    adjudication.open_alert(d.store, ann, a2)
    decision = adjudication.confirm(d.store, ann, a2)
    assert _status(d.store, a1) == _status(d.store, a2) == "decided"
    assert adjudication.queue_rows(d.store, ann, d.deployment_id) == []
    rows = d.store.query("SELECT alert_id FROM decisions")
    assert [r["alert_id"] for r in rows] == [a2]  # one decision, on the sighting on screen
    entry = d.store.one("SELECT details_json FROM audit_log WHERE action = 'incident.decided'")
    assert json.loads(entry["details_json"]) == {"incident_id": a1, "decision_id": decision, "decided_on": a2,
                                                 "with_it": [a1]}
    assert audit.verify_chain(d.store).ok and audit.verify_records(d.store) == []


def test_a_later_sighting_of_a_confirmed_incident_is_attached_not_queued(room, now):
    d, ann, _bob, _sup = room
    a1 = d.alert(0.7)
    adjudication.open_alert(d.store, ann, a1)
    adjudication.confirm(d.store, ann, a1)
    now.at(200)
    a2 = d.alert(0.72, track=9, camera=d.cam2)
    assert _status(d.store, a2) == "decided" and _raised(d.store, a2)["incident"] == "attached"
    assert adjudication.queue_rows(d.store, ann, d.deployment_id) == []
    # still attached 250 s after the latest sighting (the window runs from the latest one) ...
    now.at(450)
    a3 = d.alert(0.66, track=10)
    assert _raised(d.store, a3)["incident"] == "attached" and _raised(d.store, a3)["incident_id"] == a1
    # ... but a sighting more than the window after the latest is a new pass: a new card
    now.at(450 + 301)
    a4 = d.alert(0.69, track=11)
    assert _raised(d.store, a4)["incident"] == "new" and _status(d.store, a4) == "pending"
    assert [c["id"] for c in adjudication.queue_rows(d.store, ann, d.deployment_id)] == [a4]


@pytest.mark.parametrize("reason", ["look_alike", "image_too_poor", "test"])
def test_other_rejections_also_attach_later_sightings(room, now, reason):
    d, ann, _bob, _sup = room
    first = d.alert(0.7)
    adjudication.open_alert(d.store, ann, first)
    adjudication.reject(d.store, ann, first, reason)
    now.at(60)
    later = d.alert(0.9, track=5)
    assert _status(d.store, later) == "decided"


def test_after_different_person_the_next_sighting_is_a_new_card_and_every_track_is_suppressed(room, now):
    d, ann, _bob, _sup = room
    a1 = d.alert(0.7, track=3)
    now.at(10)
    a2 = d.alert(0.68, track=8, camera=d.cam2)
    adjudication.open_alert(d.store, ann, a1)
    adjudication.reject(d.store, ann, a1, "different_person")
    assert repo.suppressions(d.store, d.deployment_id, d.camera_id) == {(3, d.entry_id)}
    assert repo.suppressions(d.store, d.deployment_id, d.cam2) == {(8, d.entry_id)}
    now.at(20)
    a3 = d.alert(0.71, track=12)
    assert _raised(d.store, a3)["incident"] == "new" and _status(d.store, a3) == "pending"
    assert _status(d.store, a2) == "decided"


def test_an_incident_is_held_by_one_seat_including_sightings_that_join_later(room, now):
    d, ann, bob, _sup = room
    a1 = d.alert(0.7)
    adjudication.open_alert(d.store, ann, a1)
    now.at(5)
    a2 = d.alert(0.8, track=2, camera=d.cam2)
    assert d.store.one("SELECT claimed_by FROM alerts WHERE id = ?", (a2,))["claimed_by"] == ann.user_id
    with pytest.raises(adjudication.DecisionError, match="being reviewed by ann"):
        adjudication.open_alert(d.store, bob, a2)
    with pytest.raises(adjudication.DecisionError, match="being reviewed by ann"):
        adjudication.reject(d.store, bob, a2, "look_alike")
    adjudication.return_to_queue(d.store, ann, a2)  # putting back any sighting puts back the incident
    adjudication.open_alert(d.store, bob, a2)
    adjudication.reject(d.store, bob, a2, "look_alike")
    assert _status(d.store, a1) == "decided"


def test_an_escalated_incident_stays_with_the_supervisors_as_it_grows(room, now):
    d, ann, _bob, sup = room
    a1 = d.alert(0.7)
    adjudication.open_alert(d.store, ann, a1)
    adjudication.escalate(d.store, ann, a1, "unsure")
    now.at(5)
    a2 = d.alert(0.75, track=2, camera=d.cam2)
    with pytest.raises(adjudication.DecisionError, match="escalated"):
        adjudication.confirm(d.store, ann, a2)
    adjudication.open_alert(d.store, sup, a2)
    adjudication.confirm(d.store, sup, a2, "the same person")
    assert _status(d.store, a1) == "decided"


def test_the_two_person_rule_holds_across_sightings(room, now):
    d, ann, bob, sup = room
    deployments.set_two_person_rule(d.store, sup, d.deployment_id, True, "policy")
    a1 = d.alert(0.7)
    adjudication.open_alert(d.store, ann, a1)
    assert adjudication.confirm(d.store, ann, a1) is None  # the first of two
    now.at(5)
    a2 = d.alert(0.9, track=2, camera=d.cam2)  # a better sighting comes; it shows first
    adjudication.open_alert(d.store, ann, a2)
    with pytest.raises(adjudication.DecisionError, match="second, different user"):
        adjudication.confirm(d.store, ann, a2)
    adjudication.return_to_queue(d.store, ann, a2)
    adjudication.open_alert(d.store, bob, a2)
    assert adjudication.confirm(d.store, bob, a2) is not None
    assert _status(d.store, a1) == "decided"


def test_the_window_is_the_supervisors_to_change_with_a_reason_and_zero_turns_grouping_off(room, now):
    d, ann, _bob, sup = room
    with pytest.raises(Exception, match="may not manage deployment"):
        deployments.set_incident_window(d.store, ann, d.deployment_id, 0, "fewer clicks")
    with pytest.raises(deployments.DeploymentError, match="reason"):
        deployments.set_incident_window(d.store, sup, d.deployment_id, 0, " ")
    with pytest.raises(deployments.DeploymentError, match="0 to 3600"):
        deployments.set_incident_window(d.store, sup, d.deployment_id, 7200, "long")
    deployments.set_incident_window(d.store, sup, d.deployment_id, 0, "each alert alone for this trial")
    entry = d.store.one("SELECT details_json FROM audit_log WHERE action = 'deployment.incident_window'")
    assert json.loads(entry["details_json"]) == {"old": 300, "new": 0, "reason": "each alert alone for this trial",
                                                  "governed": {"incident_window_s": 0}}
    d.alert(0.7)
    d.alert(0.7, track=2)
    assert len(adjudication.queue_rows(d.store, ann, d.deployment_id)) == 2


def test_another_subject_is_another_incident(room, now):
    d, ann, _bob, _sup = room
    other = repo.add_entry(d.store, d.watchlist_id, repo.EntrySpec("R-2", "Q", "missing_person", "b", "r", "s",
                                                                   "2025-01-01", "2099-01-01"), d.supervisor_id, "sup")
    img = repo.add_entry_image(d.store, other, b"k", __import__("numpy").ones(128, "float32"), "m", {}, "sup")
    d.alert(0.7)
    repo.insert_alert(d.store, repo.AlertRecord(d.deployment_id, d.camera_id, 2, [(other, img, 0.7)], 0.4, "m",
                                                [0, 0, 1, 1], {}, b"p", b"c", "2026-01-01T09:00:00Z"))
    assert len(adjudication.queue_rows(d.store, ann, d.deployment_id)) == 2


def test_every_figure_counts_incidents_with_alerts_beside(room, now):
    from console.services.record import reports, stats

    d, ann, _bob, sup = room
    repo.add_face_stats(d.store, d.deployment_id, d.camera_id, 2000, 0, __import__("numpy").array([0.1] * 10))
    a1 = d.alert(0.62)
    now.at(20)
    d.alert(0.80, track=2, camera=d.cam2)  # one person, two cameras: one incident, rejected once
    adjudication.open_alert(d.store, ann, a1)
    adjudication.reject(d.store, ann, a1, "look_alike")
    now.at(1000)
    confirmed = d.alert(0.9, track=3)  # a later pass: its own incident, confirmed
    adjudication.open_alert(d.store, ann, confirmed)
    adjudication.confirm(d.store, ann, confirmed)
    now.at(1010)
    d.alert(0.91, track=4)  # attached to the confirmed incident
    now.at(2000)
    old = d.alert(0.5, track=5)  # an old-style "duplicate" rejection (no longer offered): a repeat, not false
    repo.record_decision(d.store, old, ann.user_id, "false_alert", "dup", "ann", reason_code="duplicate")

    r = reports.deployment_record(d.store, sup, d.deployment_id)
    assert (r["incidents"], r["alerts"]) == (3, 5)
    assert (r["true_incidents"], r["false_incidents"], r["undecided_incidents"],
            r["repeats_rejected_as_duplicate"]) == (1, 1, 0, 1)
    assert r["false_incidents_per_1000_faces"] == 0.5

    dash = stats.dashboard(d.store, sup, d.deployment_id)
    assert (dash["incidents"], dash["alerts"], dash["decided"]) == (3, 5, 2)
    assert dash["confirm_rate"] == dash["reject_rate"] == 0.5
    assert dash["scores_rejected"] == [0.8] and dash["scores_confirmed"] == [0.91]  # each incident's best
    assert dash["per_camera"]["Cam 2"] == {"camera_id": d.cam2, "incidents": 1, "false": 1, "alerts": 1, "faces": 0,
                                           "false_per_1000_faces": None}
    assert sum(n for _, n in dash["incidents_per_hour"]) == 3 and sum(n for _, n in dash["alerts_per_hour"]) == 5

    w = reports.threshold_what_if(d.store, sup, d.deployment_id, 0.85)
    assert (w["past_incidents_kept"], w["past_incidents_suppressed"]) == (1, 2)
    assert (w["past_alerts_kept"], w["past_alerts_suppressed"]) == (2, 3)

    # every sighting in the log shows its incident's decision; none reads "undecided"
    log = stats.log_page(d.store, sup, stats.LogFilter(deployment_id=d.deployment_id), 0)
    assert len(log) == 5 and all(row["decision"] for row in log)
    assert stats.log_count(d.store, sup, stats.LogFilter(deployment_id=d.deployment_id, decision="undecided")) == 0

    # blind review samples the two decided incidents (not the repeat), each by the sighting decided on
    sample = reports.draw_sample(d.store, sup, d.deployment_id, 10, seed=1)
    drawn = {row["alert_id"] for row in d.store.query("SELECT alert_id FROM review_samples WHERE sample = ?", (sample,))}
    assert drawn == {a1, confirmed}

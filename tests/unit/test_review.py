"""The review services: who may do what, what each step records, and what it refuses."""

import json

import numpy as np
import pytest

from console.errors import PermissionDenied
from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication, case_file, corrections
from console.store import audit, repo


@pytest.fixture
def alert(store):
    sup = repo.create_user(store, "sup", "Supervisor", "supervisor")
    repo.create_user(store, "op", "Operator", "operator")
    repo.create_user(store, "eo", "Engagement", "engagement_officer")
    repo.create_user(store, "aud", "Auditor", "auditor")
    dep = repo.create_deployment(store, repo.DeploymentSpec("Op", "Place", "why", "2026-01-01T08:00:00Z",
                                                            "2099-01-01T08:00:00Z", 0.4, 0.36, "m",
                                                            incident_window_s=0), sup, "sup")  # one alert, one incident
    repo.activate_deployment(store, dep, "sup")
    cam = repo.add_camera(store, dep, "Cam 1", "demo:0", "sup")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = repo.add_entry(store, wl, repo.EntrySpec("R-1", "Person", "risk_to_others", "basis", "reason", "src",
                                                     "2024-01-01", "2027-01-01"), sup, "sup")
    image = repo.add_entry_image(store, entry, b"jpeg", np.ones(128, np.float32), "m", {"score": 0.9}, "sup")

    def make():
        record = repo.AlertRecord(dep, cam, 3, [(entry, image, 0.7)], 0.4, "m", [1, 2, 3, 4], {"score": 0.8},
                                  b"probe", b"ctx", "2026-01-01T09:00:00Z")
        return repo.insert_alert(store, record)

    return store, make


def test_open_then_confirm_records_who_when_and_how_long(alert):
    store, make = alert
    alert_id = make()
    op = actor_for(store, "op")
    detail = adjudication.open_alert(store, op, alert_id)
    assert detail.candidates[0].category == "risk_to_others" and detail.priority == 1
    assert detail.candidates[0].image_age_years > 1
    decision = adjudication.confirm(store, op, alert_id)
    row = store.one("SELECT * FROM decisions WHERE id = ?", (decision,))
    assert row["decision"] == "true_alert" and row["duration_ms"] is not None and row["duration_ms"] >= 0
    actions = [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]
    assert actions[-2:] == ["alert.opened", "decision.recorded"]
    assert audit.verify_chain(store).ok and audit.verify_records(store) == []


def test_reject_needs_one_of_the_fixed_reasons(alert):
    store, make = alert
    alert_id = make()
    op = actor_for(store, "op")
    for bad in ("", "because", "DIFFERENT_PERSON"):
        with pytest.raises(adjudication.DecisionError, match="needs a reason"):
            adjudication.reject(store, op, alert_id, bad)
    assert store.one("SELECT COUNT(*) AS n FROM decisions")["n"] == 0
    adjudication.open_alert(store, op, alert_id)
    adjudication.reject(store, op, alert_id, "different_person")
    sup = store.one("SELECT * FROM suppressions")
    assert sup["track_id"] == 3 and sup["entry_id"] > 0
    with pytest.raises(adjudication.DecisionError, match="already decided"):
        adjudication.confirm(store, op, alert_id)


def test_roles_are_enforced(alert):
    store, make = alert
    alert_id = make()
    with pytest.raises(PermissionDenied, match="auditor"):
        adjudication.confirm(store, actor_for(store, "aud"), alert_id)
    with pytest.raises(PermissionDenied):
        adjudication.open_alert(store, actor_for(store, "eo"), alert_id)


def test_an_escalated_alert_is_decided_by_a_supervisor(alert):
    store, make = alert
    alert_id = make()
    adjudication.open_alert(store, actor_for(store, "op"), alert_id)
    adjudication.escalate(store, actor_for(store, "op"), alert_id, "not sure")
    with pytest.raises(adjudication.DecisionError, match="supervisor decides"):
        adjudication.confirm(store, actor_for(store, "op"), alert_id)
    adjudication.open_alert(store, actor_for(store, "sup"), alert_id)  # escalation let go of the claim at once
    adjudication.reject(store, actor_for(store, "sup"), alert_id, "look_alike", "a look-alike")
    assert store.one("SELECT escalated_at FROM alerts WHERE id = ?", (alert_id,))["escalated_at"]


def test_outcomes_only_for_confirmed_alerts_and_other_needs_a_note(alert):
    store, make = alert
    confirmed, rejected = make(), make()
    op = actor_for(store, "op")
    adjudication.open_alert(store, op, confirmed)
    adjudication.confirm(store, op, confirmed)
    adjudication.open_alert(store, op, rejected)
    adjudication.reject(store, op, rejected, "image_too_poor")
    with pytest.raises(adjudication.DecisionError, match="was not confirmed"):
        adjudication.record_outcome(store, op, rejected, "not_located", "no_further_action")
    with pytest.raises(adjudication.DecisionError, match="needs a note"):
        adjudication.record_outcome(store, op, confirmed, "confirmed_true", "other")
    with pytest.raises(adjudication.DecisionError, match="unknown action"):
        adjudication.record_outcome(store, op, confirmed, "confirmed_true", "tasered")
    adjudication.record_outcome(store, actor_for(store, "eo"), confirmed, "confirmed_true", "arrest")
    assert store.one("SELECT result, action FROM engagements")["action"] == "arrest"


def test_a_correction_is_a_new_decision_that_points_to_the_old(alert):
    store, make = alert
    alert_id = make()
    op = actor_for(store, "op")
    adjudication.open_alert(store, op, alert_id)
    first = adjudication.confirm(store, op, alert_id)
    sup = actor_for(store, "sup")
    with pytest.raises(adjudication.DecisionError, match="needs a note"):
        corrections.correct_decision(store, sup, first, "false_alert", "look_alike", "")
    second = corrections.correct_decision(store, sup, first, "false_alert", "look_alike", "second look: twin")
    rows = store.query("SELECT id, decision, supersedes FROM decisions ORDER BY id")
    assert [(r["id"], r["decision"], r["supersedes"]) for r in rows] == [(first, "true_alert", None),
                                                                         (second, "false_alert", first)]
    assert audit.verify_records(store) == []


def test_looking_back_at_an_alert_is_logged_where_it_happened_and_opening_logs_once(alert):
    store, make = alert
    alert_id = make()
    before = store.one("SELECT MAX(seq) AS s FROM audit_log")["s"]
    adjudication.open_alert(store, actor_for(store, "op"), alert_id)
    opened = store.query("SELECT action FROM audit_log WHERE seq > ?", (before,))
    assert [r["action"] for r in opened] == ["alert.opened"]  # one entry, not opened + viewed
    with pytest.raises(PermissionDenied, match="operator"):
        adjudication.alert_detail(store, actor_for(store, "op"), alert_id, "decision log")
    detail = adjudication.alert_detail(store, actor_for(store, "aud"), alert_id, "decision log")
    assert detail.probe_jpeg == b"probe"
    viewed = store.one("SELECT actor, subject_id, details_json FROM audit_log WHERE action = 'alert.viewed'")
    assert (viewed["actor"], viewed["subject_id"]) == ("aud", str(alert_id))
    assert json.loads(viewed["details_json"]) == {"where": "decision log"}
    assert audit.verify_chain(store).ok


def test_queue_rows_carry_thumbnails_and_priority_order(alert):
    store, make = alert
    a, b = make(), make()
    rows = adjudication.queue_rows(store, actor_for(store, "op"), 1)
    assert [r["id"] for r in rows] == [a, b]  # same priority: the longest waiting first
    assert rows[0]["probe_jpeg"] == b"probe" and rows[0]["candidate_jpeg"] == b"jpeg"


def test_exported_context_frames_blur_every_bystander(alert, engine, group_photo, tmp_path):
    import cv2

    store, make = alert
    alert_id = make()
    faces = engine.detect(group_photo)
    target = faces[0]
    ok, buf = cv2.imencode(".jpg", group_photo)
    store.conn.execute("UPDATE alerts SET context_jpeg = ?, bbox_json = ? WHERE id = ?",
                       (buf.tobytes(), json.dumps([float(v) for v in target.box]), alert_id))
    files = case_file.export_alert(store, actor_for(store, "sup"), alert_id, tmp_path, engine=engine)
    exported = cv2.imread(str(next(p for p in files if p.name.endswith("context.jpg"))))
    still_found = engine.detect(exported)
    assert len(faces) == 6 and len(still_found) == 1  # only the alerted face is still a face
    assert abs(still_found[0].box - target.box).max() < 8
    logged = json.loads(store.one("SELECT details_json FROM audit_log WHERE action = 'alert.exported'")["details_json"])
    # The five bystanders at least; the blur's low score threshold (0.3) also covers a couple of small
    # face-like spots (a glass, the edge of the chips), which costs the scene a blob each.
    assert 5 <= logged["bystanders_blurred"] <= 8

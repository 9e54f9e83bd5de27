"""``verify_records`` holds decision, engagement and alert rows against their audit entries.
Each test here changes the database the way someone with the file (or a PostgreSQL login)
and the will to do it would - triggers dropped first where the table refuses - and checks
that the change is named. On SQLite and on PostgreSQL."""

import hashlib
import json

import pytest

from console.services.accounts.auth import actor_for
from console.services.decisions import adjudication
from console.store import audit
from tests.conftest import drop_append_only_guards
from tests.factories import small_deployment


@pytest.fixture
def record(db):
    """Three alerts: one confirmed with an engagement outcome, one rejected, one pending."""
    d = small_deployment(db, operators=("ann",))
    ann = actor_for(db, "ann")
    confirmed, rejected, pending = d.alert(track=1), d.alert(track=2), d.alert(track=3)
    adjudication.open_alert(db, ann, confirmed)
    kept = adjudication.confirm(db, ann, confirmed)
    adjudication.open_alert(db, ann, rejected)
    refused = adjudication.reject(db, ann, rejected, "look_alike")
    engagement = adjudication.record_outcome(db, ann, confirmed, "confirmed_true", "arrest")
    assert audit.verify_records(db) == []  # untouched, nothing is reported
    return {"db": db, "d": d, "alerts": (confirmed, rejected, pending), "decisions": (kept, refused),
            "engagement": engagement}


def _seq(db, action: str, key: str, ident: int) -> int:
    """The audit entry that recorded a row, found by reading the log directly."""
    rows = [r for r in db.query("SELECT seq, details_json FROM audit_log WHERE action = ?", (action,))
            if json.loads(r["details_json"]).get(key) == ident]
    assert len(rows) == 1, (action, key, ident)
    return int(rows[0]["seq"])


def test_a_deleted_decision_is_missing_from_the_database(record):
    db = record["db"]
    kept, refused = record["decisions"]
    seq = _seq(db, "decision.recorded", "decision_id", refused)
    drop_append_only_guards(db, "decisions")
    db.conn.execute("DELETE FROM decisions WHERE id = ?", (refused,))
    assert audit.verify_records(db) == [
        f"decision {refused} recorded in audit entry {seq} is missing from the database"]


def test_a_deleted_engagement_is_missing_from_the_database(record):
    db, engagement = record["db"], record["engagement"]
    seq = _seq(db, "engagement.recorded", "engagement_id", engagement)
    drop_append_only_guards(db, "engagements")
    db.conn.execute("DELETE FROM engagements WHERE id = ?", (engagement,))
    assert audit.verify_records(db) == [
        f"engagement {engagement} recorded in audit entry {seq} is missing from the database"]


@pytest.mark.parametrize("column", ["probe_jpeg", "context_jpeg"])
def test_replaced_alert_images_are_found_though_the_hash_columns_were_left(record, column):
    db = record["db"]
    alert = record["alerts"][1]
    db.conn.execute(f"UPDATE alerts SET {column} = ? WHERE id = ?", (b"someone else's face", alert))
    assert audit.verify_records(db) == [f"alert {alert}: stored images were replaced after the alert was raised"]


@pytest.mark.parametrize("column", ["probe_sha256", "context_sha256"])
def test_replaced_images_with_new_hashes_differ_from_the_audit_entry(record, column):
    """The careful forger also rewrites the hash column to match the new image."""
    db = record["db"]
    alert = record["alerts"][0]
    seq = _seq(db, "alert.raised", "alert_id", alert)
    forged = b"someone else's face"
    image_column = column.replace("sha256", "jpeg")
    db.conn.execute(f"UPDATE alerts SET {image_column} = ?, {column} = ? WHERE id = ?",
                    (forged, hashlib.sha256(forged).hexdigest(), alert))
    assert audit.verify_records(db) == [f"alert {alert}: image hashes differ from audit entry {seq}"]


def test_an_alert_hash_column_changed_alone_differs_from_the_audit_entry(record):
    db = record["db"]
    alert = record["alerts"][2]
    seq = _seq(db, "alert.raised", "alert_id", alert)
    db.conn.execute("UPDATE alerts SET probe_sha256 = ? WHERE id = ?", ("0" * 64, alert))
    assert audit.verify_records(db) == [f"alert {alert}: image hashes differ from audit entry {seq}"]


@pytest.mark.parametrize("score", [0.71, 0.69, 0.9])
def test_a_changed_alert_score_differs_from_the_audit_entry(record, score):
    db = record["db"]
    alert = record["alerts"][0]  # raised at 0.7 (tests/factories.py)
    seq = _seq(db, "alert.raised", "alert_id", alert)
    db.conn.execute("UPDATE alerts SET score = ? WHERE id = ?", (score, alert))
    assert audit.verify_records(db) == [f"alert {alert}: score differs from audit entry {seq}"]


@pytest.mark.parametrize("change", [
    "decision = 'false_alert'", "reason = 'looked fine to me'", "reason_code = 'look_alike'",
    "decided_at = '2026-01-01T09:00:01Z'", "score = 0.41", "threshold = 0.2", "probe_sha256 = 'x'", "duration_ms = 987654",
    "user_id = (SELECT id FROM users WHERE username = 'sup')"])
def test_a_decision_edited_in_place_was_changed_after_it_was_recorded(record, change):
    db = record["db"]
    kept, _ = record["decisions"]
    seq = _seq(db, "decision.recorded", "decision_id", kept)
    drop_append_only_guards(db, "decisions")
    db.conn.execute(f"UPDATE decisions SET {change} WHERE id = ?", (kept,))
    assert audit.verify_records(db) == [f"decision {kept} was changed after it was recorded (audit entry {seq})"]


@pytest.mark.parametrize("change", ["result = 'confirmed_false'", "action = 'words_of_advice'", "notes = 'n'"])
def test_an_engagement_edited_in_place_was_changed_after_it_was_recorded(record, change):
    db, engagement = record["db"], record["engagement"]
    seq = _seq(db, "engagement.recorded", "engagement_id", engagement)
    drop_append_only_guards(db, "engagements")
    db.conn.execute(f"UPDATE engagements SET {change} WHERE id = ?", (engagement,))
    assert audit.verify_records(db) == [
        f"engagement {engagement} was changed after it was recorded (audit entry {seq})"]


def test_a_decision_written_past_the_console_has_no_audit_entry(record):
    """INSERT is allowed (decisions are append-only, not read-only): a row added by hand."""
    db = record["db"]
    pending = record["alerts"][2]
    db.conn.execute(
        "INSERT INTO decisions(alert_id, user_id, decision, reason, decided_at, model_id, threshold, score,"
        " probe_sha256) VALUES (?, ?, 'true_alert', '', '2026-01-01T10:00:00Z', 'm', 0.4, 0.7, 'h')",
        (pending, record["d"].supervisor_id))
    added = db.one("SELECT id FROM decisions WHERE alert_id = ?", (pending,))["id"]
    assert audit.verify_records(db) == [f"decision {added} has no audit entry"]


def test_an_alert_written_past_the_console_has_no_audit_entry(record):
    db, d = record["db"], record["d"]
    db.conn.execute(
        "INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
        " quality_json, probe_jpeg, probe_sha256, context_jpeg, context_sha256, captured_at, stored_at, priority)"
        " VALUES (?, ?, 9, ?, 0.8, 0.4, 'm', '[]', '{}', ?, ?, ?, ?, '2026-01-01', '2026-01-01', 1)",
        (d.deployment_id, d.camera_id, d.entry_id, b"p", hashlib.sha256(b"p").hexdigest(), b"c",
         hashlib.sha256(b"c").hexdigest()))
    added = db.one("SELECT MAX(id) AS id FROM alerts")["id"]
    assert added not in record["alerts"]
    assert audit.verify_records(db) == [f"alert {added} has no audit entry"]


def test_purged_images_are_not_taken_for_replaced_ones(record):
    """The other side: retention empties the image columns on purpose, and that is no finding."""
    from datetime import UTC, datetime, timedelta

    from console.services.record import retention

    db = record["db"]
    report = retention.run_purges(db, now=datetime.now(UTC) + timedelta(days=40))
    assert report.alerts == 3
    assert db.one("SELECT COUNT(*) AS n FROM alerts WHERE probe_jpeg IS NULL AND context_jpeg IS NULL")["n"] == 3
    assert audit.verify_records(db) == []
    db.conn.execute("UPDATE alerts SET score = 0.5 WHERE id = ?", (record["alerts"][1],))  # still checked after
    assert len(audit.verify_records(db)) == 1

"""Tests that kill the mutants ``python main.py bench mutation --module audit`` found alive.

The canonical form and the digests are a format: a log written by one release must verify
under the next, so they are pinned to known answers, not only checked against themselves.
"""

import hashlib
import json

import pytest

from console.store import audit, repo
from tests.conftest import drop_append_only_guards as _drop_guards
from tests.factories import small_deployment

DECISION = {"id": 3, "alert_id": 12, "user_id": 2, "decision": "true_alert", "reason": "Zoë", "reason_code": "same_person",
            "decided_at": "2024-05-01T10:00:00.000000Z", "model_id": "m", "threshold": 0.4, "score": 0.71,
            "probe_sha256": "p", "candidate_sha256": "c", "supersedes": None, "duration_ms": 1500,
            "candidate_entry_id": None, "candidate_score": None, "not_digested": "x"}


def test_the_canonical_form_is_sorted_compact_utf8_json():
    assert audit.canonical({"b": 1, "a": "é", "c": [1, {"y": 2, "x": 1}]}) == '{"a":"é","b":1,"c":[1,{"x":1,"y":2}]}'.encode()


def test_an_entry_hash_is_pinned_to_a_known_answer():
    assert audit.GENESIS == "0" * 64
    digest = audit.entry_hash(7, "2024-05-01T10:00:00.000000Z", "ana", "decision.recorded", "alert", "12",
                              '{"note":"Zoë","n":[1,2]}', "ab" * 32)
    assert digest == "628213aad6e92b0ac3e62cf9d4bf23caa5d629551b02b6ce095493238a426fce"


def test_a_row_digest_is_pinned_and_later_fields_count_once_set():
    row = dict(DECISION)
    assert audit.row_digest(row, audit.DECISION_FIELDS) == "c05fcc7c63b9a2c1d31873c2a4296b74492d3d481b99320ff11d54f8ddd29435"
    row["not_digested"] = "changed"  # only the listed fields are covered
    assert audit.row_digest(row, audit.DECISION_FIELDS) == "c05fcc7c63b9a2c1d31873c2a4296b74492d3d481b99320ff11d54f8ddd29435"
    row.update(candidate_entry_id=5, candidate_score=0.71)
    assert audit.row_digest(row, audit.DECISION_FIELDS) == "064bf8c2d6ccd8f08b79d10980515385f555aa705afab663f1e45620c88b1060"


def test_the_first_entry_links_to_genesis_and_each_next_to_the_one_before(db):
    first = audit.append(db, "op", "x.done", "thing", 1)
    second = audit.append(db, "op", "x.done", "thing", 2, {"k": "v"})
    assert (first, second) == (1, 2)
    rows = db.query("SELECT * FROM audit_log ORDER BY seq")
    assert rows[0]["prev_hash"] == audit.GENESIS and rows[1]["prev_hash"] == rows[0]["hash"]
    assert rows[0]["details_json"] == "{}" and rows[1]["details_json"] == '{"k":"v"}'
    assert (rows[1]["actor"], rows[1]["action"], rows[1]["subject_type"], rows[1]["subject_id"]) == ("op", "x.done",
                                                                                                    "thing", "2")
    for r in rows:
        assert r["hash"] == audit.entry_hash(r["seq"], r["at"], r["actor"], r["action"], r["subject_type"],
                                             r["subject_id"], r["details_json"], r["prev_hash"])


def test_an_intact_report_counts_its_entries_and_says_so(db):
    for i in range(3):
        audit.append(db, "op", "x.done", "thing", i)
    report = audit.verify_chain(db)
    assert report == audit.ChainReport(True, 3, None, "")
    assert report.summary() == "audit chain intact: 3 entries verified"


def _edit(db, sql, params=()):
    _drop_guards(db)
    db.conn.execute(sql, params)


@pytest.mark.parametrize("column, value, problem", [
    ("prev_hash", "f" * 64, "its prev_hash does not match the entry before it"),
    ("details_json", "{not json", "its details are not valid JSON"),
    ("actor", "someone else", "its content does not match its hash (altered)"),
])
def test_each_kind_of_break_is_named_with_the_entries_before_it(db, column, value, problem):
    for i in range(4):
        audit.append(db, "op", "x.done", "thing", i)
    _edit(db, f"UPDATE audit_log SET {column} = ? WHERE seq = 3", (value,))
    report = audit.verify_chain(db)
    assert report == audit.ChainReport(False, 2, 3, problem)
    assert report.summary() == f"audit chain BROKEN at entry 3: {problem}"


def test_a_missing_entry_names_the_gap_and_the_entries_before_it(db):
    for i in range(4):
        audit.append(db, "op", "x.done", "thing", i)
    _edit(db, "DELETE FROM audit_log WHERE seq = 2")
    assert audit.verify_chain(db) == audit.ChainReport(False, 1, 2, "entry 2 is missing (next is 3)")


def test_entries_cut_from_the_end_are_named_with_the_range(db):
    for i in range(5):
        audit.append(db, "op", "x.done", "thing", i)
    _edit(db, "DELETE FROM audit_log WHERE seq >= 4")
    assert audit.verify_chain(db) == audit.ChainReport(False, 3, 4, "entries 4..5 were removed from the end")


def test_the_last_entry_cut_is_found_too(db):
    for i in range(3):
        audit.append(db, "op", "x.done", "thing", i)
    _edit(db, "DELETE FROM audit_log WHERE seq = 3")
    assert audit.verify_chain(db) == audit.ChainReport(False, 2, 3, "entries 3..3 were removed from the end")


def test_an_empty_log_is_intact(db):
    assert audit.verify_chain(db) == audit.ChainReport(True, 0)
    assert audit.verify_records(db) == []


def test_log_entries_without_ids_do_not_match_rows(db):
    """An entry whose details lack the id is keyed -1: it matches no row and reports no row as missing."""
    audit.append(db, "op", "decision.recorded", "alert", 1, {"note": "no id"})
    audit.append(db, "op", "engagement.recorded", "alert", 1, {"note": "no id"})
    audit.append(db, "op", "alert.raised", "alert", 1, {"note": "no id"})
    assert audit.verify_records(db) == ["decision -1 recorded in audit entry 1 is missing from the database",
                                        "engagement -1 recorded in audit entry 2 is missing from the database",
                                        "alert -1 recorded in audit entry 3 is missing from the database"]
    details = json.loads(db.one("SELECT details_json FROM audit_log WHERE seq = 3")["details_json"])
    assert details == {"note": "no id"}


# -- append: the stored details, and the defaults -------------------------------------------------------------
def test_stored_details_are_the_canonical_text_sorted_compact_and_unescaped(db):
    audit.append(db, "op", "x.done", "thing", 1, {"zeta": 1, "alpha": "Zoë", "mid": [2, 1]})
    assert db.one("SELECT details_json FROM audit_log")["details_json"] == '{"alpha":"Zoë","mid":[2,1],"zeta":1}'


def test_an_entry_about_nothing_in_particular_has_an_empty_subject(db):
    audit.append(db, "op", "console.started")
    row = db.one("SELECT subject_type, subject_id, details_json FROM audit_log")
    assert (row["subject_type"], row["subject_id"], row["details_json"]) == ("", "", "{}")


# -- verify_records: alerts ------------------------------------------------------------------------------------
def _alert_past_the_console(db, d, probe: bytes = b"p", context: bytes = b"c", score: float = 0.8) -> int:
    db.conn.execute(
        "INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
        " quality_json, probe_jpeg, probe_sha256, context_jpeg, context_sha256, captured_at, stored_at, priority)"
        " VALUES (?, ?, 9, ?, ?, 0.4, 'm', '[]', '{}', ?, ?, ?, ?, '2026-01-01', '2026-01-01', 1)",
        (d.deployment_id, d.camera_id, d.entry_id, score, probe, hashlib.sha256(probe).hexdigest(), context,
         hashlib.sha256(context).hexdigest()))
    return int(db.one("SELECT MAX(id) AS id FROM alerts")["id"])


def test_an_alert_with_no_entry_does_not_stop_the_check_of_the_alerts_after_it(db):
    d = small_deployment(db)
    first = d.alert(track=1)
    unlogged = _alert_past_the_console(db, d)
    last = d.alert(track=2)
    _edit(db, "UPDATE alerts SET score = 0.95 WHERE id = ?", (last,))
    seq = db.one("SELECT MAX(seq) AS s FROM audit_log WHERE action = 'alert.raised'")["s"]
    assert first < unlogged < last
    assert audit.verify_records(db) == [f"alert {unlogged} has no audit entry",
                                        f"alert {last}: score differs from audit entry {seq}"]


def test_an_alert_entry_without_an_id_vouches_for_no_alert(db):
    d = small_deployment(db)
    unlogged = _alert_past_the_console(db, d)
    assert unlogged == 1  # the id a wrong default (1 instead of -1) would give the stray entry
    seq = audit.append(db, "op", "alert.raised", "alert", 1, {"note": "no id"})
    assert audit.verify_records(db) == ["alert 1 has no audit entry",
                                        f"alert -1 recorded in audit entry {seq} is missing from the database"]


def test_an_alert_entry_without_a_score_is_reported_as_differing(db):
    d = small_deployment(db)
    alert = _alert_past_the_console(db, d)
    seq = audit.append(db, "op", "alert.raised", "alert", alert, {
        "alert_id": alert, "probe_sha256": hashlib.sha256(b"p").hexdigest(),
        "context_sha256": hashlib.sha256(b"c").hexdigest()})
    assert audit.verify_records(db) == [f"alert {alert}: score differs from audit entry {seq}"]


def test_an_alert_raised_with_empty_images_is_not_taken_for_replaced(db):
    d = small_deployment(db)
    repo.insert_alert(db, repo.AlertRecord(d.deployment_id, d.camera_id, 1, [(d.entry_id, d.image_id, 0.7)], 0.4, "m",
                                           [0, 0, 1, 1], {}, b"", b"", "2026-01-01T09:00:00Z"))
    assert audit.verify_records(db) == []

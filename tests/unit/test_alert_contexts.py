"""An alert stored before its context frame (issue 31): the blurred frame follows it in alert_contexts
(console/store/migrations_context.py) - once, only for a kept alert raised without a frame, never
replaced or deleted, logged, shown wherever the alert's frame is shown, blanked by retention. On
SQLite and on PostgreSQL, trying each rule by hand as someone holding the database would."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from console.services.decisions import adjudication
from console.services.record import retention
from console.store import audit, handheld, ledger, repo
from tests.factories import small_deployment

FRAME = b"\xff\xd8 a blurred context frame"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _without_frame(d, track: int = 1) -> int:
    """An alert as recognition now stores it: at once, its context frame still being blurred."""
    return repo.insert_alert(d.store, repo.AlertRecord(
        d.deployment_id, d.camera_id, track, [(d.entry_id, d.image_id, 0.7)], 0.4, "m", [0, 0, 1, 1], {}, b"p", b"",
        "2026-01-01T09:00:00Z"))


def _clean(db) -> bool:
    return audit.verify_chain(db).ok and audit.verify_records(db) == [] and ledger.verify(db) == []


def test_a_frame_follows_its_alert_and_is_shown_with_it_everywhere(db):
    d = small_deployment(db)
    alert = _without_frame(d)
    assert repo.context_of(db, alert) is None and adjudication._read_detail(db, alert).context_jpeg == b""
    repo.add_alert_context(db, alert, FRAME)
    assert repo.context_of(db, alert) == FRAME
    assert bytes(adjudication._read_detail(db, alert).context_jpeg) == FRAME  # the operator's and the log's view
    assert bytes(handheld.alert_for_dispatch(db, alert)["context_jpeg"]) == FRAME  # the officer's capture
    entry = db.one("SELECT actor, details_json FROM audit_log WHERE action = 'alert.context_kept'")
    details = json.loads(entry["details_json"])
    assert entry["actor"] == "pipeline" and details["context_sha256"] == hashlib.sha256(FRAME).hexdigest()
    assert list(details["rows"]["alert_contexts"]) == [str(alert)]
    assert _clean(db)
    own = d.alert(track=2)  # an alert stored with its own frame (b"c") keeps it
    assert repo.context_of(db, own) == b"c"


def test_a_frame_is_added_once_only_to_an_alert_raised_without_one_refused(db):
    d = small_deployment(db)
    alert, own = _without_frame(d), d.alert(track=2)
    repo.add_alert_context(db, alert, FRAME)
    with pytest.raises(Exception):  # noqa: B017 - the key, or the guard: either way never twice
        repo.add_alert_context(db, alert, b"a second frame")
    with pytest.raises(Exception, match="only to a kept alert raised without one"):
        repo.add_alert_context(db, own, FRAME)
    with pytest.raises(Exception, match="only to a kept alert raised without one"):
        repo.add_alert_context(db, 999, FRAME)
    assert repo.context_of(db, alert) == FRAME and repo.context_of(db, own) == b"c" and _clean(db)


def test_a_frame_stored_is_never_replaced_or_deleted_by_hand_refused(db):
    d = small_deployment(db)
    alert = _without_frame(d)
    repo.add_alert_context(db, alert, FRAME)
    for sql, args in (("UPDATE alert_contexts SET jpeg = ? WHERE alert_id = ?", (b"another frame", alert)),
                      ("UPDATE alert_contexts SET sha256 = ? WHERE alert_id = ?", ("0" * 64, alert)),
                      ("UPDATE alert_contexts SET stored_at = ? WHERE alert_id = ?", ("2020-01-01T00:00:00Z", alert)),
                      ("DELETE FROM alert_contexts WHERE alert_id = ?", (alert,))):
        with pytest.raises(Exception, match="only blanked|never deleted"):
            with db.transaction() as conn:
                conn.execute(sql, args)
    assert repo.context_of(db, alert) == FRAME and _clean(db)


def test_a_frame_put_in_by_hand_is_named_by_verify(db):
    d = small_deployment(db)
    alert = _without_frame(d)
    with db.transaction() as conn:  # past the console: no audit entry
        conn.execute("INSERT INTO alert_contexts(alert_id, jpeg, sha256, stored_at) VALUES (?,?,?,?)",
                     (alert, FRAME, hashlib.sha256(FRAME).hexdigest(), "2026-01-01T09:00:01Z"))
    problems = ledger.verify(db)
    assert len(problems) == 1 and "alert_contexts" in problems[0] and str(alert) in problems[0]


def test_retention_blanks_a_frame_stored_after_its_alert_and_none_comes_after_the_purge(db):
    d = small_deployment(db)
    old, recent = _without_frame(d, 1), _without_frame(d, 2)
    repo.add_alert_context(db, old, FRAME)
    repo.add_alert_context(db, recent, b"\xff\xd8 the recent frame")
    db.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?", (T0.isoformat().replace("+00:00", "Z"), old))
    db.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?",
                    ((T0 + timedelta(days=31)).isoformat().replace("+00:00", "Z"), recent))
    late = _without_frame(d, 3)
    db.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?", (T0.isoformat().replace("+00:00", "Z"), late))
    report = retention.run_purges(db, now=T0 + timedelta(days=32))
    assert report.alerts == 2
    rows = {r["alert_id"]: r for r in db.query("SELECT alert_id, jpeg, sha256 FROM alert_contexts")}
    assert rows[old]["jpeg"] is None and rows[old]["sha256"] == hashlib.sha256(FRAME).hexdigest()  # the hash stays
    assert repo.context_of(db, old) is None and repo.context_of(db, recent) == b"\xff\xd8 the recent frame"
    assert _clean(db)
    with pytest.raises(Exception, match="only to a kept alert raised without one"):
        repo.add_alert_context(db, late, FRAME)  # a frame made late never brings back a purged alert's images

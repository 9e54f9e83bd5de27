"""Retention covers every image of an alert: the further views of an alerted track are
emptied with its probe and context frame; their hashes, and the record, stay. On SQLite and
on PostgreSQL."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from console.services.record import retention
from console.store import audit, repo
from tests.factories import small_deployment

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_purged_alerts_lose_their_further_views_too(db):
    d = small_deployment(db)
    old, recent = d.alert(track=1), d.alert(track=2)
    db.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?", (_iso(T0), old))
    db.conn.execute("UPDATE alerts SET stored_at = ? WHERE id = ?", (_iso(T0 + timedelta(days=31)), recent))
    views = {b"first better view": old, b"second better view": old, b"view of the recent alert": recent}
    for jpeg, alert in views.items():
        repo.add_alert_view(db, alert, jpeg, 0.8, {}, _iso(T0))

    report = retention.run_purges(db, now=T0 + timedelta(days=32))

    rows = db.query("SELECT alert_id, jpeg, sha256 FROM alert_views ORDER BY id")
    assert [(r["alert_id"], r["sha256"]) for r in rows] == [
        (alert, hashlib.sha256(jpeg).hexdigest()) for jpeg, alert in views.items()]  # hashes stay
    assert [r["jpeg"] is None for r in rows] == [True, True, False]
    assert bytes(rows[2]["jpeg"]) == b"view of the recent alert"
    alerts = {r["id"]: r for r in db.query("SELECT id, probe_jpeg, context_jpeg, purged_at FROM alerts")}
    assert alerts[old]["probe_jpeg"] is None and alerts[old]["context_jpeg"] is None and alerts[old]["purged_at"]
    assert alerts[recent]["purged_at"] is None and bytes(alerts[recent]["context_jpeg"]) == b"c"
    assert (report.alerts, report.views) == (1, 2)
    logged = db.query("SELECT details_json FROM audit_log WHERE action = 'retention.purged.alert_images'")
    assert len(logged) == 1
    details = json.loads(logged[0]["details_json"])
    assert details["alert_ids"] == [old] and details["views"] == 2 and details["items"] == 1
    purge = db.one("SELECT items, details_json FROM purges WHERE rule = 'alert_images'")
    assert purge["items"] == 1 and json.loads(purge["details_json"])["views"] == 2
    assert audit.verify_chain(db).ok and audit.verify_records(db) == []

    again = retention.run_purges(db, now=T0 + timedelta(days=32))  # nothing is purged twice
    assert (again.alerts, again.views) == (0, 0)

"""Alerts and the incidents they form.

An incident is one pass of one watchlist subject through a deployment: every alert for the same
subject, on any of its cameras, within the deployment's incident window (``incident_window_s``,
default 5 min) of the incident's latest sighting. Its id is the id of its first alert. The queue
shows an incident once and the operator decides it once; the decision is recorded against the
sighting the operator had on screen, and the incident's other sightings are closed with it.

A sighting of an incident that is already decided is attached to it (stored, status decided,
not queued), unless the decision was "different person": then the subject's next sighting opens
a new incident, since the operator said the earlier face was somebody else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from console.clock import utcnow
from console.domain import AlertRecord, category_priority
from console.store import audit, ledger
from console.store.base import Store

DEFAULT_INCIDENT_WINDOW_S = 300
# What a joining sighting takes over from the pending incident it joins: who holds it, whether it
# was escalated, and the two-person rule's first confirmation.
_SHARED_STATE = ("claimed_by", "claim_expires", "escalated_at", "first_confirmed_by", "first_confirmed_entry")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _iso_before(ts: str, seconds: float) -> str:
    t = datetime.fromisoformat(ts.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def insert_alert(store: Store, alert: AlertRecord, actor_name: str = "pipeline", *,
                 fence: Callable[[Any], None] | None = None) -> int:
    """Store an alert and place it in its incident (a new one, a pending one, or a decided one it is
    attached to), in one transaction with its audit entry. An alert with a ``key`` already stored
    is not stored again: its id is returned. ``fence(conn)``, called in the transaction, refuses the
    alert (AlertRefused) when its writer may no longer write for that camera (console/store/leases.py)."""
    if not alert.candidates:
        raise ValueError("an alert needs at least one candidate")
    best_entry, _, best_score = alert.candidates[0]
    probe_hash, context_hash = sha256(alert.probe_jpeg), sha256(alert.context_jpeg)
    with store.transaction() as conn:
        if store.dialect == "postgres":
            # Two cameras seeing one person at once must not open two incidents: the seats and workers
            # writing alerts for one deployment take turns here (before the insert's own FOR SHARE).
            conn.execute("SELECT id FROM deployments WHERE id = ? FOR UPDATE", (alert.deployment_id,))
        if alert.key:
            known = conn.execute("SELECT alert_id FROM alert_keys WHERE idem_key = ?", (alert.key,)).fetchone()
            if known is not None:
                return int(known["alert_id"])
        if fence is not None:
            fence(conn)
        category = conn.execute("SELECT category FROM watchlist_entries WHERE id = ?", (best_entry,)).fetchone()
        priority = category_priority(category["category"] if category else None)
        stored_at = utcnow()
        # The frozen watchlist's snapshot hash in force (console/services/setup/deployment_setup.py).
        frozen = conn.execute("SELECT watchlist_sha256 FROM deployments WHERE id = ?", (alert.deployment_id,)).fetchone()
        watchlist_hash = frozen["watchlist_sha256"] if frozen else None
        cur = conn.execute(
            "INSERT INTO alerts(deployment_id, camera_id, track_id, entry_id, score, threshold, model_id, bbox_json,"
            " quality_json, probe_jpeg, probe_sha256, context_jpeg, context_sha256, captured_at, stored_at, priority,"
            " watchlist_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (alert.deployment_id, alert.camera_id, alert.track_id, best_entry, best_score, alert.threshold,
             alert.model_id, dumps(alert.bbox), dumps(alert.quality), alert.probe_jpeg, probe_hash,
             alert.context_jpeg, context_hash, alert.captured_at, stored_at, priority, watchlist_hash),
        )
        alert_id = int(cur.lastrowid)
        if alert.key:
            conn.execute("INSERT INTO alert_keys(alert_id, idem_key) VALUES (?, ?)", (alert_id, alert.key))
        conn.executemany(
            "INSERT INTO alert_candidates(alert_id, rank, entry_id, image_id, score) VALUES (?,?,?,?,?)",
            [(alert_id, rank, e, i, float(s)) for rank, (e, i, s) in enumerate(alert.candidates, start=1)],
        )
        incident_id, how = _place(store, conn, alert.deployment_id, best_entry, alert_id, stored_at)
        audit.append(store, actor_name, "alert.raised", "alert", alert_id, {
            "alert_id": alert_id, "deployment_id": alert.deployment_id, "camera_id": alert.camera_id, "entry_id": best_entry,
            "score": round(float(best_score), 4), "threshold": alert.threshold, "model_id": alert.model_id,
            "probe_sha256": probe_hash, "context_sha256": context_hash, "priority": priority,
            "incident_id": incident_id, "incident": how, "watchlist_sha256": watchlist_hash,
            "rows": ledger.merged(ledger.digests(conn, "alert_candidates", "alert_id = ?", (alert_id,)),
                                  ledger.digests(conn, "alert_keys", "alert_id = ?", (alert_id,)) if alert.key else {}),
        })
    return alert_id


def lock_incident(store: Store, conn, alert_id: int) -> None:
    """PostgreSQL: hold the row of the incident's first alert until commit, so that a decision and a
    sighting joining the incident (or two decisions) take turns; the statements after it see what the
    other committed. SQLite's write transactions already take turns."""
    if store.dialect == "postgres":
        conn.execute("SELECT id FROM alerts WHERE id = (SELECT COALESCE(incident_id, id) FROM alerts WHERE id = ?)"
                     " FOR UPDATE", (alert_id,))


def _place(store: Store, conn, deployment_id: int, entry_id: int, alert_id: int, stored_at: str) -> tuple[int, str]:
    """Put the new alert in an incident; returns (incident id, "new" | "joined" | "attached")."""
    window = conn.execute("SELECT incident_window_s FROM deployments WHERE id = ?", (deployment_id,)).fetchone()
    seconds = float(window["incident_window_s"]) if window else DEFAULT_INCIDENT_WINDOW_S
    last = conn.execute(
        "SELECT incident_id FROM alerts WHERE deployment_id = ? AND entry_id = ? AND id <> ? AND stored_at >= ?"
        " ORDER BY stored_at DESC, id DESC LIMIT 1",
        (deployment_id, entry_id, alert_id, _iso_before(stored_at, seconds))).fetchone()
    incident = int(last["incident_id"]) if last and seconds > 0 else None
    if incident is not None:
        lock_incident(store, conn, incident)
        pending = conn.execute(
            "SELECT " + ", ".join(_SHARED_STATE) + " FROM alerts WHERE incident_id = ? AND status = 'pending'"
            " ORDER BY id LIMIT 1", (incident,)).fetchone()
        if pending is not None:
            conn.execute("UPDATE alerts SET incident_id = ?, " + ", ".join(f"{c} = ?" for c in _SHARED_STATE)
                         + " WHERE id = ?", (incident, *(pending[c] for c in _SHARED_STATE), alert_id))
            return incident, "joined"
        latest = conn.execute(
            "SELECT d.decision, d.reason_code FROM decisions d JOIN alerts a ON a.id = d.alert_id"
            " WHERE a.incident_id = ? ORDER BY d.id DESC LIMIT 1", (incident,)).fetchone()
        if latest is not None and not (latest["decision"] == "false_alert"
                                       and latest["reason_code"] == "different_person"):
            conn.execute("UPDATE alerts SET incident_id = ?, status = 'decided' WHERE id = ?", (incident, alert_id))
            return incident, "attached"
    conn.execute("UPDATE alerts SET incident_id = ? WHERE id = ?", (alert_id, alert_id))
    return alert_id, "new"


def incident_of(db, alert_id: int) -> int | None:
    """The incident an alert belongs to (None: no such alert); ``db`` is a Store or an open connection."""
    sql, args = "SELECT id, incident_id FROM alerts WHERE id = ?", (alert_id,)
    row = db.one(sql, args) if isinstance(db, Store) else db.execute(sql, args).fetchone()
    if row is None:
        return None
    return int(row["incident_id"]) if row["incident_id"] is not None else alert_id


def close_incident(conn, store: Store, alert_id: int, decision_id: int, actor_name: str) -> list[int]:
    """After a decision on one sighting: the incident's other pending sightings are decided with it
    (no decision row of their own; the audit entry lists them). Returns their ids."""
    incident = incident_of(conn, alert_id)
    rows = conn.execute("SELECT id FROM alerts WHERE incident_id = ? AND status = 'pending' AND id <> ? ORDER BY id",
                        (incident, alert_id)).fetchall()
    others = [int(r["id"]) for r in rows]
    if others:
        conn.execute("UPDATE alerts SET status = 'decided', claimed_by = NULL, claim_expires = NULL"
                     " WHERE incident_id = ? AND status = 'pending'", (incident,))
        audit.append(store, actor_name, "incident.decided", "alert", alert_id, {
            "incident_id": incident, "decision_id": decision_id, "decided_on": alert_id, "with_it": others})
    return others


def set_incident_state(conn, alert_id: int, **columns) -> None:
    """Set shared state (claim, escalation, first confirmation) on every pending sighting of the
    incident the alert belongs to."""
    assert set(columns) <= set(_SHARED_STATE)
    incident = incident_of(conn, alert_id)
    conn.execute("UPDATE alerts SET " + ", ".join(f"{c} = ?" for c in columns)
                 + " WHERE incident_id = ? AND status = 'pending'", (*columns.values(), incident))


def sightings(store: Store, incident_id: int):
    """Every sighting of an incident: best score first, then the earliest."""
    return store.query(
        "SELECT a.id, a.camera_id, c.name AS camera, a.captured_at, a.stored_at, a.score, a.status, a.track_id,"
        " a.entry_id FROM alerts a JOIN cameras c ON c.id = a.camera_id WHERE a.incident_id = ?"
        " ORDER BY a.score DESC, a.id ASC", (incident_id,))


def add_alert_view(store: Store, alert_id: int, jpeg: bytes, score: float, quality: dict, captured_at: str) -> int:
    """A further, better view of an alerted track (kept because the track raised the alert)."""
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO alert_views(alert_id, captured_at, jpeg, sha256, score, quality_json) VALUES (?,?,?,?,?,?)",
            (alert_id, captured_at, jpeg, sha256(jpeg), float(score), dumps(quality)),
        )
        audit.append(store, "pipeline", "alert.view_kept", "alert", alert_id,
                     {"rows": ledger.digests(conn, "alert_views", "id = ?", (int(cur.lastrowid),))})
    return int(cur.lastrowid)


def add_alert_context(store: Store, alert_id: int, jpeg: bytes, actor_name: str = "pipeline") -> None:
    """The context frame of an alert stored without one, made after it (bystanders blurred): once per
    alert, refused (StoreError) for an alert that has a frame already or whose images are purged."""
    with store.transaction() as conn:
        conn.execute("INSERT INTO alert_contexts(alert_id, jpeg, sha256, stored_at) VALUES (?,?,?,?)",
                     (alert_id, jpeg, sha256(jpeg), utcnow()))
        audit.append(store, actor_name, "alert.context_kept", "alert", alert_id,
                     {"context_sha256": sha256(jpeg),
                      "rows": ledger.digests(conn, "alert_contexts", "alert_id = ?", (alert_id,))})


def context_of(store: Store, alert_id: int) -> bytes | None:
    """The alert's context frame: its own, or the one stored after it (None: neither, or purged)."""
    row = store.one("SELECT COALESCE(x.jpeg, a.context_jpeg) AS jpeg FROM alerts a"
                    " LEFT JOIN alert_contexts x ON x.alert_id = a.id WHERE a.id = ?", (alert_id,))
    return bytes(row["jpeg"]) if row is not None and row["jpeg"] else None


def pending_incidents(store: Store, deployment_id: int) -> list[dict]:
    """Pending incidents, highest priority first, then the longest-waiting first: each with its best
    pending sighting (``id``), how many sightings and cameras, and when its first sighting came."""
    rows = store.query(
        "SELECT a.incident_id, MIN(a.priority) AS priority, MIN(a.stored_at) AS since, COUNT(*) AS sightings,"
        " COUNT(DISTINCT a.camera_id) AS cameras FROM alerts a WHERE a.deployment_id = ? AND a.status = 'pending'"
        " GROUP BY a.incident_id ORDER BY MIN(a.priority) ASC, MIN(a.stored_at) ASC, a.incident_id ASC",
        (deployment_id,))
    out = []
    for r in rows:
        best = store.one("SELECT id FROM alerts WHERE incident_id = ? AND status = 'pending'"
                         " ORDER BY score DESC, id ASC LIMIT 1", (r["incident_id"],))
        out.append({**dict(r), "id": int(best["id"])})
    return out


def pending_alerts(store: Store, deployment_id: int):
    """Pending alerts (every sighting), highest priority first, then the longest-waiting first."""
    return store.query(
        "SELECT a.*, e.subject_name, e.record_number, e.category FROM alerts a"
        " JOIN watchlist_entries e ON e.id = a.entry_id"
        " WHERE a.deployment_id = ? AND a.status = 'pending' ORDER BY a.priority ASC, a.stored_at ASC, a.id ASC",
        (deployment_id,),
    )


def alert_candidates(store: Store, alert_id: int):
    return store.query(
        "SELECT c.*, e.subject_name, e.record_number, i.image_sha256 FROM alert_candidates c"
        " JOIN watchlist_entries e ON e.id = c.entry_id LEFT JOIN entry_images i ON i.id = c.image_id"
        " WHERE c.alert_id = ? ORDER BY c.rank",
        (alert_id,),
    )


def add_alert_event(store: Store, alert_id: int, user_id: int, event: str, actor_name: str, details: dict | None = None) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO alert_events(alert_id, user_id, event, at, details_json) VALUES (?,?,?,?,?)",
            (alert_id, user_id, event, utcnow(), dumps(details or {})),
        )
        if event == "escalated":
            conn.execute("UPDATE alerts SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL", (utcnow(), alert_id))
        audit.append(store, actor_name, f"alert.{event}", "alert", alert_id, {
            "user_id": user_id, **(details or {}),
            "rows": ledger.digests(conn, "alert_events", "id = ?", (int(cur.lastrowid),))})
    return int(cur.lastrowid)


def add_suppression(store: Store, alert_id: int, decision_id: int, actor_name: str) -> None:
    """After a "different person" decision: that track no longer alerts for that subject. The audit
    entry is what every seat and worker running the camera obeys (console/services/runtime/live.py)."""
    with store.transaction() as conn:
        a = conn.execute("SELECT deployment_id, camera_id, track_id, entry_id FROM alerts WHERE id = ?",
                         (alert_id,)).fetchone()
        cur = conn.execute(
            "INSERT INTO suppressions(deployment_id, camera_id, track_id, entry_id, decision_id, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (a["deployment_id"], a["camera_id"], a["track_id"], a["entry_id"], decision_id, utcnow()),
        )
        audit.append(store, actor_name, "alert.suppressed", "alert", alert_id, {
            "deployment_id": a["deployment_id"], "camera_id": a["camera_id"], "track_id": a["track_id"],
            "entry_id": a["entry_id"], "decision_id": decision_id,
            "rows": ledger.digests(conn, "suppressions", "id = ?", (int(cur.lastrowid),))})

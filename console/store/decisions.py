"""The review's reads and writes (console/services/decisions/): the queue card, an alert's detail,
claims, the reviewer's events, corrections, the hand-over and the message to dispatch.

Each function takes what its caller already holds: a Store (``store``) for a read or a write that
joins the caller's transaction, or the open connection of that transaction (``conn``). The
statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from console.store.base import Store


# -- alerts -------------------------------------------------------------------------
def deployment_of_alert(store: Store, alert_id: int):
    """The alert's row with its ``deployment_id``; None if there is no such alert."""
    return store.one("SELECT deployment_id FROM alerts WHERE id = ?", (alert_id,))


def queue_card(store: Store, alert_id: int):
    """One sighting as a queue card: its scores, state, probe, camera, subject and best candidate's photo."""
    return store.one(
        "SELECT a.id, a.incident_id, a.score, a.threshold, a.stored_at, a.captured_at, a.status, a.priority,"
        " a.escalated_at, a.first_confirmed_by,"
        " a.probe_jpeg, c.name AS camera, e.subject_name, e.record_number, e.category,"
        " (SELECT i.image_jpeg FROM alert_candidates ac JOIN entry_images i ON i.id = ac.image_id"
        "   WHERE ac.alert_id = a.id AND ac.rank = 1) AS candidate_jpeg"
        " FROM alerts a JOIN cameras c ON c.id = a.camera_id JOIN watchlist_entries e ON e.id = a.entry_id"
        " WHERE a.id = ?",
        (alert_id,),
    )


def pending_sighting_ids(store: Store, incident_id: int) -> list:
    return store.query("SELECT id FROM alerts WHERE incident_id = ? AND status = 'pending'", (incident_id,))


def alert_with_camera(store: Store, alert_id: int):
    """Every column of the alert, its camera's name as ``camera``, and as ``context_after`` the context frame
    stored after it (console/store/migrations_context.py; NULL: none, or purged)."""
    return store.one(
        "SELECT a.*, c.name AS camera, x.jpeg AS context_after FROM alerts a JOIN cameras c ON c.id = a.camera_id"
        " LEFT JOIN alert_contexts x ON x.alert_id = a.id WHERE a.id = ?", (alert_id,)
    )


def candidates_shown(store: Store, alert_id: int) -> list:
    """The alert's candidates, by rank, with their watchlist record and enrolment photo."""
    return store.query(
        "SELECT ac.rank, ac.entry_id, ac.score, e.subject_name, e.record_number, e.category, e.legal_basis, e.reason,"
        " e.image_source, e.image_date, e.review_date, i.image_jpeg, i.quality_json FROM alert_candidates ac"
        " JOIN watchlist_entries e ON e.id = ac.entry_id LEFT JOIN entry_images i ON i.id = ac.image_id"
        " WHERE ac.alert_id = ? ORDER BY ac.rank",
        (alert_id,),
    )


def views_of(store: Store, alert_id: int) -> list:
    return store.query("SELECT captured_at, jpeg, score FROM alert_views WHERE alert_id = ? ORDER BY captured_at", (alert_id,))


def decisions_of(store: Store, alert_id: int) -> list:
    """The alert's decisions, oldest first, with who made each."""
    return store.query(
        "SELECT d.id, d.decision, d.reason_code, d.reason, d.decided_at, d.duration_ms, d.supersedes, u.username"
        " FROM decisions d JOIN users u ON u.id = d.user_id WHERE d.alert_id = ? ORDER BY d.id",
        (alert_id,),
    )


# -- claims ---------------------------------------------------------------------------
def count_pending_sightings(conn, incident_id: int) -> int:
    return conn.execute(
        "SELECT COUNT(*) AS n FROM alerts WHERE incident_id = ? AND status = 'pending'", (incident_id,)
    ).fetchone()["n"]


def claim_pending(conn, incident_id: int, user_id: int, until: str, now: str) -> int:
    """Claim every pending sighting of the incident that is free, held by this user, or whose lease ran
    out by ``now``; how many were claimed."""
    cur = conn.execute(
        "UPDATE alerts SET claimed_by = ?, claim_expires = ? WHERE incident_id = ? AND status = 'pending' AND"
        " (claimed_by IS NULL OR claimed_by = ? OR claim_expires <= ?)",
        (user_id, until, incident_id, user_id, now),
    )
    return cur.rowcount


def claim_holder(conn, alert_id: int):
    """The alert's status, who holds it (username) and until when; None if there is no such alert."""
    return conn.execute(
        "SELECT a.status, u.username, a.claim_expires FROM alerts a LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id = ?",
        (alert_id,),
    ).fetchone()


def other_claim_holder(conn, incident_id: int, user_id: int):
    """Someone other than this user holding a pending sighting of the incident (username, claim_expires)."""
    return conn.execute(
        "SELECT u.username, a.claim_expires FROM alerts a JOIN users u ON u.id = a.claimed_by"
        " WHERE a.incident_id = ? AND a.status = 'pending' AND a.claimed_by <> ? LIMIT 1",
        (incident_id, user_id),
    ).fetchone()


def alert_status_row(conn, alert_id: int):
    return conn.execute("SELECT status FROM alerts WHERE id = ?", (alert_id,)).fetchone()


def release_claims(conn, incident_id: int | None, user_id: int) -> None:
    conn.execute(
        "UPDATE alerts SET claimed_by = NULL, claim_expires = NULL WHERE incident_id = ? AND claimed_by = ?",
        (incident_id, user_id),
    )


def first_confirmation_state(store: Store, alert_id: int):
    """status and first_confirmed_by of the alert (the two-person rule's blind second look)."""
    return store.one("SELECT status, first_confirmed_by FROM alerts WHERE id = ?", (alert_id,))


def first_confirmation(conn, alert_id: int):
    """first_confirmed_by and first_confirmed_entry of the alert."""
    return conn.execute("SELECT first_confirmed_by, first_confirmed_entry FROM alerts WHERE id = ?", (alert_id,)).fetchone()


def review_state(store: Store, alert_id: int):
    """What says whether a reviewer may act on the alert: status, escalation, claim (and its holder's name)."""
    return store.one(
        "SELECT a.status, a.escalated_at, a.claimed_by, a.claim_expires, a.incident_id, u.username"
        " FROM alerts a LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id = ?",
        (alert_id,),
    )


def escalated_at(conn, alert_id: int):
    return conn.execute("SELECT escalated_at FROM alerts WHERE id = ?", (alert_id,)).fetchone()["escalated_at"]


# -- the reviewer's events ---------------------------------------------------------------
def opened_by(store: Store, incident_id: int, user_id: int):
    """A row if this user has opened a sighting of the incident; None if never."""
    return store.one(
        "SELECT 1 AS x FROM alert_events WHERE alert_id IN (SELECT id FROM alerts WHERE incident_id = ?)"
        " AND user_id = ? AND event = 'opened' LIMIT 1",
        (incident_id, user_id),
    )


_MEMBERS = "SELECT id FROM alerts WHERE incident_id = ?"


def last_returned(store: Store, incident_id: int | None, user_id: int):
    """The id (``id``, None if never) of this user's latest 'returned' event on the incident."""
    return store.one(
        f"SELECT MAX(id) AS id FROM alert_events WHERE alert_id IN ({_MEMBERS}) AND user_id = ? AND event = 'returned'",
        (incident_id, user_id),
    )


def first_opened_after(store: Store, incident_id: int | None, user_id: int, after_event_id: int):
    """When (``at``) this user first opened the incident after the event ``after_event_id``."""
    return store.one(
        f"SELECT at FROM alert_events WHERE alert_id IN ({_MEMBERS}) AND user_id = ?"
        " AND event = 'opened' AND id > ? ORDER BY id ASC LIMIT 1",
        (incident_id, user_id, after_event_id),
    )


def latest_escalation(store: Store, incident_id: int | None, alert_id: int):
    """The incident's latest escalation: who (username), when (at) and details_json."""
    return store.one(
        "SELECT u.username, e.at, e.details_json FROM alert_events e JOIN users u ON u.id = e.user_id"
        " WHERE e.event = 'escalated' AND e.alert_id IN (SELECT id FROM alerts WHERE incident_id = ?"
        " OR id = ?) ORDER BY e.id DESC LIMIT 1",
        (incident_id, alert_id),
    )


# -- decisions ---------------------------------------------------------------------------
def two_person_rule_of(store: Store, alert_id: int):
    return store.one(
        "SELECT d.two_person_rule FROM alerts a JOIN deployments d ON d.id = a.deployment_id WHERE a.id = ?", (alert_id,)
    )


def candidate_of(store: Store, alert_id: int, entry_id: int | None = None):
    """The candidate (entry_id, rank, score) naming ``entry_id``, or the top one when it is None."""
    return store.one(
        "SELECT entry_id, rank, score FROM alert_candidates WHERE alert_id = ? AND "
        + ("entry_id = ?" if entry_id is not None else "rank = 1"),
        (alert_id, entry_id) if entry_id is not None else (alert_id,),
    )


def latest_decision(store: Store, alert_id: int):
    return store.one("SELECT id, decision FROM decisions WHERE alert_id = ? ORDER BY id DESC LIMIT 1", (alert_id,))


def decision_subject(store: Store, decision_id: int):
    """The decision's alert_id, deployment_id and incident_id; None if there is no such decision."""
    return store.one(
        "SELECT d.alert_id, a.deployment_id, COALESCE(a.incident_id, a.id) AS incident_id"
        " FROM decisions d JOIN alerts a ON a.id = d.alert_id WHERE d.id = ?",
        (decision_id,),
    )


def latest_decision_of_incident(store: Store, incident_id: int):
    """The highest decision id (``id``) of the incident."""
    return store.one(
        "SELECT MAX(d.id) AS id FROM decisions d JOIN alerts a ON a.id = d.alert_id WHERE COALESCE(a.incident_id, a.id) = ?",
        (incident_id,),
    )


def audit_entries_about_alert(store: Store, action: str, alert_id: int) -> list:
    """The audit log's entries of this action about this alert: actor and details_json."""
    return store.query(
        "SELECT actor, details_json FROM audit_log WHERE action = ? AND subject_type = 'alert' AND subject_id = ?",
        (action, str(alert_id)),
    )


# -- the hand-over ------------------------------------------------------------------------
def handover_card(store: Store, alert_id: int):
    return store.one(
        "SELECT a.id, a.escalated_at, a.claimed_by, a.claim_expires, c.name AS camera,"
        " e.subject_name FROM alerts a JOIN cameras c ON c.id = a.camera_id"
        " JOIN watchlist_entries e ON e.id = a.entry_id WHERE a.id = ?",
        (alert_id,),
    )


def held_pending(conn, deployment_id: int, user_id: int) -> list:
    """The ids of the pending alerts of the deployment this user holds, in order."""
    return conn.execute(
        "SELECT id FROM alerts WHERE deployment_id = ? AND claimed_by = ? AND status = 'pending' ORDER BY id",
        (deployment_id, user_id),
    ).fetchall()


def release_held_pending(conn, deployment_id: int, user_id: int) -> None:
    conn.execute(
        "UPDATE alerts SET claimed_by = NULL, claim_expires = NULL WHERE deployment_id = ?"
        " AND claimed_by = ? AND status = 'pending'",
        (deployment_id, user_id),
    )


# -- the message to dispatch ----------------------------------------------------------------
def deployment_exists(store: Store, deployment_id: int) -> bool:
    return store.one("SELECT id FROM deployments WHERE id = ?", (deployment_id,)) is not None


def confirmed_message(store: Store, alert_id: int, decision_id: int):
    """What dispatch is told of a confirmation: where, when, which camera, and the record number."""
    return store.one(
        "SELECT a.id, a.incident_id, a.captured_at, a.deployment_id, d.name AS deployment, d.location,"
        " c.name AS camera, x.decided_at, x.reason, e.record_number, e.category"
        " FROM decisions x JOIN alerts a ON a.id = x.alert_id JOIN deployments d ON d.id = a.deployment_id"
        " JOIN cameras c ON c.id = a.camera_id"
        " LEFT JOIN watchlist_entries e ON e.id = COALESCE(x.candidate_entry_id, a.entry_id)"
        " WHERE x.id = ? AND x.alert_id = ?",
        (decision_id, alert_id),
    )

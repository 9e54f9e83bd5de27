"""The deployment record's reads and writes (console/services/record/): its figures, the blind
review samples, the sign-offs and the audit log entries the record quotes.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``), whose audit entry the caller appends in the same transaction.
The statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from console.store.base import Store

KA = "(SELECT alert_id FROM known_answer_alerts)"  # known-answer test alerts: never in a figure (console/store/known_answer.py)


# -- figures ---------------------------------------------------------------------------------
def incident_rows(store: Store, deployment_id: int) -> list:
    """Every alert of the deployment, oldest first, with its incident, category and latest decision."""
    return store.query(
        "SELECT a.id, COALESCE(a.incident_id, a.id) AS incident_id, a.score, a.threshold, a.stored_at, a.camera_id,"
        " e.category, d.id AS decision_id, d.decision, d.reason_code FROM alerts a"
        " JOIN watchlist_entries e ON e.id = a.entry_id"
        " LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE alert_id = a.id)"
        f" WHERE a.deployment_id = ? AND a.id NOT IN {KA} ORDER BY a.id",
        (deployment_id,),
    )


def faces_analysed(store: Store, deployment_id: int) -> int:
    return store.one("SELECT COALESCE(SUM(faces_analysed), 0) AS n FROM face_stats WHERE deployment_id = ?", (deployment_id,))[
        "n"
    ]


def watchlist_size(store: Store, deployment_id: int) -> int:
    return store.one(
        "SELECT COUNT(*) AS n FROM watchlist_entries e JOIN watchlists w ON w.id = e.watchlist_id WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists)",
        (deployment_id,),
    )["n"]


def engagement_outcomes(store: Store, deployment_id: int) -> list:
    """How many alerts ended in each (result, action), counting each alert's latest outcome."""
    return store.query(
        "SELECT g.result, g.action, COUNT(*) AS n FROM engagements g JOIN alerts a ON a.id = g.alert_id"
        f" WHERE a.deployment_id = ? AND a.id NOT IN {KA}"
        " AND g.id = (SELECT MAX(id) FROM engagements WHERE alert_id = g.alert_id)"
        " GROUP BY g.result, g.action ORDER BY g.result, g.action",
        (deployment_id,),
    )


def alert_times(store: Store, deployment_id: int) -> list:
    """stored_at, id and incident_id of every alert of the deployment."""
    return store.query(f"SELECT stored_at, id, incident_id FROM alerts WHERE deployment_id = ? AND id NOT IN {KA}",
                       (deployment_id,))


def escalated_incidents(store: Store, deployment_id: int) -> list:
    """Each escalated incident: when first escalated (``at``) and how many sightings still pend."""
    return store.query(
        "SELECT COALESCE(incident_id, id) AS incident, MIN(escalated_at) AS at,"
        " SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending FROM alerts"
        f" WHERE deployment_id = ? AND id NOT IN {KA} AND escalated_at IS NOT NULL GROUP BY COALESCE(incident_id, id)"
        " ORDER BY MIN(escalated_at)",
        (deployment_id,),
    )


def first_decision_durations(store: Store, deployment_id: int) -> list:
    """duration_ms of each first decision (not a correction) that has one."""
    return store.query(
        "SELECT d.duration_ms FROM decisions d JOIN alerts a ON a.id = d.alert_id WHERE a.deployment_id = ?"
        f" AND a.id NOT IN {KA} AND d.supersedes IS NULL AND d.duration_ms IS NOT NULL",
        (deployment_id,),
    )


def alert_scores(store: Store, deployment_id: int) -> list:
    return store.query(f"SELECT score FROM alerts WHERE deployment_id = ? AND id NOT IN {KA}", (deployment_id,))


def score_histograms(store: Store, deployment_id: int) -> list:
    return store.query("SELECT score_hist FROM face_stats WHERE deployment_id = ?", (deployment_id,))


# -- the audit log entries the record quotes ------------------------------------------------------
def deployment_entries(store: Store, deployment_id: int, action: str) -> list:
    """The log's entries of this action about the deployment, in order: seq, at, actor, details_json."""
    return store.query(
        "SELECT seq, at, actor, details_json FROM audit_log WHERE action = ? AND subject_type ="
        " 'deployment' AND subject_id = ? ORDER BY seq",
        (action, str(deployment_id)),
    )


def first_signoff_seq(store: Store, deployment_id: int):
    """The sequence number (``s``, None if never) of the deployment's first sign-off entry."""
    return store.one(
        "SELECT MIN(seq) AS s FROM audit_log WHERE action = 'report.signed_off' AND subject_type ="
        " 'deployment' AND subject_id = ?",
        (str(deployment_id),),
    )["s"]


def entries_after(store: Store, deployment_id: int, after_seq: int, actions: tuple[str, ...]) -> list:
    """The log's entries of these actions after ``after_seq`` about the deployment, its alerts or its
    engagements, in order."""
    marks = ",".join("?" * len(actions))
    return store.query(
        f"SELECT seq, at, actor, action, subject_type, subject_id, details_json FROM audit_log WHERE seq > ?"
        f" AND action IN ({marks}) AND ((subject_type = 'deployment' AND subject_id = ?)"
        " OR (subject_type = 'alert' AND subject_id IN (SELECT CAST(id AS TEXT) FROM alerts WHERE deployment_id = ?"
        f" AND id NOT IN {KA}))"
        " OR (subject_type = 'engagement' AND subject_id IN (SELECT CAST(g.id AS TEXT) FROM engagements g"
        "   JOIN alerts a ON a.id = g.alert_id WHERE a.deployment_id = ?)))"
        " ORDER BY seq",
        (after_seq, *actions, str(deployment_id), deployment_id, deployment_id),
    )


def signing_entries(store: Store, created: str, signed_off: str) -> list:
    """Every sign-off key's creation and every sign-off in the log, in order."""
    return store.query(
        "SELECT seq, actor, action, subject_id, details_json FROM audit_log WHERE action IN (?, ?) ORDER BY seq",
        (created, signed_off),
    )


# -- sign-offs ---------------------------------------------------------------------------------------
def signoffs(store: Store, deployment_id: int) -> list:
    """Each sign-off row of the deployment's record, in order: signed_at, username, note, record_sha256."""
    return store.query(
        "SELECT s.signed_at, u.username, s.note, s.record_sha256 FROM report_signoffs s JOIN users u"
        " ON u.id = s.user_id WHERE s.deployment_id = ? ORDER BY s.id",
        (deployment_id,),
    )


def signoff_records(store: Store, deployment_id: int) -> list:
    """The sign-off rows that carry the signed record's JSON, in order: signed_at, username, note,
    record_sha256, record_json (the caller checks each against the signed log)."""
    return store.query(
        "SELECT s.signed_at, u.username, s.note, s.record_sha256, s.record_json FROM report_signoffs s"
        " JOIN users u ON u.id = s.user_id WHERE s.deployment_id = ? AND s.record_json IS NOT NULL"
        " ORDER BY s.id",
        (deployment_id,),
    )


def insert_signoff(
    conn, deployment_id: int, user_id: int, signed_at: str, record_sha256: str, note: str, record_json: str
) -> int:
    """A sign-off's row; its id."""
    cur = conn.execute(
        "INSERT INTO report_signoffs(deployment_id, user_id, signed_at, record_sha256, note, record_json) VALUES (?,?,?,?,?,?)",
        (deployment_id, user_id, signed_at, record_sha256, note, record_json),
    )
    return int(cur.lastrowid)


# -- blind review samples ------------------------------------------------------------------------------
def insert_sample_row(conn, sample: str, alert_id: int, drawn_by: int, drawn_at: str, original_decision: str) -> None:
    conn.execute(
        "INSERT INTO review_samples(sample, alert_id, drawn_by, drawn_at, original_decision) VALUES (?,?,?,?,?)",
        (sample, alert_id, drawn_by, drawn_at, original_decision),
    )


def record_blind_decision(conn, sample: str, alert_id: int, decision: str, decided_by: int, decided_at: str) -> bool:
    """The blind decision, if the alert waits undecided in the sample (checked by the UPDATE); False if not."""
    cur = conn.execute(
        "UPDATE review_samples SET blind_decision = ?, decided_by = ?, decided_at = ?"
        " WHERE sample = ? AND alert_id = ? AND blind_decision IS NULL",
        (decision, decided_by, decided_at, sample, alert_id),
    )
    return cur.rowcount == 1


def sample_decisions(store: Store, sample: str) -> list:
    return store.query("SELECT original_decision, blind_decision FROM review_samples WHERE sample = ?", (sample,))


def sample_waiting(store: Store, sample: str) -> list:
    """The sample's alerts still to decide blind, in order, with the probe and top candidate's photo."""
    return store.query(
        "SELECT s.alert_id, a.score, a.threshold, a.probe_jpeg,"
        " (SELECT i.image_jpeg FROM alert_candidates ac JOIN entry_images i ON i.id = ac.image_id"
        "   WHERE ac.alert_id = a.id AND ac.rank = 1) AS candidate_jpeg"
        " FROM review_samples s JOIN alerts a ON a.id = s.alert_id"
        " WHERE s.sample = ? AND s.blind_decision IS NULL ORDER BY s.id",
        (sample,),
    )


# -- the audit trail as screens show it ------------------------------------------------------------------
def entries_like(store: Store, pattern: str, last: int) -> list:
    """The latest ``last`` entries whose action matches the LIKE ``pattern`` (escape: backslash), newest first."""
    return store.query(
        "SELECT seq, at, actor, action, subject_type, subject_id, details_json FROM audit_log"
        " WHERE action LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?",
        (pattern, last),
    )


def latest_stop_entry(store: Store, deployment_id: int):
    """The deployment's latest 'deployment.stopped' entry: at, actor, details_json; None if never stopped."""
    return store.one(
        "SELECT at, actor, details_json FROM audit_log WHERE action = 'deployment.stopped'"
        " AND subject_type = 'deployment' AND subject_id = ? ORDER BY seq DESC LIMIT 1",
        (str(deployment_id),),
    )

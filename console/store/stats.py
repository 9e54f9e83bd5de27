"""The supervisors' figures and the decision log (console/services/record/stats.py): what they
count, read here; the equality fields, written here.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``). The statements are written once, with ``?`` placeholders,
for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.store.base import Store

# A sighting's decision is its incident's latest (corrections win): the incident was decided once.
_SAME_INCIDENT = "SELECT a2.id FROM alerts a2 WHERE a2.incident_id = COALESCE(a.incident_id, a.id)"
LATEST = f"(SELECT MAX(id) FROM decisions WHERE alert_id IN ({_SAME_INCIDENT}))"

KA = "(SELECT alert_id FROM known_answer_alerts)"  # known-answer test alerts: never in a figure (console/store/known_answer.py)


# -- equality fields -----------------------------------------------------------------------------
def engagement_exists(conn, engagement_id: int) -> bool:
    return conn.execute("SELECT 1 FROM engagements WHERE id = ?", (engagement_id,)).fetchone() is not None


def insert_demographics(conn, engagement_id: int, sex: str, ethnic_group: str, recorded_by: int, recorded_at: str) -> int:
    """An engagement's equality-monitoring row; its id."""
    cur = conn.execute(
        "INSERT INTO engagement_demographics(engagement_id, sex, ethnic_group, recorded_by, recorded_at) VALUES (?,?,?,?,?)",
        (engagement_id, sex, ethnic_group, recorded_by, recorded_at),
    )
    return int(cur.lastrowid)


def latest_engagement_id(store: Store, alert_id: int):
    """The alert's latest engagement's id (``id``, None if none)."""
    return store.one("SELECT MAX(id) AS id FROM engagements WHERE alert_id = ?", (alert_id,))


def engagements_with_demographics(store: Store, deployment_id: int) -> list:
    """Each alert's latest engagement result with its latest recorded sex and ethnic group."""
    return store.query(
        "SELECT g.result, m.sex, m.ethnic_group FROM engagements g JOIN alerts a ON a.id = g.alert_id"
        " JOIN engagement_demographics m ON m.id = (SELECT MAX(id) FROM engagement_demographics"
        "   WHERE engagement_id = g.id)"
        f" WHERE a.deployment_id = ? AND a.id NOT IN {KA}"
        " AND g.id = (SELECT MAX(id) FROM engagements WHERE alert_id = g.alert_id)",
        (deployment_id,),
    )


# -- figures ---------------------------------------------------------------------------------------
def camera_names(store: Store, deployment_id: int) -> dict:
    """{camera id: name} of the deployment's cameras."""
    return {r["id"]: r["name"] for r in store.query("SELECT id, name FROM cameras WHERE deployment_id = ?", (deployment_id,))}


def decision_times(store: Store, deployment_id: int) -> list:
    """username and duration_ms of each first decision (not a correction) that has a duration."""
    return store.query(
        "SELECT u.username, d.duration_ms FROM decisions d JOIN users u ON u.id = d.user_id JOIN alerts a"
        " ON a.id = d.alert_id WHERE a.deployment_id = ? AND d.supersedes IS NULL AND d.duration_ms IS NOT NULL"
        f" AND a.id NOT IN {KA}",
        (deployment_id,),
    )


def faces_per_camera(store: Store, deployment_id: int) -> dict:
    """{camera id: faces analysed}."""
    return {
        r["camera_id"]: r["n"]
        for r in store.query(
            "SELECT camera_id, SUM(faces_analysed) AS n FROM face_stats WHERE deployment_id = ? GROUP BY camera_id",
            (deployment_id,),
        )
    }


def alerts_per_camera(store: Store, deployment_id: int) -> dict:
    """{camera id: alerts (sightings)}."""
    return {
        r["camera_id"]: r["n"]
        for r in store.query(
            f"SELECT camera_id, COUNT(*) AS n FROM alerts WHERE deployment_id = ? AND id NOT IN {KA} GROUP BY camera_id",
            (deployment_id,)
        )
    }


# -- the decision log ---------------------------------------------------------------------------------
@dataclass
class LogFilter:
    deployment_id: int | None = None
    since: str = ""
    until: str = ""
    camera_id: int | None = None
    operator: str = ""
    decision: str = ""  # true_alert | false_alert | undecided
    reason_code: str = ""
    score_min: float | None = None
    score_max: float | None = None
    category: str = ""
    text: str = ""
    escalated: bool = False  # only alerts an operator handed to a supervisor


def _clean(text: str) -> str:
    """Search text is data: NUL (which PostgreSQL text cannot hold) is dropped, nothing else changes."""
    return text.replace("\x00", "")


def _where(f: LogFilter) -> tuple[str, list]:
    f = LogFilter(**{k: _clean(v) if isinstance(v, str) else v for k, v in vars(f).items()})
    clauses, params = [], []
    for cond, value in (
        (f"a.deployment_id = ? AND a.id NOT IN {KA}", f.deployment_id),
        ("a.stored_at >= ?", f.since or None),
        ("a.stored_at < ?", f.until or None),
        ("a.camera_id = ?", f.camera_id),
        ("u.username = ?", f.operator or None),
        ("d.reason_code = ?", f.reason_code or None),
        ("a.score >= ?", f.score_min),
        ("a.score < ?", f.score_max),
        ("e.category = ?", f.category or None),
    ):
        if value is not None:
            clauses.append(cond)
            params.append(value)
    if f.escalated:
        clauses.append("a.escalated_at IS NOT NULL")
    if f.decision == "undecided":
        clauses.append("d.id IS NULL")
    elif f.decision:
        clauses.append("d.decision = ?")
        params.append(f.decision)
    if f.text:
        # The text means itself: LIKE's wildcards and its escape character are escaped (the same
        # clause on SQLite, which has no default escape, and PostgreSQL, whose default is '\').
        literal = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(
            "("
            + " OR ".join(
                f"{column} LIKE ? ESCAPE '\\'" for column in ("d.reason", "g.notes", "e.subject_name", "e.record_number")
            )
            + ")"
        )
        params += [f"%{literal}%"] * 4
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_LOG_FROM = (
    " FROM alerts a JOIN cameras c ON c.id = a.camera_id JOIN watchlist_entries e ON e.id = a.entry_id"
    f" LEFT JOIN decisions d ON d.id = {LATEST} LEFT JOIN users u ON u.id = d.user_id"
    f" LEFT JOIN engagements g ON g.id = (SELECT MAX(id) FROM engagements WHERE alert_id IN ({_SAME_INCIDENT}))"
)


def decision_log_count(store: Store, f: LogFilter) -> int:
    """How many alerts the decision log shows under this filter."""
    where, params = _where(f)
    return int(store.one(f"SELECT COUNT(*) AS n {_LOG_FROM}{where}", params)["n"])


def decision_log_page(store: Store, f: LogFilter, offset: int, limit: int) -> list:
    """One page of the decision log under this filter, newest first."""
    where, params = _where(f)
    return store.query(
        "SELECT a.id, COALESCE(a.incident_id, a.id) AS incident_id, a.stored_at, c.name AS camera, e.subject_name,"
        " e.record_number, e.category, a.score,"
        " d.id AS decision_id, d.decision, d.reason_code, u.username, d.duration_ms, g.result AS outcome, a.escalated_at,"
        f" COALESCE(d.reason, '') AS note {_LOG_FROM}{where} ORDER BY a.stored_at DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )


def alert_audit_entries(store: Store, alert_id: int) -> list:
    """The log's entries about the alert, in order: seq, at, actor, action, details_json."""
    return store.query(
        "SELECT seq, at, actor, action, details_json FROM audit_log WHERE subject_type = 'alert' AND subject_id = ? ORDER BY seq",
        (str(alert_id),),
    )

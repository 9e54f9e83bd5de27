"""What supervisors need to answer: how often, how fast, how wrong, and wrong for whom.

All figures come from the database; each function says what it counts. Demographic fields
are optional, recorded only against engagement outcomes, and only by a supervisor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from console.clock import utcnow
from console.domain import EthnicGroup, Sex
from console.errors import ConsoleError
from console.redaction import redact_value
from console.services.accounts.auth import Actor
from console.services.record.incident_figures import incidents, tally
from console.store import Store, audit, ledger

# A sighting's decision is its incident's latest (corrections win): the incident was decided once.
_SAME_INCIDENT = "SELECT a2.id FROM alerts a2 WHERE a2.incident_id = COALESCE(a.incident_id, a.id)"
LATEST = f"(SELECT MAX(id) FROM decisions WHERE alert_id IN ({_SAME_INCIDENT}))"


def record_demographics(store: Store, actor: Actor, engagement_id: int, sex: str, ethnic_group: str) -> None:
    actor.require("authorise_deployment", store)  # supervisors only
    if sex not in Sex.codes() or ethnic_group not in EthnicGroup.codes():
        raise ConsoleError(f"sex is one of {', '.join(Sex.codes())}; ethnic group one of {', '.join(EthnicGroup.codes())}")
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM engagements WHERE id = ?", (engagement_id,)).fetchone() is None:
            raise ConsoleError(f"engagement {engagement_id} does not exist")
        cur = conn.execute("INSERT INTO engagement_demographics(engagement_id, sex, ethnic_group, recorded_by,"
                           " recorded_at) VALUES (?,?,?,?,?)", (engagement_id, sex, ethnic_group, actor.user_id, utcnow()))
        audit.append(store, actor.username, "equality.recorded", "engagement", engagement_id,
                     {"rows": ledger.of(conn, "engagement_demographics", id=int(cur.lastrowid))})


def _pct(values, q):
    return float(np.percentile(values, q)) if len(values) else None


def dashboard(store: Store, actor: Actor, deployment_id: int) -> dict:
    """Figures by incident (one pass of one person, decided once), with alerts beside them. Rates
    are over decided incidents; old "duplicate" rejections count as repeats, not as false alerts."""
    actor.require("view_decisions", store)
    rows = incidents(store, deployment_id)
    t = tally(rows)
    cam_names = {r["id"]: r["name"] for r in store.query("SELECT id, name FROM cameras WHERE deployment_id = ?",
                                                          (deployment_id,))}
    per_hour: dict[str, list[int]] = {}
    for a in store.query("SELECT stored_at, id, incident_id FROM alerts WHERE deployment_id = ?", (deployment_id,)):
        hour = per_hour.setdefault(a["stored_at"][:13] + ":00", [0, 0])
        hour[1] += 1
        hour[0] += a["incident_id"] in (None, a["id"])  # an incident counts in the hour of its first sighting
    decided = [r for r in rows if r["outcome"] in ("true", "false")]
    timing = store.query(
        "SELECT u.username, d.duration_ms FROM decisions d JOIN users u ON u.id = d.user_id JOIN alerts a"
        " ON a.id = d.alert_id WHERE a.deployment_id = ? AND d.supersedes IS NULL AND d.duration_ms IS NOT NULL",
        (deployment_id,))
    by_operator: dict[str, list[int]] = {}
    for tm in timing:
        by_operator.setdefault(tm["username"], []).append(tm["duration_ms"])
    faces = {r["camera_id"]: r["n"] for r in store.query(
        "SELECT camera_id, SUM(faces_analysed) AS n FROM face_stats WHERE deployment_id = ? GROUP BY camera_id",
        (deployment_id,))}
    sightings = {r["camera_id"]: r["n"] for r in store.query(
        "SELECT camera_id, COUNT(*) AS n FROM alerts WHERE deployment_id = ? GROUP BY camera_id", (deployment_id,))}
    cameras = {}
    for r in rows:  # an incident seen on two cameras counts on both
        for cam_id in r["camera_ids"]:
            cam = cameras.setdefault(cam_names.get(cam_id, str(cam_id)), {"camera_id": cam_id, "incidents": 0,
                                                                          "false": 0})
            cam["incidents"] += 1
            cam["false"] += r["outcome"] == "false"
    for cam in cameras.values():
        n = faces.get(cam["camera_id"], 0)
        cam["alerts"] = sightings.get(cam["camera_id"], 0)
        cam["faces"] = n
        cam["false_per_1000_faces"] = round(1000 * cam["false"] / n, 3) if n else None
    total_faces = sum(faces.values())
    return {
        "incidents": t["incidents"],
        "alerts": t["alerts"],
        "incidents_per_hour": sorted((h, v[0]) for h, v in per_hour.items()),
        "alerts_per_hour": sorted((h, v[1]) for h, v in per_hour.items()),
        "decided": len(decided),
        "repeats_rejected_as_duplicate": t["repeat"],
        "confirm_rate": round(t["true"] / len(decided), 3) if decided else None,
        "reject_rate": round(t["false"] / len(decided), 3) if decided else None,
        "reject_reasons": _count(r["reason_code"] for r in decided if r["outcome"] == "false"),
        "time_to_decision_ms": {op: {"n": len(v), "median": _pct(v, 50), "p90": _pct(v, 90)}
                                for op, v in sorted(by_operator.items())},
        "scores_confirmed": [round(r["score"], 4) for r in decided if r["outcome"] == "true"],
        "scores_rejected": [round(r["score"], 4) for r in decided if r["outcome"] == "false"],
        "faces_analysed": total_faces,
        "false_incidents_per_1000_faces": round(1000 * t["false"] / total_faces, 3) if total_faces else None,
        "per_camera": cameras,
        "equality": equality(store, deployment_id),
    }


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def equality(store: Store, deployment_id: int) -> dict:
    """False-alert rate at engagement by recorded group, with the counts behind each rate.

    Only engagements with a demographic record count; a group with fewer than 10 engagements is
    shown with its counts but flagged as too small to compare.
    """
    rows = store.query(
        "SELECT g.result, m.sex, m.ethnic_group FROM engagements g JOIN alerts a ON a.id = g.alert_id"
        " JOIN engagement_demographics m ON m.id = (SELECT MAX(id) FROM engagement_demographics"
        "   WHERE engagement_id = g.id)"
        " WHERE a.deployment_id = ? AND g.id = (SELECT MAX(id) FROM engagements WHERE alert_id = g.alert_id)",
        (deployment_id,))
    out: dict = {"sex": {}, "ethnic_group": {}}
    for dim in out:
        for r in rows:
            group = out[dim].setdefault(r[dim], {"engaged": 0, "false_at_engagement": 0})
            group["engaged"] += 1
            group["false_at_engagement"] += r["result"] == "confirmed_false"
        for group in out[dim].values():
            group["rate"] = round(group["false_at_engagement"] / group["engaged"], 3)
            group["too_few_to_compare"] = group["engaged"] < 10
    out["engagements_with_demographics"] = len(rows)
    return out


LOG_COLUMNS = ("id", "incident_id", "stored_at", "camera", "subject_name", "record_number", "category", "score", "decision",
               "reason_code", "username", "duration_ms", "outcome", "note")


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
    for cond, value in (("a.deployment_id = ?", f.deployment_id), ("a.stored_at >= ?", f.since or None),
                        ("a.stored_at < ?", f.until or None), ("a.camera_id = ?", f.camera_id),
                        ("u.username = ?", f.operator or None), ("d.reason_code = ?", f.reason_code or None),
                        ("a.score >= ?", f.score_min), ("a.score < ?", f.score_max), ("e.category = ?", f.category or None)):
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
        clauses.append("(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in
                                          ("d.reason", "g.notes", "e.subject_name", "e.record_number")) + ")")
        params += [f"%{literal}%"] * 4
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_LOG_FROM = (
    " FROM alerts a JOIN cameras c ON c.id = a.camera_id JOIN watchlist_entries e ON e.id = a.entry_id"
    f" LEFT JOIN decisions d ON d.id = {LATEST} LEFT JOIN users u ON u.id = d.user_id"
    f" LEFT JOIN engagements g ON g.id = (SELECT MAX(id) FROM engagements WHERE alert_id IN ({_SAME_INCIDENT}))")


def log_count(store: Store, actor: Actor, f: LogFilter) -> int:
    actor.require("view_decisions", store)
    where, params = _where(f)
    return int(store.one(f"SELECT COUNT(*) AS n {_LOG_FROM}{where}", params)["n"])


def log_page(store: Store, actor: Actor, f: LogFilter, offset: int, limit: int = 200) -> list[dict]:
    """One page of the decision log, newest first (the UI loads pages as it scrolls)."""
    actor.require("view_decisions", store)
    where, params = _where(f)
    rows = store.query(
        "SELECT a.id, COALESCE(a.incident_id, a.id) AS incident_id, a.stored_at, c.name AS camera, e.subject_name,"
        " e.record_number, e.category, a.score,"
        " d.id AS decision_id, d.decision, d.reason_code, u.username, d.duration_ms, g.result AS outcome, a.escalated_at,"
        f" COALESCE(d.reason, '') AS note {_LOG_FROM}{where} ORDER BY a.stored_at DESC, a.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset])
    return [dict(r) for r in rows]


def alert_history(store: Store, actor: Actor, alert_id: int) -> list[dict]:
    actor.require("view_decisions", store)
    rows = store.query("SELECT seq, at, actor, action, details_json FROM audit_log WHERE subject_type = 'alert'"
                       " AND subject_id = ? ORDER BY seq", (str(alert_id),))
    return [{"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"],
             "details": redact_value(json.loads(r["details_json"]))} for r in rows]


def latest_engagement(store: Store, actor: Actor, alert_id: int) -> int:
    """The engagement the equality fields of an alert belong to: its latest recorded outcome."""
    actor.require("view_decisions", store)
    row = store.one("SELECT MAX(id) AS id FROM engagements WHERE alert_id = ?", (alert_id,))
    if row is None or row["id"] is None:
        raise ConsoleError(f"alert {alert_id} has no engagement outcome to attach the fields to")
    return int(row["id"])

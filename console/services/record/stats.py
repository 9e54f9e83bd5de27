"""What supervisors need to answer: how often, how fast, how wrong, and wrong for whom.

All figures come from the database; each function says what it counts. Demographic fields
are optional, recorded only against engagement outcomes, and only by a supervisor.
"""

from __future__ import annotations

import json

import numpy as np

from console.clock import utcnow
from console.domain import EthnicGroup, Sex
from console.errors import ConsoleError
from console.redaction import redact_value
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.record.incident_figures import incidents, tally
from console.store import Store, audit, ledger
from console.store import record as record_rows
from console.store import stats as db
from console.store.stats import LogFilter  # noqa: F401 - handed on: the decision log's filter


def record_demographics(store: Store, actor: Actor, engagement_id: int, sex: str, ethnic_group: str) -> None:
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)  # supervisors only
    if sex not in Sex.codes() or ethnic_group not in EthnicGroup.codes():
        raise ConsoleError(f"sex is one of {', '.join(Sex.codes())}; ethnic group one of {', '.join(EthnicGroup.codes())}")
    with store.transaction() as conn:
        if not db.engagement_exists(conn, engagement_id):
            raise ConsoleError(f"engagement {engagement_id} does not exist")
        demographics_id = db.insert_demographics(conn, engagement_id, sex, ethnic_group, actor.user_id, utcnow())
        audit.append(store, actor.username, "equality.recorded", "engagement", engagement_id,
                     {"rows": ledger.of(conn, "engagement_demographics", id=demographics_id)})


def _pct(values, q):
    return float(np.percentile(values, q)) if len(values) else None


def dashboard(store: Store, actor: Actor, deployment_id: int) -> dict:
    """Figures by incident (one pass of one person, decided once), with alerts beside them. Rates
    are over decided incidents; old "duplicate" rejections count as repeats, not as false alerts."""
    actor.require(Permission.VIEW_DECISIONS, store)
    rows = incidents(store, deployment_id)
    t = tally(rows)
    cam_names = db.camera_names(store, deployment_id)
    per_hour: dict[str, list[int]] = {}
    for a in record_rows.alert_times(store, deployment_id):
        hour = per_hour.setdefault(a["stored_at"][:13] + ":00", [0, 0])
        hour[1] += 1
        hour[0] += a["incident_id"] in (None, a["id"])  # an incident counts in the hour of its first sighting
    decided = [r for r in rows if r["outcome"] in ("true", "false")]
    timing = db.decision_times(store, deployment_id)
    by_operator: dict[str, list[int]] = {}
    for tm in timing:
        by_operator.setdefault(tm["username"], []).append(tm["duration_ms"])
    faces = db.faces_per_camera(store, deployment_id)
    sightings = db.alerts_per_camera(store, deployment_id)
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
    rows = db.engagements_with_demographics(store, deployment_id)
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


def log_count(store: Store, actor: Actor, f: LogFilter) -> int:
    actor.require(Permission.VIEW_DECISIONS, store)
    return db.decision_log_count(store, f)


def log_page(store: Store, actor: Actor, f: LogFilter, offset: int, limit: int = 200) -> list[dict]:
    """One page of the decision log, newest first (the UI loads pages as it scrolls)."""
    actor.require(Permission.VIEW_DECISIONS, store)
    rows = db.decision_log_page(store, f, offset, limit)
    return [dict(r) for r in rows]


def alert_history(store: Store, actor: Actor, alert_id: int) -> list[dict]:
    actor.require(Permission.VIEW_DECISIONS, store)
    rows = db.alert_audit_entries(store, alert_id)
    return [{"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"],
             "details": redact_value(json.loads(r["details_json"]))} for r in rows]


def latest_engagement(store: Store, actor: Actor, alert_id: int) -> int:
    """The engagement the equality fields of an alert belong to: its latest recorded outcome."""
    actor.require(Permission.VIEW_DECISIONS, store)
    row = db.latest_engagement_id(store, alert_id)
    if row is None or row["id"] is None:
        raise ConsoleError(f"alert {alert_id} has no engagement outcome to attach the fields to")
    return int(row["id"])

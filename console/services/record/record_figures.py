"""The figures of the deployment record beyond the counts of incidents: what was changed while it
ran (threshold, clock), what was escalated, how fast decisions came, how wrong the alerts were
per face and per alert, and for whom (equality, with the counts behind every rate).

Everything is read from the database and the audit log; nothing here depends on the time it is
read, so a record read twice over the same data is the same record.
"""

from __future__ import annotations

import json

import numpy as np

from console.services.record.stats import equality
from console.store import Store
from console.store import record as db


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def _entries(store: Store, deployment_id: int, action: str) -> list[dict]:
    return [{"at": r["at"], "by": r["actor"], **json.loads(r["details_json"])}
            for r in db.deployment_entries(store, deployment_id, action)]


def threshold_changes(store: Store, deployment_id: int) -> list[dict]:
    return [{"at": e["at"], "by": e["by"], "old": e.get("old"), "new": e.get("new"), "reason": e.get("reason", "")}
            for e in _entries(store, deployment_id, "deployment.threshold_changed")]


def clock_jumps(store: Store, deployment_id: int) -> list[dict]:
    return [{"at": e["at"], "by_s": e.get("by_s")} for e in _entries(store, deployment_id, "clock.jumped")]


def escalations(store: Store, deployment_id: int) -> dict:
    """Incidents escalated to a supervisor, and how many of them are still waiting."""
    rows = db.escalated_incidents(store, deployment_id)
    return {"incidents": len(rows), "still_open": sum(1 for r in rows if r["pending"]),
            "first_at": rows[0]["at"] if rows else None}


def decision_times(store: Store, deployment_id: int) -> dict:
    """Seconds from opening an alert to its first decision (corrections are not decisions again)."""
    values = [r["duration_ms"] / 1000 for r in db.first_decision_durations(store, deployment_id)]
    return {"decisions": len(values), "median_s": _pct(values, 50), "p90_s": _pct(values, 90)}


def per_hour(store: Store, deployment_id: int) -> list[dict]:
    """Incidents (counted in the hour of their first sighting) and alerts per UTC hour."""
    hours: dict[str, list[int]] = {}
    for a in db.alert_times(store, deployment_id):

        h = hours.setdefault(a["stored_at"][:13] + ":00:00Z", [0, 0])
        h[1] += 1
        h[0] += a["incident_id"] in (None, a["id"])
    return [{"hour": h, "incidents": v[0], "alerts": v[1]} for h, v in sorted(hours.items())]


def false_rates(rows: list[dict], faces: int, alerts: int) -> dict:
    """False alerts counted two ways (incidents judged false; their sightings), per 1,000 faces
    analysed and per alert raised."""
    false_sightings = sum(r["sightings"] for r in rows if r["outcome"] == "false")
    false_incidents = sum(1 for r in rows if r["outcome"] == "false")
    return {"false_alerts": false_sightings,
            "false_alerts_per_1000_faces": round(1000 * false_sightings / faces, 4) if faces else None,
            "false_alerts_per_alert": round(false_sightings / alerts, 4) if alerts else None,
            "false_incidents_per_incident": round(false_incidents / len(rows), 4) if rows else None}


def reject_reasons(rows: list[dict]) -> dict:
    out: dict[str, int] = {}
    for r in rows:
        if r["outcome"] == "false" and r["reason_code"]:
            out[r["reason_code"]] = out.get(r["reason_code"], 0) + 1
    return dict(sorted(out.items()))


def figures(store: Store, deployment_id: int, rows: list[dict], faces: int, alerts: int) -> dict:
    """The record's further fields (console/services/record/reports.py puts them beside the counts)."""
    return {
        "threshold_changes": threshold_changes(store, deployment_id),
        "escalations": escalations(store, deployment_id),
        "time_to_decision": decision_times(store, deployment_id),
        **false_rates(rows, faces, alerts),
        "reject_reasons": reject_reasons(rows),
        "per_hour": per_hour(store, deployment_id),
        "equality": equality(store, deployment_id),
        "clock_jumps": clock_jumps(store, deployment_id),
    }

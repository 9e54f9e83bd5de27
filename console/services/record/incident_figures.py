"""Figures by incident, with alerts beside them.

An incident (console/store/alerts.py) is one pass of one subject: its sightings were decided
once, so every published figure - the dashboard, the deployment record, the what-if, the blind
review sample - counts incidents. The alerts (sightings) are counted beside them, so a reader can
see how much grouping there was.

An old rejection with the retired reason "duplicate" (before incidents, repeats were rejected one
by one as duplicates) is not a false alert: it is counted as a repeat, apart.
"""

from __future__ import annotations

from console.domain import RejectReason
from console.store import Store
from console.store import record as db

RETIRED_REPEAT = RejectReason.DUPLICATE.value


def incidents(store: Store, deployment_id: int) -> list[dict]:
    """Each incident of the deployment, oldest first: ``id`` (the sighting holding its latest
    decision, else its best sighting), ``incident_id``, ``score`` (its best), ``threshold``,
    ``stored_at`` (its first sighting), ``camera_ids``, ``category``, ``sightings``, ``decision``
    and ``reason_code`` (its latest decision; corrections win), and ``outcome``: true, false,
    repeat (an old "duplicate" rejection) or undecided."""
    rows = db.incident_rows(store, deployment_id)

    out: dict[int, dict] = {}
    for r in rows:
        inc = out.get(int(r["incident_id"]))
        if inc is None:
            inc = out[int(r["incident_id"])] = {
                "id": int(r["id"]), "incident_id": int(r["incident_id"]), "score": float(r["score"]),
                "threshold": float(r["threshold"]), "stored_at": r["stored_at"], "camera_ids": [],
                "category": r["category"], "sightings": 0, "decision": None, "reason_code": None, "_d": -1,
                "_best": float(r["score"])}
        inc["sightings"] += 1
        if r["camera_id"] not in inc["camera_ids"]:
            inc["camera_ids"].append(r["camera_id"])
        inc["score"] = max(inc["score"], float(r["score"]))
        if r["decision_id"] is not None and int(r["decision_id"]) > inc["_d"]:
            inc.update(id=int(r["id"]), decision=r["decision"], reason_code=r["reason_code"], _d=int(r["decision_id"]))
        elif inc["_d"] < 0 and float(r["score"]) > inc["_best"]:
            inc.update(id=int(r["id"]), _best=float(r["score"]))
    for inc in out.values():
        del inc["_d"], inc["_best"]
        inc["outcome"] = outcome(inc["decision"], inc["reason_code"])
    return list(out.values())


def outcome(decision: str | None, reason_code: str | None) -> str:
    if decision == "true_alert":
        return "true"
    if decision == "false_alert":
        return "repeat" if reason_code == RETIRED_REPEAT else "false"
    return "undecided"


def tally(rows: list[dict]) -> dict:
    """How many incidents had each outcome, and how many alerts (sightings) they held."""
    out = {"incidents": len(rows), "alerts": sum(r["sightings"] for r in rows)}
    for kind in ("true", "false", "repeat", "undecided"):
        out[kind] = sum(r["outcome"] == kind for r in rows)
    return out

"""The deployment record's body: every figure, from the database and the audit log, and the
digest a sign-off covers (console/services/record/reports.py prints it, signing.py freezes it)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from console.errors import ConsoleError
from console.services.record import record_figures
from console.services.record.incident_figures import incidents, tally
from console.store import Store, repo
from console.store import record as db

log = logging.getLogger(__name__)
RECORD_FORMAT = 4  # 3: threshold changes, escalations, decision times, false rates, equality, clock jumps
# 4: operator_accuracy (the operators' pooled figures, console/services/accuracy/operators.py)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _record(store: Store, deployment_id: int) -> dict:
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    rows = incidents(store, deployment_id)
    t = tally(rows)
    faces = db.faces_analysed(store, deployment_id)
    entries = db.watchlist_size(store, deployment_id)
    engagements = db.engagement_outcomes(store, deployment_id)
    end = dep["ended_at"] or dep["ends_at"]
    signoffs = db.signoffs(store, deployment_id)
    if signoffs:  # only sign-offs whose signed entry is in the log (a row alone signs nothing)
        from console.services.record.signing_keys import signed_in_log

        held = signed_in_log(store, deployment_id)
        signoffs = [{k: s[k] for k in ("signed_at", "username", "note")} for s in signoffs
                    if (s["record_sha256"], s["signed_at"]) in held]
    return {
        "record_format": RECORD_FORMAT,
        "deployment_id": deployment_id,
        "name": dep["name"],
        "place": dep["location"],
        "rationale": dep["rationale"],
        "legal_basis": dep["legal_basis"],
        "start": dep["starts_at"],
        "end": end,
        "duration_hours": round((_parse(end) - _parse(dep["starts_at"])).total_seconds() / 3600, 2),
        "state": dep["state"],
        "model_id": dep["model_id"],
        "threshold": dep["threshold"],
        "watchlist_size": entries,
        "faces_analysed": int(faces),
        "calibration": _calibration(dep["model_id"]),
        "incidents": t["incidents"],
        "true_incidents": t["true"],
        "false_incidents": t["false"],
        "undecided_incidents": t["undecided"],
        "repeats_rejected_as_duplicate": t["repeat"],
        "alerts": t["alerts"],
        "false_incidents_per_1000_faces": round(1000 * t["false"] / faces, 4) if faces else None,
        "engagements": [{"result": r["result"], "action": r["action"], "count": r["n"]} for r in engagements],
        "arrests": sum(r["n"] for r in engagements if r["action"] == "arrest"),
        # Who recorded each incident's outcome: the officer on a paired handheld, or an operator relaying it.
        "engagements_recorded_by": _recorded_by(store, deployment_id),
        "signed_off": [dict(s) for s in signoffs],
        "audit_checkpoint": _latest_checkpoint(store),
        **record_figures.figures(store, deployment_id, rows, int(faces), t["alerts"]),
        "operator_accuracy": _operator_accuracy(store, deployment_id),
    }


def _operator_accuracy(store: Store, deployment_id: int) -> dict:
    """How often the operators' decisions were held up, pooled: rates with intervals and n, no names."""
    from console.services.accuracy.operators import deployment_figures

    return deployment_figures(store, deployment_id)


def _recorded_by(store: Store, deployment_id: int) -> dict:
    from console.store import handheld

    found = handheld.engagement_sources(store, deployment_id)
    return {"officer_on_handheld": found.get("handheld", 0), "relayed_by_operator": found.get("relayed", 0)}


def _latest_checkpoint(store: Store) -> dict | None:
    """The latest signed checkpoint of the audit log: a published record pins the log it came from
    (``audit verify --witness`` holds the log against it; docs/audit-proofs.md)."""
    from console.store import checkpoints

    last = checkpoints.latest_in_log(store)
    return last[1].to_json() if last else None


def _pin(store: Store, reason: str) -> None:
    """A fresh checkpoint once the transaction commits; a log that no longer matches its checkpoints
    gets none (audit verify says why), and the record shows the latest one that was made."""
    from console.services.record.audit_trail import make_checkpoint

    def run() -> None:
        try:
            make_checkpoint(store, reason=reason)
        except (ConsoleError, OSError) as exc:  # the record is written all the same; verify tells the rest
            log.warning("no checkpoint at %s: %s", reason, exc)

    store.after_commit("checkpoint." + reason, run)


def _calibration(model_id: str) -> dict:
    """Where the threshold floor came from: the calibration shipped beside the model, and its data."""
    from console.errors import ModelError
    from console.services.accuracy import calibration

    try:
        cal = calibration.load_for(model_id)
    except ModelError as exc:
        return {"model_id": model_id, "calibrated": False, "why": str(exc)}
    return {"model_id": model_id, "calibrated": True, "written_by": cal.data.get("written_by", ""),
            "method": cal.data.get("method", {}).get("tail", "") if isinstance(cal.data.get("method"), dict) else "",
            "data": {name: d.get("source", "") for name, d in cal.data.get("data", {}).items()}}


def record_digest(record: dict) -> str:
    body = {k: v for k, v in record.items() if k not in ("signed_off", "audit_checkpoint")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

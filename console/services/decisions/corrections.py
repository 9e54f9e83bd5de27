"""Corrections: a new decision that supersedes an earlier one; the old one stays as it was.

A correction is a supervisor's act and obeys every rule a first decision does: it needs a note,
it is refused on an ended deployment, only the incident's latest decision can be corrected (a
chain, not a fork), and on a deployment under the two-person rule a correction *to* a
confirmation needs a second, different supervisor - the first proposes it (logged as
``decision.correction_proposed``), the second, naming the same decision and person, records it.
Escalation needs nothing more: every correction is a supervisor's already.
"""

from __future__ import annotations

import json

from console.domain import RejectReason
from console.errors import StoreError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions.adjudication import DecisionError, needs_second_confirmation
from console.services.setup import deployments
from console.store import Store, audit, repo
from console.store import decisions as db

PROPOSED = "decision.correction_proposed"


def correct_decision(store: Store, actor: Actor, decision_id: int, decision: str, reason_code: str,
                     note: str, entry_id: int | None = None) -> int | None:
    """The new decision's id; None when a correction to a confirmation awaits its second supervisor."""
    actor.require(Permission.CORRECT_DECISION, store)
    if not note.strip():
        raise DecisionError("a correction needs a note saying why")
    old = db.decision_subject(store, decision_id)
    if old is None:
        raise StoreError(f"decision {decision_id} does not exist")
    if decision not in ("true_alert", "false_alert"):
        raise DecisionError(f"a decision is true_alert or false_alert, not {decision!r}")
    if decision == "false_alert" and reason_code not in RejectReason.offered():
        raise DecisionError(f"a rejection needs a reason, one of: {', '.join(RejectReason.offered())}")
    deployments.ensure_writable(store, int(old["deployment_id"]))
    latest = db.latest_decision_of_incident(store, old["incident_id"])
    if int(latest["id"]) != decision_id:
        raise DecisionError(f"decision {decision_id} has been corrected already (by decision {latest['id']}): "
                          "correct the latest one")
    alert_id = int(old["alert_id"])
    code = reason_code if decision == "false_alert" else ""
    with store.transaction():
        if decision == "true_alert" and needs_second_confirmation(store, alert_id):
            proposers = _proposers(store, alert_id, decision_id, entry_id)
            if not proposers - {actor.username}:
                if actor.username not in proposers:
                    audit.append(store, actor.username, PROPOSED, "alert", alert_id, {
                        "decision_id": decision_id, "decision": decision, "candidate_entry_id": entry_id,
                        "user_id": actor.user_id, "note": note})
                return None
            note = f"second supervisor for the correction (first: {', '.join(sorted(proposers))}). {note}"
        return repo.record_decision(store, alert_id, actor.user_id, decision, note, actor.username,
                                    supersedes=decision_id, reason_code=code,
                                    candidate_entry_id=entry_id if decision == "true_alert" else None)


def _proposers(store: Store, alert_id: int, decision_id: int, entry_id: int | None) -> set[str]:
    """Who has proposed this very correction (same decision corrected, same person named)."""
    out = set()
    for r in db.audit_entries_about_alert(store, PROPOSED, alert_id):

        d = json.loads(r["details_json"])
        if d.get("decision_id") == decision_id and d.get("candidate_entry_id") == entry_id:
            out.add(r["actor"])
    return out

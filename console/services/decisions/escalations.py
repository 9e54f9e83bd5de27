"""What a supervisor is shown of an escalation: who handed the incident up, when, and their note."""

from __future__ import annotations

import json

from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, repo
from console.store import decisions as db


def note_of(store: Store, actor: Actor, alert_id: int) -> dict | None:
    """The latest escalation of the alert's incident: {"by", "at", "note"}; None if never escalated.
    For the reviewers' queue (role-checked; not logged row by row, like the queue itself)."""
    actor.require(Permission.ADJUDICATE, store)
    incident = repo.incident_of(store, alert_id)
    row = db.latest_escalation(store, incident, alert_id)

    if row is None:
        return None
    return {"by": row["username"], "at": row["at"], "note": json.loads(row["details_json"] or "{}").get("note", "")}

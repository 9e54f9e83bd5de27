"""An operator's decision on an alert: one transaction, decision row plus audit entry."""

from __future__ import annotations

from console.errors import ConsoleError
from console.services.auth import Actor
from console.store import Store, repo
from console.store.migrations import DECISIONS


def adjudicate(store: Store, actor: Actor, alert_id: int, decision: str, reason: str = "") -> int:
    actor.require("adjudicate")
    if decision not in DECISIONS:
        raise ConsoleError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")
    if decision == "false_alert" and not reason.strip():
        reason = "not the same person"
    return repo.record_decision(store, alert_id, actor.user_id, decision, reason, actor.username)

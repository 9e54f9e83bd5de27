"""A single call for scripted adjudicators (selftest, tools): confirm or reject with a reason."""

from __future__ import annotations

from console.services.accounts.auth import Actor
from console.services.decisions import adjudication
from console.store import Store


def adjudicate(store: Store, actor: Actor, alert_id: int, decision: str, reason_code: str = "", note: str = "") -> int:
    if decision == "true_alert":
        return adjudication.confirm(store, actor, alert_id, note)
    if decision == "false_alert":
        return adjudication.reject(store, actor, alert_id, reason_code, note)
    raise adjudication.DecisionError(f"unknown decision {decision!r}; use true_alert or false_alert")

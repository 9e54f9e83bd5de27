"""A single call for scripted reviewers (selftest, tools): confirm or reject with a reason."""

from __future__ import annotations

from console.services import review
from console.services.auth import Actor
from console.store import Store


def adjudicate(store: Store, actor: Actor, alert_id: int, decision: str, reason_code: str = "", note: str = "") -> int:
    if decision == "true_alert":
        return review.confirm(store, actor, alert_id, note)
    if decision == "false_alert":
        return review.reject(store, actor, alert_id, reason_code, note)
    raise review.ReviewError(f"unknown decision {decision!r}; use true_alert or false_alert")

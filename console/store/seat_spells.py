"""Reads of the audit log for the time an operator has sat at the seat (console/services/decisions/fatigue.py).

The log is read newest first: the walk back stops at the first entry that starts or ends a spell, so it
reads only the entries written since the operator's last sign-in or break, however long the log is.
"""

from __future__ import annotations

import json

from console.store.base import Store


def recent_entries(store: Store, actor_name: str, actions: tuple[str, ...], limit: int = 20) -> list[dict]:
    """The newest entries by ``actor_name`` among ``actions``, newest first, with their details parsed."""
    marks = ",".join("?" for _ in actions)
    rows = store.query(
        f"SELECT seq, at, action, details_json FROM audit_log WHERE actor = ? AND action IN ({marks})"
        " ORDER BY seq DESC LIMIT ?", (actor_name, *actions, limit))
    return [{"seq": int(r["seq"]), "at": r["at"], "action": r["action"], "details": json.loads(r["details_json"])}
            for r in rows]

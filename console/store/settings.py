"""Settings (retention, caps, idle lock, per-deployment recognition settings): a scoped key-value
table; every change is audited with the old value, the new one and the reason."""

from __future__ import annotations

import json
from typing import Any

from console.clock import utcnow
from console.store import audit, governed
from console.store.base import Store


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def get_setting(store: Store, scope: str, key: str, default: Any = None) -> Any:
    row = store.one("SELECT value_json FROM settings WHERE scope = ? AND key = ?", (scope, key))
    return json.loads(row["value_json"]) if row else default


def set_setting(store: Store, scope: str, key: str, value: Any, user_id: int | None, actor_name: str,
                reason: str = "") -> None:
    with store.transaction() as conn:
        old = get_setting(store, scope, key)
        conn.execute(
            "INSERT INTO settings(scope, key, value_json, updated_at, updated_by) VALUES (?,?,?,?,?)"
            " ON CONFLICT(scope, key) DO UPDATE SET value_json = excluded.value_json,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (scope, key, _dumps(value), utcnow(), user_id),
        )
        audit.append(store, actor_name, "setting.changed", "setting", f"{scope}/{key}",
                     {"old": old, "new": value, "reason": reason,
                      "governed": governed.state(conn, "setting", f"{scope}/{key}")})

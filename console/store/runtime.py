"""The running deployment's reads and writes (console/services/runtime/): workers' heartbeats and
the audit log read as a feed of changes.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``). The statements are written once, with ``?`` placeholders, for
SQLite and PostgreSQL alike (both know INSERT ... ON CONFLICT ... DO UPDATE).
"""

from __future__ import annotations

from console.store.base import Store


# -- workers' heartbeats -----------------------------------------------------------------------------
def write_heartbeat(
    conn, worker_id: str, host: str, deployment_id: int, cameras_json: str, started_at: str, updated_at: str, state: str
) -> None:
    """The worker's row, made at its first beat and brought up to date at each one after."""
    conn.execute(
        "INSERT INTO worker_heartbeats(worker_id, host, deployment_id, cameras_json, started_at, updated_at, state)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT(worker_id) DO UPDATE SET cameras_json = excluded.cameras_json,"
        " updated_at = excluded.updated_at, state = excluded.state",
        (worker_id, host, deployment_id, cameras_json, started_at, updated_at, state),
    )


def mark_worker_gone(conn, worker_id: str) -> None:
    conn.execute("UPDATE worker_heartbeats SET state = 'gone' WHERE worker_id = ?", (worker_id,))


def heartbeats_since(store: Store, deployment_id: int, since: str) -> list:
    """The deployment's workers that reported at or after ``since``, running or stopped by a person."""
    return store.query(
        "SELECT * FROM worker_heartbeats WHERE deployment_id = ? AND updated_at >= ? AND state IN ('running', 'stopped')",
        (deployment_id, since),
    )


def heartbeats(store: Store, deployment_id: int) -> list:
    """Every worker's last report for the deployment, newest first."""
    return store.query("SELECT * FROM worker_heartbeats WHERE deployment_id = ? ORDER BY updated_at DESC", (deployment_id,))


# -- the audit log as a feed ------------------------------------------------------------------------------
def audit_head_seq(store: Store) -> int:
    """The newest audit entry's number (0: none yet)."""
    return int(store.one("SELECT COALESCE(MAX(seq), 0) AS s FROM audit_log")["s"])


def audit_entries_after(store: Store, seq: int) -> list:
    """Every audit entry after ``seq``, in order (seq, action, actor, subject_type, subject_id, details_json)."""
    return store.query(
        "SELECT seq, action, actor, subject_type, subject_id, details_json FROM audit_log WHERE seq > ? ORDER BY seq", (seq,)
    )

"""Camera leases: the workers of a deployment's pool share its cameras (console/services/runtime/pool.py).

One row per camera names the worker holding it (NULL: free) and until when, in seconds on the
database's own clock, so that hosts whose clocks disagree still agree on who holds what. A
worker renews its leases at every beat; a lease not renewed lapses, and another worker takes it.
Taking uses the database's row locks: on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so two workers
looking for free cameras at once never take the same one and never wait on each other; on SQLite
the write transaction itself takes turns. Every take and every release is an audit entry, in the
same transaction; renewals are not (one every two seconds per worker).

``epoch`` counts a camera's hand-overs. An alert is written under the lease it was raised under
(``check_fence``, inside the alert's own transaction): a worker cut off from the database that
comes back after its lease lapsed cannot write an alert for a camera another worker now runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from console.errors import AlertRefused
from console.store import audit
from console.store.base import Store

# The database's clock, in seconds since 1970 (each store's own expression).
_NOW = {"postgres": "EXTRACT(EPOCH FROM clock_timestamp())", "sqlite": "((julianday('now') - 2440587.5) * 86400.0)"}


def db_now(conn, dialect: str) -> float:
    return float(conn.execute(f"SELECT {_NOW[dialect]} AS now").fetchone()["now"])


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def join(conn, dialect: str, worker_id: str, deployment_id: int, host: str) -> float:
    """The worker is in the pool (seen now), and every camera of the deployment has its lease row
    (a camera added while the pool runs gets one at the next beat). Returns the database's now."""
    now = db_now(conn, dialect)
    conn.execute(
        "INSERT INTO worker_pool(worker_id, deployment_id, host, joined_at, seen_s) VALUES (?,?,?,?,?)"
        " ON CONFLICT(worker_id) DO UPDATE SET seen_s = excluded.seen_s, left_at = NULL",
        (worker_id, deployment_id, host, iso(now), now))
    conn.execute(
        "INSERT INTO camera_leases(camera_id, deployment_id) SELECT id, deployment_id FROM cameras"
        " WHERE deployment_id = ? ON CONFLICT(camera_id) DO NOTHING", (deployment_id,))
    return now


def renew(conn, dialect: str, worker_id: str, deployment_id: int, host: str, period_s: float) -> dict[int, int]:
    """Extend this worker's leases that have not lapsed; returns {camera id: epoch} of those it still holds."""
    now = join(conn, dialect, worker_id, deployment_id, host)
    conn.execute("UPDATE camera_leases SET expires_s = ? WHERE worker_id = ? AND deployment_id = ? AND expires_s > ?",
                 (now + period_s, worker_id, deployment_id, now))
    rows = conn.execute("SELECT camera_id, epoch FROM camera_leases WHERE worker_id = ? AND deployment_id = ?"
                        " AND expires_s > ?", (worker_id, deployment_id, now)).fetchall()
    return {int(r["camera_id"]): int(r["epoch"]) for r in rows}


def host_of(conn, worker_id: str) -> str:
    row = conn.execute("SELECT host FROM worker_pool WHERE worker_id = ?", (worker_id,)).fetchone()
    return row["host"] if row else ""


def fair_share(conn, dialect: str, deployment_id: int, period_s: float) -> int:
    """How many cameras each live member of the pool should hold (rounded up)."""
    now = db_now(conn, dialect)
    cams = int(conn.execute("SELECT COUNT(*) AS n FROM camera_leases WHERE deployment_id = ?",
                            (deployment_id,)).fetchone()["n"])
    members = int(conn.execute("SELECT COUNT(*) AS n FROM worker_pool WHERE deployment_id = ? AND left_at IS NULL"
                               " AND seen_s > ?", (deployment_id, now - period_s)).fetchone()["n"])
    return -(-cams // max(1, members))


def take(store: Store, conn, worker_id: str, actor_name: str, deployment_id: int, count: int,
         period_s: float) -> dict[int, int]:
    """Take up to ``count`` free or lapsed cameras; returns {camera id: new epoch}. Rows another
    worker is taking at this moment are skipped, not waited for."""
    if count <= 0:
        return {}
    now = db_now(conn, store.dialect)
    lock = " FOR UPDATE SKIP LOCKED" if store.dialect == "postgres" else ""
    rows = conn.execute(
        "SELECT camera_id, worker_id, host, epoch, expires_s FROM camera_leases WHERE deployment_id = ?"
        " AND (worker_id IS NULL OR expires_s <= ?) ORDER BY camera_id LIMIT ?" + lock,
        (deployment_id, now, count)).fetchall()
    host, taken = host_of(conn, worker_id), {}
    for r in rows:
        epoch = int(r["epoch"]) + 1
        conn.execute("UPDATE camera_leases SET worker_id = ?, host = ?, epoch = ?, acquired_at = ?, expires_s = ?"
                     " WHERE camera_id = ?", (worker_id, host, epoch, iso(now), now + period_s, r["camera_id"]))
        details = {"deployment_id": deployment_id, "worker_id": worker_id, "host": host, "epoch": epoch}
        if r["worker_id"]:
            details |= {"from_worker": r["worker_id"], "from_host": r["host"],
                        "lapsed_s": round(now - float(r["expires_s"]), 3)}
        audit.append(store, actor_name, "camera.lease_taken", "camera", int(r["camera_id"]), details)
        taken[int(r["camera_id"])] = epoch
    return taken


def release(store: Store, conn, worker_id: str, actor_name: str, camera_ids: list[int], why: str) -> list[int]:
    """Give cameras back (the worker stopped analysing them first); returns those it still held."""
    released = []
    for camera_id in camera_ids:
        row = conn.execute("SELECT epoch FROM camera_leases WHERE camera_id = ? AND worker_id = ?",
                           (camera_id, worker_id)).fetchone()
        if row is None:
            continue
        conn.execute("UPDATE camera_leases SET worker_id = NULL, host = NULL, expires_s = 0 WHERE camera_id = ?"
                     " AND worker_id = ?", (camera_id, worker_id))
        audit.append(store, actor_name, "camera.lease_released", "camera", camera_id,
                     {"worker_id": worker_id, "epoch": int(row["epoch"]), "why": why})
        released.append(camera_id)
    return released


def leave(store: Store, conn, worker_id: str, actor_name: str, why: str) -> list[int]:
    """The worker leaves the pool, giving back every camera it holds."""
    held = [int(r["camera_id"]) for r in conn.execute("SELECT camera_id FROM camera_leases WHERE worker_id = ?",
                                                      (worker_id,)).fetchall()]
    released = release(store, conn, worker_id, actor_name, held, why)
    conn.execute("UPDATE worker_pool SET left_at = ? WHERE worker_id = ?", (iso(db_now(conn, store.dialect)), worker_id))
    return released


def check_fence(conn, dialect: str, camera_id: int, worker_id: str, epoch: int) -> None:
    """Inside an alert's transaction: refuse it unless this worker still holds the camera's lease it
    was raised under. On PostgreSQL the lease row is held (shared) until the alert commits, so it
    cannot be taken over in between."""
    lock = " FOR SHARE" if dialect == "postgres" else ""
    row = conn.execute("SELECT expires_s FROM camera_leases WHERE camera_id = ? AND worker_id = ? AND epoch = ?" + lock,
                       (camera_id, worker_id, epoch)).fetchone()
    if row is None or float(row["expires_s"]) <= db_now(conn, dialect):
        raise AlertRefused(f"alert refused: camera {camera_id} is no longer this worker's (its lease lapsed or was "
                           "handed over); the worker now running it raises its own")


def holders(store: Store, deployment_id: int) -> list:
    """Each camera's lease: who holds it, on which host, since when, and whether it is live now."""
    now = f"{_NOW[store.dialect]}"
    return store.query(
        "SELECT l.camera_id, c.name, l.worker_id, l.host, l.epoch, l.acquired_at, l.expires_s,"
        f" CASE WHEN l.worker_id IS NOT NULL AND l.expires_s > {now} THEN 1 ELSE 0 END AS live"
        " FROM camera_leases l JOIN cameras c ON c.id = l.camera_id WHERE l.deployment_id = ? ORDER BY l.camera_id",
        (deployment_id,))


def members(store: Store, deployment_id: int, period_s: float) -> list:
    """The pool's workers seen within ``period_s``, with the number of cameras each holds."""
    now = f"{_NOW[store.dialect]}"
    return store.query(
        "SELECT p.worker_id, p.host, p.joined_at, (SELECT COUNT(*) FROM camera_leases l WHERE l.worker_id = p.worker_id"
        f" AND l.expires_s > {now}) AS cameras FROM worker_pool p WHERE p.deployment_id = ? AND p.left_at IS NULL"
        f" AND p.seen_s > {now} - ? ORDER BY p.joined_at", (deployment_id, period_s))

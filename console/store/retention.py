"""Retention's statements (console/services/record/retention.py): what is due for purging, the
purges themselves, and their rows.

Each function takes the open connection of the caller's transaction (``conn``), which also holds
the purge's audit entry, or a Store (``store``) for a read. The statements are written once, with
``?`` placeholders, for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from console.store.base import Store


def _marks(ids: list) -> str:
    return ",".join("?" * len(ids))


# -- alert images ------------------------------------------------------------------------------
def unpurged_alerts_before(conn, cutoff: str) -> list[int]:
    """The ids of the alerts stored before ``cutoff`` whose images are not purged yet."""
    return [r["id"] for r in conn.execute("SELECT id FROM alerts WHERE purged_at IS NULL AND stored_at < ?", (cutoff,))]


def purge_alert_images(conn, alert_ids: list[int], stamp: str) -> None:
    """The alerts' probe and context images gone, the alerts marked purged (their hashes stay)."""
    conn.execute(
        f"UPDATE alerts SET probe_jpeg = NULL, context_jpeg = NULL, purged_at = ? WHERE id IN ({_marks(alert_ids)})",
        (stamp, *alert_ids),
    )


def purge_alert_views(conn, alert_ids: list[int]) -> int:
    """The alerts' further views' images gone, and their context frames stored after them; how many views."""
    conn.execute(f"UPDATE alert_contexts SET jpeg = NULL WHERE jpeg IS NOT NULL AND alert_id IN ({_marks(alert_ids)})",
                 alert_ids)
    return conn.execute(
        f"UPDATE alert_views SET jpeg = NULL WHERE jpeg IS NOT NULL AND alert_id IN ({_marks(alert_ids)})", alert_ids
    ).rowcount


# -- watchlists --------------------------------------------------------------------------------
def finished_deployments(conn, stamp: str) -> list:
    """Each deployment ended, or past its end by ``stamp``: id, and when it finished (``finished``)."""
    return conn.execute(
        "SELECT d.id, COALESCE(d.ended_at, d.ends_at) AS finished FROM deployments d WHERE (d.state = 'ended' OR d.ends_at <= ?)",
        (stamp,),
    ).fetchall()


def unpurged_watchlists(conn, deployment_id: int) -> list[int]:
    return [
        r["id"] for r in conn.execute("SELECT id FROM watchlists WHERE deployment_id = ? AND purged_at IS NULL", (deployment_id,))
    ]


def record_numbers(conn, watchlist_ids: list[int]) -> list[str]:
    """The record numbers of the watchlists' entries, in order (kept after the purge)."""
    return [
        r["record_number"]
        for r in conn.execute(
            f"SELECT record_number FROM watchlist_entries WHERE watchlist_id IN ({_marks(watchlist_ids)}) ORDER BY id",
            watchlist_ids,
        )
    ]


def purge_entry_images(conn, watchlist_ids: list[int], stamp: str) -> int:
    """The watchlists' entry images and embeddings gone, marked purged; how many."""
    return conn.execute(
        f"UPDATE entry_images SET image_jpeg = NULL, embedding = NULL, purged_at = ? WHERE purged_at IS NULL"
        f" AND entry_id IN (SELECT id FROM watchlist_entries WHERE watchlist_id IN ({_marks(watchlist_ids)}))",
        (stamp, *watchlist_ids),
    ).rowcount


def mark_watchlists_purged(conn, watchlist_ids: list[int], stamp: str) -> None:
    conn.execute(f"UPDATE watchlists SET purged_at = ? WHERE id IN ({_marks(watchlist_ids)})", (stamp, *watchlist_ids))


# -- purge rows ----------------------------------------------------------------------------------
def insert_purge(conn, rule: str, ran_at: str, items: int, details_json: str) -> int:
    """A purge run's row; its id."""
    cur = conn.execute("INSERT INTO purges(rule, ran_at, items, details_json) VALUES (?,?,?,?)",
                       (rule, ran_at, items, details_json))
    return int(cur.lastrowid)


def recent_purges(store: Store, limit: int) -> list:
    """The latest purge runs, newest first: rule, ran_at, items."""
    return store.query("SELECT rule, ran_at, items FROM purges ORDER BY id DESC LIMIT ?", (limit,))

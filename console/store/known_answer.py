"""Known-answer test alerts (Step 17): their SQL, and the two fragments every figure and every search
uses to leave them out - an alert that is a test, and the watchlist that holds the test entries.

A test alert is an ordinary alert row (so the queue, the claims and the decisions treat it as any
other), marked in known_answer_alerts in the transaction that made it. Its entry is in the
deployment's known-answer watchlist, which the gallery never searches and no count includes."""

from __future__ import annotations

from console.store.base import Store

# SQL fragments: the alert ``a`` is not a test; the watchlist ``w`` is not the test watchlist.
REAL_ALERT = "{a}.id NOT IN (SELECT alert_id FROM known_answer_alerts)"
REAL_WATCHLIST = "{w}.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists)"


def real_alert(alias: str = "a") -> str:
    return REAL_ALERT.format(a=alias)


def real_watchlist(alias: str = "w") -> str:
    return REAL_WATCHLIST.format(w=alias)


def insert_set(conn, name: str, model_id: str, source_sha256: str, loaded_by: int, loaded_at: str) -> int:
    cur = conn.execute("INSERT INTO proficiency_sets(name, model_id, source_sha256, loaded_by, loaded_at)"
                       " VALUES (?,?,?,?,?)", (name, model_id, source_sha256, loaded_by, loaded_at))
    return int(cur.lastrowid)


def insert_item(conn, set_id: int, mated: bool, hard: bool, probe_person: str, photo_person: str, probe_jpeg: bytes,
                context_jpeg: bytes, bbox_json: str, quality_json: str, photo_jpeg: bytes, photo_embedding: bytes,
                embedding_dim: int, score: float) -> int:
    """One pair: the capture (``context_jpeg`` the frame, ``bbox_json`` the face's box in it, ``probe_jpeg`` the
    face crop, ``quality_json`` as the pipeline's alert records it) beside the watchlist photo and its embedding."""
    cur = conn.execute(
        "INSERT INTO proficiency_items(set_id, mated, hard, probe_person, photo_person, probe_jpeg, context_jpeg,"
        " bbox_json, quality_json, photo_jpeg, photo_embedding, embedding_dim, score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (set_id, int(mated), int(hard), probe_person, photo_person, probe_jpeg, context_jpeg, bbox_json, quality_json,
         photo_jpeg, photo_embedding, embedding_dim, float(score)))
    return int(cur.lastrowid)


def sets(store: Store) -> list:
    return store.query("SELECT s.*, (SELECT COUNT(*) FROM proficiency_items i WHERE i.set_id = s.id) AS items,"
                       " (SELECT SUM(mated) FROM proficiency_items i WHERE i.set_id = s.id) AS mated_items"
                       " FROM proficiency_sets s ORDER BY s.id")


def items_for(store: Store, model_id: str) -> list:
    """Every item of the sets made with ``model_id`` (id, mated, hard, score), oldest first."""
    return store.query("SELECT i.id, i.mated, i.hard, i.score FROM proficiency_items i JOIN proficiency_sets s"
                       " ON s.id = i.set_id WHERE s.model_id = ? ORDER BY i.id", (model_id,))


def item(store: Store, item_id: int):
    return store.one("SELECT * FROM proficiency_items WHERE id = ?", (item_id,))


def used_items(store: Store, deployment_id: int) -> dict[int, int]:
    """item id -> how many times the deployment was shown it."""
    rows = store.query("SELECT k.item_id, COUNT(*) AS n FROM known_answer_alerts k JOIN alerts a ON a.id = k.alert_id"
                       " WHERE a.deployment_id = ? GROUP BY k.item_id", (deployment_id,))
    return {int(r["item_id"]): int(r["n"]) for r in rows}


def test_watchlist(store: Store, deployment_id: int) -> int | None:
    row = store.one("SELECT watchlist_id FROM known_answer_watchlists WHERE deployment_id = ?", (deployment_id,))
    return int(row["watchlist_id"]) if row else None


def mark_watchlist(conn, watchlist_id: int, deployment_id: int, at: str) -> None:
    conn.execute("INSERT INTO known_answer_watchlists(watchlist_id, deployment_id, made_at) VALUES (?,?,?)",
                 (watchlist_id, deployment_id, at))


def mark_alert(conn, alert_id: int, item_id: int, mated: bool, at: str) -> None:
    conn.execute("INSERT INTO known_answer_alerts(alert_id, item_id, mated, made_at) VALUES (?,?,?,?)",
                 (alert_id, item_id, int(mated), at))


def test_of(store: Store, alert_id: int):
    """The alert's test row (item_id, mated) when it is a test, or that of its incident's first alert."""
    return store.one("SELECT k.* FROM known_answer_alerts k JOIN alerts a ON k.alert_id = COALESCE(a.incident_id, a.id)"
                     " WHERE a.id = ? UNION SELECT k.* FROM known_answer_alerts k WHERE k.alert_id = ?",
                     (alert_id, alert_id))


def last_test_at(store: Store, deployment_id: int) -> str | None:
    row = store.one("SELECT MAX(k.made_at) AS t FROM known_answer_alerts k JOIN alerts a ON a.id = k.alert_id"
                    " WHERE a.deployment_id = ?", (deployment_id,))
    return row["t"] if row else None


def real_incidents_since(store: Store, deployment_id: int, since: str | None) -> int:
    row = store.one(f"SELECT COUNT(*) AS n FROM alerts a WHERE a.deployment_id = ? AND {real_alert()}"
                    " AND COALESCE(a.incident_id, a.id) = a.id AND a.stored_at > ?", (deployment_id, since or ""))
    return int(row["n"])


def judged(store: Store, deployment_id: int) -> list:
    """Each decided test: the first decision on it (who, what, how long, when) and whether it was mated."""
    return store.query(
        "SELECT k.alert_id, k.mated, d.user_id, u.username, d.decision, d.duration_ms, d.decided_at"
        " FROM known_answer_alerts k JOIN alerts a ON a.id = k.alert_id"
        " JOIN decisions d ON d.id = (SELECT MIN(id) FROM decisions WHERE alert_id = k.alert_id)"
        " JOIN users u ON u.id = d.user_id WHERE a.deployment_id = ? ORDER BY k.alert_id", (deployment_id,))


def deployment_of_alert(store: Store, alert_id: int) -> int:
    return int(store.one("SELECT deployment_id FROM alerts WHERE id = ?", (alert_id,))["deployment_id"])


def record_numbers(store: Store, watchlist_id: int) -> set[str]:
    return {r["record_number"] for r in store.query("SELECT record_number FROM watchlist_entries WHERE watchlist_id = ?",
                                                    (watchlist_id,))}


def lock_deployment(conn, store: Store, deployment_id: int) -> None:
    """On PostgreSQL, the seats deciding whether a test is due take turns on the deployment's row (as the
    alert writers do, console/store/alerts.py): two seats never make two tests for one due. SQLite's
    write transaction is one at a time already."""
    if store.dialect == "postgres":
        conn.execute("SELECT id FROM deployments WHERE id = ? FOR UPDATE", (deployment_id,))

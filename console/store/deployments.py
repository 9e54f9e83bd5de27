"""The set-up's reads and writes of deployments (console/services/setup/): which one is open now,
their state and settings, the pre-deployment checklist, the watchlist's frozen snapshot, cameras
and their credentials, and the demo's.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``), whose audit entry the caller appends in the same transaction.
The statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike.
(Creating a deployment or a camera, with its audit entry: console/store/repo.py.)
"""

from __future__ import annotations

from console.store.base import Store


# -- which deployment ----------------------------------------------------------------------------
def open_now(store: Store, stamp: str):
    """The newest deployment authorised, running or stopped whose window holds ``stamp`` (``id``)."""
    return store.one(
        "SELECT id FROM deployments WHERE state IN ('authorised', 'active', 'stopped')"
        " AND starts_at <= ? AND ends_at > ? ORDER BY id DESC LIMIT 1",
        (stamp, stamp),
    )


def latest_deployment_id(store: Store) -> int | None:
    """The newest deployment's id; None before the first."""
    row = store.one("SELECT MAX(id) AS id FROM deployments")
    return None if row is None or row["id"] is None else int(row["id"])


def seat_choices(store: Store, stamp: str) -> list:
    """The real deployments a seat may open at ``stamp``, newest first."""
    return store.query(
        "SELECT id, name, location, state, starts_at, ends_at FROM deployments WHERE state IN"
        " ('authorised', 'active', 'stopped') AND is_demo = 0 AND starts_at <= ? AND ends_at > ?"
        " ORDER BY id DESC",
        (stamp, stamp),
    )


def real_deployments(store: Store) -> list:
    """Every deployment but the demo's, newest first."""
    return store.query(
        "SELECT id, name, location, state, starts_at, ends_at, watchlist_sha256 FROM deployments WHERE is_demo = 0"
        " ORDER BY id DESC"
    )


def name_and_state(store: Store, deployment_id: int):
    return store.one("SELECT name, state FROM deployments WHERE id = ?", (deployment_id,))


def snapshot_state(store: Store, deployment_id: int):
    """id, name, state and watchlist_sha256 of the deployment; None if there is none."""
    return store.one("SELECT id, name, state, watchlist_sha256 FROM deployments WHERE id = ?", (deployment_id,))


# -- state and settings ------------------------------------------------------------------------------
def mark_authorised(conn, deployment_id: int, user_id: int, at: str) -> None:
    conn.execute(
        "UPDATE deployments SET state = 'authorised', authorised_by = ?, authorised_at = ? WHERE id = ?",
        (user_id, at, deployment_id),
    )


def set_operator_may_stop(conn, deployment_id: int, allowed: bool) -> None:
    conn.execute("UPDATE deployments SET operator_may_stop = ? WHERE id = ?", (int(allowed), deployment_id))


def set_two_person_rule(conn, deployment_id: int, on: bool) -> None:
    conn.execute("UPDATE deployments SET two_person_rule = ? WHERE id = ?", (int(on), deployment_id))


def incident_window(conn, deployment_id: int):
    """The deployment's row with its ``incident_window_s``."""
    return conn.execute("SELECT incident_window_s FROM deployments WHERE id = ?", (deployment_id,)).fetchone()


def set_incident_window(conn, deployment_id: int, seconds: int) -> None:
    conn.execute("UPDATE deployments SET incident_window_s = ? WHERE id = ?", (int(seconds), deployment_id))


def set_threshold(conn, deployment_id: int, threshold: float) -> None:
    conn.execute("UPDATE deployments SET threshold = ? WHERE id = ?", (threshold, deployment_id))


def set_watchlist_sha256(conn, deployment_id: int, digest: str) -> None:
    conn.execute("UPDATE deployments SET watchlist_sha256 = ? WHERE id = ?", (digest, deployment_id))


# -- the pre-deployment checklist --------------------------------------------------------------------------
def checks_ticked(store: Store, deployment_id: int) -> list:
    """Each ticked item: item, ticked_at, note, and who ticked it (username)."""
    return store.query(
        "SELECT c.item, c.ticked_at, c.note, u.username FROM deployment_checks c JOIN users u ON u.id = c.ticked_by"
        " WHERE c.deployment_id = ?",
        (deployment_id,),
    )


def tick_check(conn, deployment_id: int, item: str, user_id: int, at: str, note: str) -> None:
    conn.execute(
        "INSERT INTO deployment_checks(deployment_id, item, ticked_by, ticked_at, note) VALUES (?, ?, ?, ?, ?)",
        (deployment_id, item, user_id, at, note),
    )


# -- the watchlist's snapshot -------------------------------------------------------------------------------
def snapshot_entries(conn, deployment_id: int) -> list:
    """Each entry not removed, in id order, with every governance field."""
    return conn.execute(
        "SELECT e.id, e.record_number, e.subject_name, e.category, e.legal_basis, e.reason, e.image_source,"
        " e.image_date, e.review_date, e.under_18, e.under_18_justification FROM watchlist_entries e"
        " JOIN watchlists w ON w.id = e.watchlist_id WHERE w.deployment_id = ?"
        " AND w.id NOT IN (SELECT watchlist_id FROM known_answer_watchlists) AND e.removed_at IS NULL"
        " ORDER BY e.id",
        (deployment_id,),
    ).fetchall()


def held_photo_hashes(conn, entry_id: int) -> list:
    """The image_sha256 of each of the entry's photos still held."""
    return conn.execute("SELECT image_sha256 FROM entry_images WHERE entry_id = ? AND purged_at IS NULL", (entry_id,)).fetchall()


# -- cameras ---------------------------------------------------------------------------------------------------
def insert_camera_credential(conn, camera_id: int, userinfo: str) -> None:
    conn.execute("INSERT INTO camera_credentials(camera_id, userinfo) VALUES (?, ?)", (camera_id, userinfo))


def camera_credential(store: Store, camera_id: int):
    """The camera's ``userinfo`` row; None when it has no credential."""
    return store.one("SELECT userinfo FROM camera_credentials WHERE camera_id = ?", (camera_id,))


def cameras_with_credentials(store: Store, deployment_id: int) -> set[int]:
    """The ids of the deployment's cameras whose credential is held apart."""
    return {
        int(r["camera_id"])
        for r in store.query(
            "SELECT k.camera_id FROM camera_credentials k JOIN cameras c ON c.id = k.camera_id WHERE c.deployment_id = ?",
            (deployment_id,),
        )
    }


def camera(store: Store, camera_id: int):
    return store.one("SELECT * FROM cameras WHERE id = ?", (camera_id,))


# -- the demo -----------------------------------------------------------------------------------------------------
def accounts_and_deployments(store: Store):
    """How many accounts (``users``) and deployments (``deps``) the store holds."""
    return store.one("SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM deployments) AS deps")


def open_demo_deployment(store: Store, model_id: str, stamp: str):
    """The newest demo deployment of this model open at ``stamp`` (``id``); None if none."""
    return store.one(
        "SELECT id FROM deployments WHERE is_demo = 1 AND model_id = ? AND starts_at <= ? AND ends_at > ?"
        " AND state IN ('authorised', 'active', 'stopped') ORDER BY id DESC LIMIT 1",
        (model_id, stamp, stamp),
    )

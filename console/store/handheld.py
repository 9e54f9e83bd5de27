"""The engagement officer's handheld (Step 16): pairings, paired devices, dispatches and their delivery.

Only hashes of pairing codes and device tokens are kept. Dispatches and their events are append-only
(triggers on SQLite, grants on PostgreSQL: console/store/pg_roles.py); every write's audit entry carries
the rows' digests (console/store/ledger.py)."""

from __future__ import annotations

from console.store.base import Store


def insert_pairing(conn, officer_id: int, deployment_id: int, code_sha256: str, created_by: int, created_at: str,
                   expires_at: str) -> int:
    cur = conn.execute(
        "INSERT INTO handheld_pairings(officer_id, deployment_id, code_sha256, created_by, created_at, expires_at)"
        " VALUES (?,?,?,?,?,?)", (officer_id, deployment_id, code_sha256, created_by, created_at, expires_at))
    return int(cur.lastrowid)


def pairing_by_code(conn, code_sha256: str):
    return conn.execute("SELECT * FROM handheld_pairings WHERE code_sha256 = ?", (code_sha256,)).fetchone()


def open_pairing_ids(conn, now: str) -> list[int]:
    """Codes not yet used and not expired."""
    rows = conn.execute("SELECT id FROM handheld_pairings WHERE used_at IS NULL AND expires_at > ?", (now,)).fetchall()
    return [int(r["id"]) for r in rows]


def count_failure(conn, pairing_ids: list[int]) -> None:
    for pid in pairing_ids:
        conn.execute("UPDATE handheld_pairings SET failures = failures + 1 WHERE id = ?", (pid,))


def use_pairing(conn, pairing_id: int, at: str) -> bool:
    """Mark the code used; False if another request used it first (one code, one device)."""
    cur = conn.execute("UPDATE handheld_pairings SET used_at = ? WHERE id = ? AND used_at IS NULL", (at, pairing_id))
    return cur.rowcount == 1


def insert_device(conn, pairing_id: int, officer_id: int, deployment_id: int, token_sha256: str, label: str,
                  paired_at: str, expires_at: str) -> int:
    cur = conn.execute(
        "INSERT INTO handheld_devices(pairing_id, officer_id, deployment_id, token_sha256, label, paired_at, expires_at)"
        " VALUES (?,?,?,?,?,?,?)", (pairing_id, officer_id, deployment_id, token_sha256, label, paired_at, expires_at))
    return int(cur.lastrowid)


_DEVICE = ("SELECT d.*, u.username, u.display_name, u.role, u.active, u.deleted_at FROM handheld_devices d"
           " JOIN users u ON u.id = d.officer_id")


def device_by_token(store: Store, token_sha256: str):
    return store.one(f"{_DEVICE} WHERE d.token_sha256 = ?", (token_sha256,))


def device(conn, device_id: int):
    return conn.execute(f"{_DEVICE} WHERE d.id = ?", (device_id,)).fetchone()


def devices(store: Store, deployment_id: int) -> list:
    return store.query(f"{_DEVICE} WHERE d.deployment_id = ? ORDER BY d.id", (deployment_id,))


def live_devices(store: Store, deployment_id: int, now: str) -> list:
    return store.query(f"{_DEVICE} WHERE d.deployment_id = ? AND d.revoked_at IS NULL AND d.expires_at > ?"
                       " AND u.active = 1 AND u.deleted_at IS NULL ORDER BY d.id", (deployment_id, now))


def revoke_device(conn, device_id: int, at: str, by: int | None, reason: str) -> bool:
    cur = conn.execute("UPDATE handheld_devices SET revoked_at = ?, revoked_by = ?, revoke_reason = ?"
                       " WHERE id = ? AND revoked_at IS NULL", (at, by, reason, device_id))
    return cur.rowcount == 1


def insert_dispatch(conn, alert_id: int, deployment_id: int, decision_id: int, sent_by: int, officer_id: int | None,
                    sent_at: str) -> int | None:
    """The dispatch's id; None when the alert was already dispatched (a retry makes no second one)."""
    cur = conn.execute(
        "INSERT INTO dispatches(alert_id, deployment_id, decision_id, sent_by, officer_id, sent_at) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT (alert_id) DO NOTHING", (alert_id, deployment_id, decision_id, sent_by, officer_id, sent_at))
    if cur.rowcount != 1:
        return None
    return int(conn.execute("SELECT id FROM dispatches WHERE alert_id = ?", (alert_id,)).fetchone()["id"])


_DISPATCH = ("SELECT p.*, u.username AS sent_by_name, o.username AS officer_name FROM dispatches p"
             " JOIN users u ON u.id = p.sent_by LEFT JOIN users o ON o.id = p.officer_id")


def dispatch_of_alert(store: Store, alert_id: int):
    return store.one(f"{_DISPATCH} WHERE p.alert_id = ?", (alert_id,))


def dispatch(store: Store, dispatch_id: int):
    return store.one(f"{_DISPATCH} WHERE p.id = ?", (dispatch_id,))


def dispatches_for(store: Store, deployment_id: int, officer_id: int, since: str) -> list:
    """Dispatches of the deployment to this officer or to its team, sent since ``since``, newest first."""
    return store.query(f"{_DISPATCH} WHERE p.deployment_id = ? AND (p.officer_id IS NULL OR p.officer_id = ?)"
                       " AND p.sent_at >= ? ORDER BY p.id DESC", (deployment_id, officer_id, since))


def dispatches_of_deployment(store: Store, deployment_id: int, since: str) -> list:
    return store.query(f"{_DISPATCH} WHERE p.deployment_id = ? AND p.sent_at >= ? ORDER BY p.id DESC",
                       (deployment_id, since))


def add_event(conn, dispatch_id: int, device_id: int, stage: str, at: str) -> int | None:
    """The event's id; None if this device already reported that stage (a retried request adds nothing)."""
    cur = conn.execute("INSERT INTO dispatch_events(dispatch_id, device_id, stage, at) VALUES (?,?,?,?)"
                       " ON CONFLICT (dispatch_id, device_id, stage) DO NOTHING", (dispatch_id, device_id, stage, at))
    if cur.rowcount != 1:
        return None
    row = conn.execute("SELECT id FROM dispatch_events WHERE dispatch_id = ? AND device_id = ? AND stage = ?",
                       (dispatch_id, device_id, stage)).fetchone()
    return int(row["id"])


def events(store: Store, dispatch_id: int) -> list:
    return store.query("SELECT e.*, d.officer_id, u.username FROM dispatch_events e JOIN handheld_devices d"
                       " ON d.id = e.device_id JOIN users u ON u.id = d.officer_id WHERE e.dispatch_id = ? ORDER BY e.id",
                       (dispatch_id,))


def engagements_of(store: Store, alert_id: int) -> list:
    return store.query("SELECT g.*, u.username FROM engagements g JOIN users u ON u.id = g.recorded_by"
                       " WHERE g.alert_id = ? ORDER BY g.id", (alert_id,))


def engagement_sources(store: Store, deployment_id: int) -> dict[str, int]:
    """How many incidents' latest engagement each way recorded it: handheld (the officer) or relayed."""
    rows = store.query(
        "SELECT COALESCE(g.recorded_via, 'relayed') AS via, COUNT(*) AS n FROM engagements g JOIN alerts a"
        " ON a.id = g.alert_id WHERE a.deployment_id = ? AND g.id = (SELECT MAX(id) FROM engagements"
        " WHERE alert_id = g.alert_id) GROUP BY COALESCE(g.recorded_via, 'relayed')", (deployment_id,))
    out = {"handheld": 0, "relayed": 0}
    out.update({r["via"]: int(r["n"]) for r in rows})
    return out


def latest_decision(store: Store, alert_id: int):
    """The alert's latest decision with who made it (user name and display name)."""
    return store.one("SELECT d.*, u.username, u.display_name FROM decisions d JOIN users u ON u.id = d.user_id"
                     " WHERE d.alert_id = ? ORDER BY d.id DESC LIMIT 1", (alert_id,))


def alert_for_dispatch(store: Store, alert_id: int):
    """The alert, its camera and deployment place, and whether its incident is escalated."""
    return store.one("SELECT a.id, a.deployment_id, a.camera_id, a.captured_at, a.status, a.escalated_at, a.probe_jpeg,"
                     " COALESCE(x.jpeg, a.context_jpeg) AS context_jpeg, a.purged_at, c.name AS camera, dp.location AS place,"
                     " dp.name AS deployment FROM alerts a JOIN cameras c ON c.id = a.camera_id"
                     " JOIN deployments dp ON dp.id = a.deployment_id LEFT JOIN alert_contexts x ON x.alert_id = a.id"
                     " WHERE a.id = ?", (alert_id,))


def entry_photo(store: Store, alert_id: int, entry_id: int):
    """The confirmed candidate's watchlist record and the enrolment photo the operator compared."""
    return store.one("SELECT e.id, e.record_number, e.subject_name, e.category, e.legal_basis, e.reason, i.image_jpeg"
                     " FROM alert_candidates ac JOIN watchlist_entries e ON e.id = ac.entry_id"
                     " LEFT JOIN entry_images i ON i.id = ac.image_id WHERE ac.alert_id = ? AND ac.entry_id = ?",
                     (alert_id, entry_id))


def pair_with_code(store: Store, conn, code_sha256: str, token_sha256: str, label: str, now: str, expires: str,
                   max_failures: int) -> tuple[int | None, object]:
    """(the new device's id, or None when refused; the code's row, if the code exists). A wrong, used,
    expired or void code counts a failed try against every open code. On PostgreSQL the owner's
    function ``orc_pair_device`` does it (a seat may not make devices itself: console/store/pg_handheld.py)."""
    if store.dialect == "postgres":
        found = conn.execute("SELECT orc_pair_device(?, ?, ?) AS d", (code_sha256, token_sha256, label)).fetchone()["d"]
        return (None if found is None else int(found)), pairing_by_code(conn, code_sha256)
    row = pairing_by_code(conn, code_sha256)
    usable = (row is not None and row["used_at"] is None and row["expires_at"] > now
              and int(row["failures"]) < max_failures and use_pairing(conn, int(row["id"]), now))
    if not usable:
        count_failure(conn, open_pairing_ids(conn, now))
        return None, row
    return insert_device(conn, int(row["id"]), int(row["officer_id"]), int(row["deployment_id"]), token_sha256, label,
                         now, expires), row

"""The accounts' reads and writes (console/services/accounts/): users, their passwords and lockout,
the database's sign-in sessions, and the workers' credentials.

Each function takes what its caller already holds: a Store (``store``), or the open connection of
the caller's transaction (``conn``), whose audit entry the caller appends in the same transaction.
The statements are written once, with ``?`` placeholders, for SQLite and PostgreSQL alike (the
``orc_*`` functions exist on PostgreSQL only: console/store/pg_authority.py).
"""

from __future__ import annotations

from console.store.base import Store


# -- users ------------------------------------------------------------------------------
def has_active_administrator(store: Store) -> bool:
    return (
        store.one("SELECT 1 FROM users WHERE role = 'administrator' AND active = 1 AND is_demo = 0 AND deleted_at IS NULL")
        is not None
    )


def other_active_administrators(store: Store, user_id: int) -> int:
    """How many active, real administrators there are besides this user."""
    return store.one(
        "SELECT COUNT(*) AS n FROM users WHERE role = 'administrator' AND active = 1 AND is_demo = 0"
        " AND deleted_at IS NULL AND id <> ?",
        (user_id,),
    )["n"]


def ever_created_administrator(store: Store) -> bool:
    """A real (not demo) administrator is in the users table (active or not)."""
    return store.one("SELECT 1 AS x FROM users WHERE role = 'administrator' AND is_demo = 0") is not None


def user_listing(store: Store) -> list:
    """Every account's name, role and state (never a password hash), by name."""
    return store.query(
        "SELECT username, display_name, role, active, is_demo, locked_until, deleted_at FROM users ORDER BY username"
    )


def open_demo_usernames(store: Store) -> list[str]:
    return [
        r["username"]
        for r in store.query(
            "SELECT username FROM users WHERE is_demo = 1 AND active = 1 AND deleted_at IS NULL ORDER BY username"
        )
    ]


def identity_of(store: Store, user_id: int):
    """username, role, active and deleted_at of the account; None if there is none."""
    return store.one("SELECT username, role, active, deleted_at FROM users WHERE id = ?", (user_id,))


def set_demo_password(conn, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = ?, is_demo = 1 WHERE id = ?", (password_hash, user_id))


def set_active(conn, user_id: int, active: bool) -> None:
    """Enable or disable the account; either way its failed tries and lockout are cleared."""
    conn.execute("UPDATE users SET active = ?, failed_logins = 0, locked_until = NULL WHERE id = ?", (int(active), user_id))


def mark_deleted(conn, user_id: int, deleted_at: str) -> None:
    """Disabled, its password gone, its row kept (the record names it)."""
    conn.execute(
        "UPDATE users SET active = 0, deleted_at = ?, password_hash = NULL, failed_logins = 0, locked_until = NULL WHERE id = ?",
        (deleted_at, user_id),
    )


def set_password(conn, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


def reset_password(conn, user_id: int, password_hash: str) -> None:
    """A new password, and the failed tries and lockout cleared."""
    conn.execute(
        "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?", (password_hash, user_id)
    )


# -- login ------------------------------------------------------------------------------
def take_login_try(conn, user_id: int, max_failures: int, now: str) -> bool:
    """Count one more try against an enabled account that is not locked and has tries left (the
    UPDATE itself checks it: two tries at once count twice); False if it was not counted."""
    return (
        conn.execute(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? AND active = 1"
            " AND deleted_at IS NULL AND failed_logins < ? AND (locked_until IS NULL"
            " OR locked_until <= ?)",
            (user_id, max_failures, now),
        ).rowcount
        == 1
    )


def touch_login_row(conn, user_id: int) -> None:
    """The same write to an unchanged row (this account's, or the first one when there is none), so
    that a try not counted takes as long as one that was."""
    conn.execute(
        "UPDATE users SET failed_logins = failed_logins WHERE id = COALESCE((SELECT id FROM users"
        " WHERE id = ?), (SELECT MIN(id) FROM users))",
        (user_id,),
    )


def failed_logins(conn, user_id: int) -> int:
    return int(conn.execute("SELECT failed_logins FROM users WHERE id = ?", (user_id,)).fetchone()[0])


def clear_failures(conn, user_id: int) -> None:
    conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (user_id,))


def lock_if_out_of_tries(conn, user_id: int, locked_until: str, max_failures: int, now: str) -> int:
    """Lock the account until ``locked_until`` if it has used its tries and is not locked already
    (once: a second try at once finds it locked); how many rows were locked (0 or 1)."""
    return conn.execute(
        "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ? AND"
        " failed_logins >= ? AND (locked_until IS NULL OR locked_until <= ?)",
        (locked_until, user_id, max_failures, now),
    ).rowcount


# -- login on PostgreSQL: a seat may not write the lockout; owner's-rights functions do (pg_doors.py) --
def take_login_try_pg(conn, user_id: int, now: str) -> int | None:
    """As take_login_try, inside the database (which also makes the same write when it counts none):
    the number of this try, or None when it was not counted."""
    row = conn.execute("SELECT orc_take_try(?, ?) AS n", (user_id, now)).fetchone()
    return None if row["n"] is None else int(row["n"])


def lock_out_pg(conn, user_id: int, locked_until: str, now: str) -> str | None:
    """As lock_if_out_of_tries, inside the database: until when the account is now locked, or None
    when this try locked nothing (for a seat, the database's clock and the full lockout)."""
    return conn.execute("SELECT orc_lock_out(?, ?, ?) AS u", (user_id, locked_until, now)).fetchone()["u"]


# -- the database's sign-in sessions (PostgreSQL) ----------------------------------------------
def session_actor(store: Store):
    """The role and user id the database knows this connection's session as (None: none, or ended)."""
    return store.one("SELECT orc_actor_role() AS role, orc_actor_id() AS id")


def end_database_session(store: Store, token: str) -> None:
    store.one("SELECT orc_end_session(?) AS x", (token,))


def users_created(store: Store) -> list:
    """The audit log's 'user.created' entries: actor and details_json."""
    return store.query("SELECT actor, details_json FROM audit_log WHERE action = 'user.created'")


# -- workers' credentials ------------------------------------------------------------------------
def insert_worker_credential(
    conn, deployment_id: int, label: str, secret_sha256: str, issued_by: int, issued_at: str, expires_at: str
) -> int:
    cur = conn.execute(
        "INSERT INTO worker_credentials(deployment_id, label, secret_sha256, issued_by, issued_at, expires_at)"
        " VALUES (?,?,?,?,?,?)",
        (deployment_id, label, secret_sha256, issued_by, issued_at, expires_at),
    )
    return int(cur.lastrowid)


def worker_credential_state(conn, credential_id: int):
    """deployment_id and revoked_at of the credential; None if there is none."""
    return conn.execute("SELECT deployment_id, revoked_at FROM worker_credentials WHERE id = ?", (credential_id,)).fetchone()


def revoke_worker_credential(conn, credential_id: int, revoked_at: str, revoked_by: int) -> None:
    conn.execute(
        "UPDATE worker_credentials SET revoked_at = ?, revoked_by = ? WHERE id = ?", (revoked_at, revoked_by, credential_id)
    )


def worker_credential_by_secret(store: Store, secret_sha256: str):
    return store.one("SELECT * FROM worker_credentials WHERE secret_sha256 = ?", (secret_sha256,))


def worker_credential(store: Store, credential_id: int):
    return store.one("SELECT * FROM worker_credentials WHERE id = ?", (credential_id,))


def worker_credential_lapse(store: Store, credential_id: int):
    """revoked_at, expires_at and label of the credential; None if there is none."""
    return store.one("SELECT revoked_at, expires_at, label FROM worker_credentials WHERE id = ?", (credential_id,))


def worker_credentials_of(store: Store, deployment_id: int) -> list:
    """The deployment's credentials (never their hashes), newest first."""
    return store.query(
        "SELECT id, label, issued_at, expires_at, revoked_at FROM worker_credentials WHERE deployment_id = ? ORDER BY id DESC",
        (deployment_id,),
    )

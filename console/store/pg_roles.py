"""PostgreSQL: the schema's owner migrates; seats and workers connect as a role that cannot.

On a shared database the owner of the schema can drop a trigger, alter a table or rewrite the
append-only log, so no seat connects as it. ``grant_seat`` (run once, as the owner, by
``main.py db grant-seat NAME``) makes a login role in the group ``orc_seat``, which may:

* read every table and insert into every table (a seat writes alerts, decisions, log entries);
* update only the tables whose rows change state (alerts, users, deployments, watchlists, ...);
* never update, delete or truncate the append-only tables (the audit log, decisions,
  engagements, alert events, equality fields, sign-offs, the migrations list), nor delete
  anything anywhere (the console deletes nothing: purges blank images in place);
* never alter, drop or create anything: it owns nothing, and creating in the schema is revoked
  from everyone but the owner.

* never read ``users.password_hash``: sign-in checks a password through two functions that run
  with the owner's rights (migration 15) and hand out only the salt and whether a derived key
  matches, so a seat's credential cannot take the hashes away to crack them (since migration 16 the
  check is ``orc_open_session``, which counts it against the lockout's tries).

* write, in the tables where it matters who writes, only what the signed-in person's role may
  (console/store/pg_authority.py: sign-in opens a session the database vouches for; row-level
  security and guards check it). The session table itself is out of a seat's reach.
"""

from __future__ import annotations

import re

from console.errors import StoreError
from console.store.repo import USER_COLUMNS

SEAT_GROUP = "orc_seat"
# The only tables a seat may update (the console's own UPDATE statements and upserts touch these).
UPDATABLE = ("alerts", "users", "deployments", "worker_heartbeats", "face_stats", "worker_credentials", "watchlists",
             "review_samples", "entry_images", "audit_high_water", "alert_views", "alert_contexts", "settings",
             "handheld_pairings", "handheld_devices", "camera_leases", "worker_pool")
APPEND_ONLY = ("audit_log", "decisions", "engagements", "alert_events", "engagement_demographics", "report_signoffs",
               "schema_migrations", "dispatches", "dispatch_events", "known_answer_alerts", "known_answer_watchlists",
               "proficiency_items", "alert_keys")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{2,40}$")


def grant_seat(store, login: str, password: str) -> None:
    """As the schema's owner: make (or refresh) the seat group's rights and a login role in it."""
    if store.dialect != "postgres":
        raise StoreError("seat roles are for a shared PostgreSQL store; an SQLite file is one seat's")
    if not _NAME.match(login) or login == SEAT_GROUP:
        raise StoreError("a seat role's name is 3-41 lower-case letters, digits or _, starting with a letter")
    if len(password) < 16:
        raise StoreError("a seat role's password has at least 16 characters (it is typed by machines, not people)")
    conn = store.conn.raw
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SEAT_GROUP,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {SEAT_GROUP} NOLOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {SEAT_GROUP}")
        conn.execute(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {SEAT_GROUP}")
        conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {SEAT_GROUP}")
        conn.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {SEAT_GROUP}")
        conn.execute(f"GRANT UPDATE ON {', '.join(UPDATABLE)} TO {SEAT_GROUP}")
        # Every column of users but the hash may be read; the hash may be written (a new password),
        # never read back. Sign-in goes through orc_password_salt / orc_open_session.
        conn.execute(f"REVOKE SELECT ON users FROM {SEAT_GROUP}")
        conn.execute(f"GRANT SELECT ({USER_COLUMNS}) ON users TO {SEAT_GROUP}")
        conn.execute(f"REVOKE EXECUTE ON FUNCTION orc_password_check(BIGINT, TEXT) FROM {SEAT_GROUP}")
        conn.execute(f"GRANT EXECUTE ON FUNCTION orc_password_salt(BIGINT), orc_open_session(BIGINT, TEXT),"
                     f" orc_end_session(TEXT), orc_actor_role(), orc_actor_id(), orc_take_try(BIGINT, TEXT),"
                     f" orc_lock_out(BIGINT, TEXT, TEXT), orc_open_recognition(BIGINT), orc_recognition_deployment(),"
                     f" orc_end_recognition(TEXT)"
                     f" TO {SEAT_GROUP}")
        conn.execute(f"REVOKE ALL ON orc_sessions FROM {SEAT_GROUP}")  # tokens' hashes: the owner's functions only
        conn.execute(f"REVOKE ALL ON orc_recognition FROM {SEAT_GROUP}")
        literal = conn.execute("SELECT quote_literal(%s) AS q", (password,)).fetchone()[0]
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
            conn.execute(f"ALTER ROLE {login} LOGIN PASSWORD {literal}")
        else:
            conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD {literal} IN ROLE {SEAT_GROUP}")

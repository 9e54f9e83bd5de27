"""PostgreSQL: who is signed in on this connection, and what the database lets that person write.

Migration 16 (PostgreSQL only). A seat's database credential (console/store/pg_roles.py) serves
every person who signs in at that seat, so on its own it cannot tell an operator from a supervisor.
Sign-in therefore also proves the password to the database:

* ``orc_open_session(user, key)`` runs with the owner's rights, checks the key derived from the typed
  password against the stored hash (which the seat may not read) - one check per try the console
  has counted, none while the account is locked - and hands back a random session token; only
  its SHA-256 is kept, in ``orc_sessions``, which no seat may read or write. A session lasts 16 hours
  at most (a shift) and ends at sign-out (``orc_end_session``).
* Each connection says whose session it works under with ``set_config('orc.session', token)``
  (``Actor.require`` does it at every door). A headless worker names its credential's token the
  same way. ``orc_actor_role()`` / ``orc_actor_id()`` give the role and id the database itself
  vouches for: an open, unexpired session of an enabled account (or a live worker credential),
  and NULL for anyone else - a made-up token, a disabled account, or a connection that never said.

What the database then refuses to a seat, whatever the console does (the owner, who migrates,
is exempt, and connects only to migrate):

* row-level security on INSERT: a decision only by a signed-in operator or supervisor and only in
  their own name; an engagement outcome only by the roles that record one, in their own name; a
  report sign-off only by a supervisor in their own name; accounts only by an administrator;
  deployments, watchlists and their entries only by a supervisor; cameras by an administrator or
  a supervisor; worker credentials by an administrator; settings by an administrator or a
  supervisor (their updates too; a worker credential is revoked only by an administrator);
* triggers on UPDATE, where what may change depends on the column: an account's name, role, state
  or demo flag only by an administrator, and its password only by its owner or an administrator
  (migration 16 let a seat take a try and lock an account whose tries were used up; since migration
  26 the lockout moves only through owner's-rights functions: console/store/pg_doors.py);
  a deployment's settings only by a supervisor; an operator may only start or stop it, a worker
  only start it, and anyone may end it (the safe direction: the console ends one whose window is
  over with nobody signed in; the audit log says who).
"""

from __future__ import annotations

_ROLE_OF_TOKEN = """
    SELECT COALESCE(
      (SELECT {user_col} FROM orc_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_sha256 = orc_token_sha256(current_setting('orc.session', true))
          AND s.ended_at IS NULL AND s.expires_at > now() AND u.active = 1 AND u.deleted_at IS NULL),
      (SELECT {worker_col} FROM worker_credentials w
        WHERE w.secret_sha256 = orc_token_sha256(current_setting('orc.session', true))
          AND w.revoked_at IS NULL
          AND w.expires_at > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
"""

MAX_TRIES = 5  # console/services/accounts/auth.py MAX_FAILURES and LOCKOUT (a test holds them equal)
LOCKOUT = "15 minutes"
_NOW_TEXT = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
_LOCK_ENDS = _NOW_TEXT.replace("now()", f"(now() + interval '{LOCKOUT}')")
_COUNTERS = "'failed_logins' - 'locked_until' - 'password_hash' - 'orc_checks'"
_DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"

# Tables a seat may write only as the person's role allows: (table, INSERT check, UPDATE check or None
# where updates are left to grants and triggers).
INSERT_RULES = (
    ("decisions", "user_id = orc_actor_id() AND orc_actor_role() IN ('operator', 'supervisor')", None),
    ("engagements", "recorded_by = orc_actor_id() AND orc_actor_role() IN ('operator', 'engagement_officer',"
                    " 'supervisor')", None),
    ("report_signoffs", "user_id = orc_actor_id() AND orc_actor_role() = 'supervisor'", None),
    ("users", "orc_actor_role() = 'administrator'", None),
    ("deployments", "orc_actor_role() = 'supervisor'", None),
    ("watchlists", "orc_actor_role() = 'supervisor'", None),
    ("watchlist_entries", "added_by = orc_actor_id() AND orc_actor_role() = 'supervisor'", None),
    ("cameras", "orc_actor_role() IN ('administrator', 'supervisor')", None),
    ("worker_credentials", "issued_by = orc_actor_id() AND orc_actor_role() = 'administrator'",
     "orc_actor_role() = 'administrator'"),
    ("settings", "orc_actor_role() IN ('administrator', 'supervisor')",
     "orc_actor_role() IN ('administrator', 'supervisor')"),
)


# Migration 18: the tables Step 13 added (migration 17).
SETUP_RULES = (
    ("deployment_checks", "ticked_by = orc_actor_id() AND orc_actor_role() = 'supervisor'", None),
    ("camera_credentials", "orc_actor_role() IN ('administrator', 'supervisor')",
     "orc_actor_role() IN ('administrator', 'supervisor')"),
)


def _policies(rules=INSERT_RULES) -> tuple[str, ...]:
    out: list[str] = []
    for table, insert_check, update_check in rules:
        out += [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
                f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)",
                f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({insert_check})",
                f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({update_check or 'true'})"
                f" WITH CHECK ({update_check or 'true'})"]
    return tuple(out)


_REFUSE = "RAISE EXCEPTION 'refused by the database: %', {why} USING ERRCODE = '42501'"

V16_POSTGRES = (
    "CREATE TABLE orc_sessions (token_sha256 TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),"
    " opened_at TIMESTAMPTZ NOT NULL DEFAULT now(), expires_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ)",
    "REVOKE ALL ON orc_sessions FROM PUBLIC",
    "CREATE FUNCTION orc_token_sha256(p TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE"
    " AS $$ SELECT encode(sha256(convert_to(p, 'UTF8')), 'hex') $$",
    # Tries are counted where the hash is: each try the console takes (failed_logins + 1, which a seat
    # may do) allows one check of a key, and only while the account is not locked; a seat may not give
    # tries back (the guard below), so a seat's credential guesses no faster than the lockout allows.
    "ALTER TABLE users ADD COLUMN orc_checks BIGINT NOT NULL DEFAULT 0",
    "REVOKE EXECUTE ON FUNCTION orc_password_check(BIGINT, TEXT) FROM PUBLIC",
    f"CREATE FUNCTION orc_open_session(p_user BIGINT, p_key TEXT) RETURNS TEXT LANGUAGE plpgsql {_DEFINER} AS $$"
    " DECLARE t TEXT; BEGIN"
    "  UPDATE users SET orc_checks = orc_checks + 1 WHERE id = p_user AND active = 1 AND deleted_at IS NULL"
    f"   AND orc_checks < failed_logins AND failed_logins <= {MAX_TRIES}"
    f"   AND (locked_until IS NULL OR locked_until <= {_NOW_TEXT});"
    "  IF NOT FOUND OR p_key IS NULL OR p_key = '' OR NOT EXISTS (SELECT 1 FROM users WHERE id = p_user"
    "     AND split_part(password_hash, '$', 6) = p_key) THEN RETURN NULL; END IF;"
    "  UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = p_user;"
    "  t := 'orcs1.' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');"
    "  INSERT INTO orc_sessions(token_sha256, user_id, expires_at)"
    "   VALUES (orc_token_sha256(t), p_user, now() + interval '16 hours');"
    "  RETURN t; END $$",
    f"CREATE FUNCTION orc_end_session(p_token TEXT) RETURNS VOID LANGUAGE sql {_DEFINER} AS $$"
    " UPDATE orc_sessions SET ended_at = now() WHERE token_sha256 = orc_token_sha256(p_token)"
    " AND ended_at IS NULL $$",
    f"CREATE FUNCTION orc_actor_role() RETURNS TEXT LANGUAGE sql STABLE {_DEFINER} AS $$"
    + _ROLE_OF_TOKEN.format(user_col="u.role", worker_col="'worker'::text") + "$$",
    f"CREATE FUNCTION orc_actor_id() RETURNS BIGINT LANGUAGE sql STABLE {_DEFINER} AS $$"
    + _ROLE_OF_TOKEN.format(user_col="u.id", worker_col="-w.id") + "$$",
    # Whether this connection is a seat's (the owner and superusers migrate and are not limited).
    "CREATE FUNCTION orc_restricted() RETURNS BOOLEAN LANGUAGE sql STABLE AS $$"
    " SELECT NOT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)"
    " AND current_user <> (SELECT pg_get_userbyid(relowner) FROM pg_class"
    " WHERE oid = 'public.schema_migrations'::regclass) $$",
    "CREATE FUNCTION orc_guard_users() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF NEW.failed_logins = 0 THEN NEW.orc_checks := 0; END IF;"
    "  IF NOT orc_restricted() OR orc_actor_role() IS NOT DISTINCT FROM 'administrator' THEN RETURN NEW; END IF;"
    f"  IF to_jsonb(NEW) - {_COUNTERS} IS DISTINCT FROM to_jsonb(OLD) - {_COUNTERS} THEN "
    + _REFUSE.format(why="'only a signed-in administrator changes an account'") + "; END IF;"
    "  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash AND orc_actor_id() IS DISTINCT FROM OLD.id THEN "
    + _REFUSE.format(why="'a password is changed by its owner or an administrator'") + "; END IF;"
    "  IF NEW.failed_logins <> 0 AND NEW.orc_checks IS DISTINCT FROM OLD.orc_checks THEN "
    + _REFUSE.format(why="'the database counts the checks of a password'") + "; END IF;"
    "  IF orc_actor_id() IS DISTINCT FROM OLD.id AND (NEW.failed_logins < OLD.failed_logins"
    "     OR NEW.locked_until IS DISTINCT FROM OLD.locked_until) THEN"
    # Besides taking a try, a seat may only lock an account that has used them all, for the full lockout.
    f"    IF NEW.failed_logins = 0 AND NEW.locked_until IS NOT NULL AND OLD.failed_logins >= {MAX_TRIES} THEN"
    f"      NEW.locked_until := GREATEST(NEW.locked_until, {_LOCK_ENDS});"
    "    ELSE " + _REFUSE.format(why="'a seat takes tries, it does not give them back'") + "; END IF;"
    "  END IF;"
    "  RETURN NEW; END $$",
    "CREATE TRIGGER users_guarded BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION orc_guard_users()",
    "CREATE FUNCTION orc_guard_deployments() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE who TEXT; same BOOLEAN; BEGIN"
    "  IF NOT orc_restricted() THEN RETURN NEW; END IF;"
    "  who := orc_actor_role();"
    "  IF who = 'supervisor' THEN RETURN NEW; END IF;"
    "  same := to_jsonb(NEW) - 'state' - 'ended_at' - 'stopped_at' - 'stopped_by' - 'stop_reason'"
    "          = to_jsonb(OLD) - 'state' - 'ended_at' - 'stopped_at' - 'stopped_by' - 'stop_reason';"
    "  IF same AND (NEW.state = 'ended'"
    "     OR who = 'operator' AND NEW.state IN ('active', 'stopped') OR who = 'worker' AND NEW.state = 'active')"
    "  THEN RETURN NEW; END IF;"
    "  " + _REFUSE.format(why="'a deployment is changed by a signed-in supervisor (an operator may start or stop it,"
                              " a worker start it)'") + "; END $$",
    "CREATE TRIGGER deployments_guarded BEFORE UPDATE ON deployments FOR EACH ROW"
    " EXECUTE FUNCTION orc_guard_deployments()",
) + _policies()

V18_POSTGRES = _policies(SETUP_RULES)

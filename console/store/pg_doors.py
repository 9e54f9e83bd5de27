"""PostgreSQL: two more doors a seat's credential could walk through, closed (migration 26).

Migration 16 (console/store/pg_authority.py) made the database vouch for the person signed in at a
seat. Two doors stayed open to anyone holding a seat's credential in psql:

* **The lockout counter.** A seat took a try by writing ``failed_logins + 1`` and locked an account
  by writing ``locked_until`` itself, so the credential could lock any account at will. Now a seat
  may not write ``failed_logins``, ``locked_until`` or ``orc_checks`` at all (the guard on users
  refuses it; a signed-in administrator may only clear them, as enabling an account or resetting a
  password does). The lockout moves only through functions that run with the owner's rights:
  ``orc_take_try(user, now)`` counts one try for the account being tried (before the password is
  checked, as the console always did) and hands back its number, ``orc_lock_out(user, until, now)``
  locks an account only once its tries are used up, and ``orc_open_session`` gives the tries back on
  a right password. So a seat locks an account only the way anyone at a sign-in screen can: by
  trying wrong passwords for it, five of them. For a seat the functions use the database's clock
  and the full lockout, whatever times the caller passes; the schema's owner (tests, the
  single-owner setup) keeps the console's clock.
* **Alerts, claims and decisions.** Any seat could insert any alert, claim an alert in anyone's
  name, rewrite an alert's score, or insert a decision whose facts differ from its alert. Now:

  - an alert goes in only for a camera of its own deployment (and, as since migration 9, only while
    the deployment is active); a worker credential writes alerts only for its own deployment; a
    signed-in administrator, auditor or engagement officer writes none. A seat's own recognition
    writes with no one's session (it runs on, between sign-ins), so the database cannot tell it
    from a person in psql with no session: that case stayed allowed here, the door left open, until
    migration 27 gave recognition a token of its own (console/store/pg_recognition.py).
  - an alert's evidence (deployment, camera, track, entry, score, threshold, model, boxes, quality,
    image hashes, times, priority, watchlist hash) never changes; an image is only blanked (the
    retention purge), never replaced, and a purge is never undone; an alert keeps its incident.
  - the shared state of an incident - its claim, escalation and the two-person rule's first
    confirmation - is changed only by a signed-in operator or supervisor, and a claim or a first
    confirmation is taken only in their own name (``orc_actor_id()``); a new sighting may only copy
    the state of its incident's pending sighting when it joins it.
  - an alert becomes decided only once its incident has a decision, and never goes back to pending.
  - a decision (by a signed-in operator or supervisor in their own name, since migration 16) is for
    a pending alert, or corrects an earlier decision of the same alert while its deployment has not
    ended (the console's own rule: an ended deployment's record is read-only), and states the
    alert's own model, threshold, score and probe hash.

* **Camera leases** (partly). Pool workers write their leases with no one's session, so the database
  cannot tell which worker writes; it holds how a lease moves: it starts free, for a camera of its
  own deployment, and stays with that camera; a camera changes hands only once its lease is free or
  lapsed, with its epoch one up (so the fence of console/store/leases.py still stops a cut-off
  worker's late alerts); and no lease runs more than 60 s ahead. Releasing a live lease, renewing
  one, and the pool's membership rows stay open to any seat's credential.
"""

from __future__ import annotations

from console.store.pg_authority import LOCKOUT, MAX_TRIES

_DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
_REFUSE = "RAISE EXCEPTION 'refused by the database: %', {why} USING ERRCODE = '42501'"
_NOW_TEXT = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
_LOCK_ENDS = _NOW_TEXT.replace("now()", f"(now() + interval '{LOCKOUT}')")
# Whether the caller of an owner's-rights function is a seat (inside one, current_user is the owner).
_CALLER_IS_SEAT = ("(NOT COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)"
                   " AND session_user <> (SELECT pg_get_userbyid(relowner) FROM pg_class"
                   " WHERE oid = 'public.schema_migrations'::regclass))")
_COUNTERS = "'failed_logins' - 'locked_until' - 'password_hash' - 'orc_checks'"
_PERSON = "orc_actor_role() IN ('operator', 'supervisor')"
_EVIDENCE = ("deployment_id", "camera_id", "track_id", "entry_id", "score", "threshold", "model_id", "bbox_json",
             "quality_json", "probe_sha256", "context_sha256", "captured_at", "stored_at", "priority",
             "watchlist_sha256")
_SHARED = ("claimed_by", "claim_expires", "escalated_at", "first_confirmed_by", "first_confirmed_entry")


def _row(prefix: str, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{prefix}.{c}" for c in columns) + ")"


_LOCKOUT_FUNCTIONS = (
    f"CREATE FUNCTION orc_take_try(p_user BIGINT, p_now TEXT) RETURNS INTEGER LANGUAGE plpgsql {_DEFINER} AS $$"
    " DECLARE n INTEGER; t TEXT; BEGIN"
    f"  t := CASE WHEN {_CALLER_IS_SEAT} OR p_now IS NULL THEN {_NOW_TEXT} ELSE p_now END;"
    "  UPDATE users SET failed_logins = failed_logins + 1 WHERE id = p_user AND active = 1 AND deleted_at IS NULL"
    f"   AND failed_logins < {MAX_TRIES} AND (locked_until IS NULL OR locked_until <= t) RETURNING failed_logins INTO n;"
    # Not counted: the same write to an unchanged row all the same, so the refusal takes as long.
    "  IF n IS NULL THEN UPDATE users SET failed_logins = failed_logins WHERE id = COALESCE("
    "   (SELECT id FROM users WHERE id = p_user), (SELECT MIN(id) FROM users)); END IF;"
    "  RETURN n; END $$",
    f"CREATE FUNCTION orc_lock_out(p_user BIGINT, p_until TEXT, p_now TEXT) RETURNS TEXT LANGUAGE plpgsql {_DEFINER}"
    " AS $$ DECLARE seat BOOLEAN; r TEXT; BEGIN"
    f"  seat := {_CALLER_IS_SEAT} OR p_now IS NULL OR p_until IS NULL;"
    "  UPDATE users SET failed_logins = 0,"
    f"   locked_until = CASE WHEN seat THEN {_LOCK_ENDS} ELSE p_until END"
    f"   WHERE id = p_user AND failed_logins >= {MAX_TRIES}"
    f"   AND (locked_until IS NULL OR locked_until <= CASE WHEN seat THEN {_NOW_TEXT} ELSE p_now END)"
    "   RETURNING locked_until INTO r;"
    "  RETURN r; END $$",
    # Replaces migration 16's guard: the lockout columns are the functions' alone.
    "CREATE OR REPLACE FUNCTION orc_guard_users() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF NEW.failed_logins = 0 THEN NEW.orc_checks := 0; END IF;"
    "  IF NOT orc_restricted() THEN RETURN NEW; END IF;"
    "  IF (NEW.failed_logins, NEW.locked_until, NEW.orc_checks) IS DISTINCT FROM"
    "     (OLD.failed_logins, OLD.locked_until, OLD.orc_checks)"
    "     AND NOT (orc_actor_role() IS NOT DISTINCT FROM 'administrator' AND NEW.failed_logins = 0"
    "              AND NEW.locked_until IS NULL) THEN "
    + _REFUSE.format(why="'the lockout changes only through sign-in (orc_take_try, orc_lock_out, orc_open_session)"
                         "; an administrator may clear it'") + "; END IF;"
    "  IF orc_actor_role() IS NOT DISTINCT FROM 'administrator' THEN RETURN NEW; END IF;"
    f"  IF to_jsonb(NEW) - {_COUNTERS} IS DISTINCT FROM to_jsonb(OLD) - {_COUNTERS} THEN "
    + _REFUSE.format(why="'only a signed-in administrator changes an account'") + "; END IF;"
    "  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash AND orc_actor_id() IS DISTINCT FROM OLD.id THEN "
    + _REFUSE.format(why="'a password is changed by its owner or an administrator'") + "; END IF;"
    "  RETURN NEW; END $$",
)

_ALERT_INSERT = (
    "EXISTS (SELECT 1 FROM cameras c WHERE c.id = camera_id AND c.deployment_id = alerts.deployment_id)"
    f" AND (orc_actor_role() IS NULL OR {_PERSON} OR orc_actor_role() = 'worker' AND EXISTS (SELECT 1"
    " FROM worker_credentials w WHERE w.id = -orc_actor_id() AND w.deployment_id = alerts.deployment_id))"
)

_DECISION_INSERT = (
    f"user_id = orc_actor_id() AND {_PERSON} AND EXISTS (SELECT 1 FROM alerts a WHERE a.id = alert_id"
    " AND a.model_id = decisions.model_id AND a.threshold = decisions.threshold AND a.score = decisions.score"
    " AND a.probe_sha256 = decisions.probe_sha256 AND (a.status = 'pending' AND decisions.supersedes IS NULL"
    " OR EXISTS (SELECT 1 FROM decisions p WHERE p.id = decisions.supersedes AND p.alert_id = decisions.alert_id)"
    " AND EXISTS (SELECT 1 FROM deployments d WHERE d.id = a.deployment_id AND d.state <> 'ended')))"
)

_GUARD_ALERTS = (
    "CREATE FUNCTION orc_guard_alerts() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE me BIGINT; person BOOLEAN; BEGIN"
    "  IF NOT orc_restricted() THEN RETURN NEW; END IF;"
    f"  IF {_row('NEW', _EVIDENCE)} IS DISTINCT FROM {_row('OLD', _EVIDENCE)} THEN "
    + _REFUSE.format(why="'an alert''s evidence never changes'") + "; END IF;"
    "  IF NEW.probe_jpeg IS DISTINCT FROM OLD.probe_jpeg AND NEW.probe_jpeg IS NOT NULL"
    "     OR NEW.context_jpeg IS DISTINCT FROM OLD.context_jpeg AND NEW.context_jpeg IS NOT NULL"
    "     OR OLD.purged_at IS NOT NULL AND NEW.purged_at IS DISTINCT FROM OLD.purged_at THEN "
    + _REFUSE.format(why="'an alert''s images are only blanked, and a purge stays'") + "; END IF;"
    "  IF OLD.incident_id IS NOT NULL AND NEW.incident_id IS DISTINCT FROM OLD.incident_id THEN "
    + _REFUSE.format(why="'an alert keeps its incident'") + "; END IF;"
    "  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (NEW.status = 'decided' AND (EXISTS (SELECT 1"
    "     FROM decisions d WHERE d.alert_id = NEW.id) OR EXISTS (SELECT 1 FROM decisions d JOIN alerts a"
    "     ON a.id = d.alert_id WHERE a.incident_id = NEW.incident_id))) THEN "
    + _REFUSE.format(why="'an alert is decided by a decision on its incident'") + "; END IF;"
    f"  IF {_row('NEW', _SHARED)} IS NOT DISTINCT FROM {_row('OLD', _SHARED)} THEN RETURN NEW; END IF;"
    # A new sighting joining a pending incident takes that incident's state (console/store/alerts.py _place).
    "  IF OLD.incident_id IS NULL AND EXISTS (SELECT 1 FROM alerts o WHERE o.incident_id = NEW.incident_id"
    f"     AND o.id <> NEW.id AND o.status = 'pending' AND {_row('o', _SHARED)} IS NOT DISTINCT FROM"
    f"     {_row('NEW', _SHARED)}) THEN RETURN NEW; END IF;"
    f"  me := orc_actor_id(); person := {_PERSON};"
    "  IF person AND (NEW.claimed_by IS NULL OR NEW.claimed_by = me"
    "       OR (NEW.claimed_by, NEW.claim_expires) IS NOT DISTINCT FROM (OLD.claimed_by, OLD.claim_expires))"
    "     AND (NEW.first_confirmed_by IS NULL OR NEW.first_confirmed_by = me"
    "       OR (NEW.first_confirmed_by, NEW.first_confirmed_entry) IS NOT DISTINCT FROM"
    "          (OLD.first_confirmed_by, OLD.first_confirmed_entry)) THEN RETURN NEW; END IF;"
    "  " + _REFUSE.format(why="'a claim, an escalation or a first confirmation is made by a signed-in operator or"
                              " supervisor, in their own name'") + "; END $$",
    "CREATE TRIGGER alerts_guarded BEFORE UPDATE ON alerts FOR EACH ROW EXECUTE FUNCTION orc_guard_alerts()",
)

# Pool workers write their leases with no one's session (each beat on a connection of its own), so a
# lease cannot be tied to who writes it; what can be held is how a lease may move.
_GUARD_LEASES = (
    "CREATE FUNCTION orc_guard_leases() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE now_s DOUBLE PRECISION := EXTRACT(EPOCH FROM clock_timestamp()); BEGIN"
    "  IF NOT orc_restricted() THEN RETURN NEW; END IF;"
    "  IF TG_OP = 'INSERT' THEN"
    "    IF NEW.worker_id IS NULL AND NEW.epoch = 0 AND EXISTS (SELECT 1 FROM cameras c WHERE c.id = NEW.camera_id"
    "       AND c.deployment_id = NEW.deployment_id) THEN RETURN NEW; END IF;"
    "    " + _REFUSE.format(why="'a lease starts free, for a camera of its deployment'") + "; END IF;"
    "  IF (NEW.camera_id, NEW.deployment_id) IS DISTINCT FROM (OLD.camera_id, OLD.deployment_id) THEN "
    + _REFUSE.format(why="'a lease stays with its camera'") + "; END IF;"
    "  IF NEW.expires_s > now_s + 60 THEN " + _REFUSE.format(why="'a lease runs at most 60 s ahead'") + "; END IF;"
    "  IF NEW.epoch IS DISTINCT FROM OLD.epoch THEN"
    "    IF NEW.epoch = OLD.epoch + 1 AND NEW.worker_id IS NOT NULL"
    "       AND (OLD.worker_id IS NULL OR OLD.expires_s <= now_s) THEN RETURN NEW; END IF;"
    "    " + _REFUSE.format(why="'a camera is handed over only once its lease is free or lapsed, one epoch up'") + ";"
    "  END IF;"
    "  IF NEW.worker_id IS NOT NULL AND NEW.worker_id IS DISTINCT FROM OLD.worker_id THEN "
    + _REFUSE.format(why="'a lease changes hands only by a take (a new epoch)'") + "; END IF;"
    "  RETURN NEW; END $$",
    "CREATE TRIGGER camera_leases_guarded BEFORE INSERT OR UPDATE ON camera_leases FOR EACH ROW"
    " EXECUTE FUNCTION orc_guard_leases()",
)

V26_POSTGRES = _LOCKOUT_FUNCTIONS + (
    "ALTER TABLE alerts ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY alerts_read ON alerts FOR SELECT USING (true)",
    f"CREATE POLICY alerts_insert ON alerts FOR INSERT WITH CHECK ({_ALERT_INSERT})",
    "CREATE POLICY alerts_update ON alerts FOR UPDATE USING (true) WITH CHECK (true)",
    "DROP POLICY decisions_insert ON decisions",
    f"CREATE POLICY decisions_insert ON decisions FOR INSERT WITH CHECK ({_DECISION_INSERT})",
) + _GUARD_ALERTS + _GUARD_LEASES

"""The released migration steps from Step 9 on (the live deployment, incidents): literal SQL,
never edited once released - see console/store/migrations.py, which lists every step."""

# Step 9: one live deployment obeyed everywhere. The human-oversight stop (who stopped it, when,
# why; whether operators may press it), "different person" suppressions in the audit log, and
# the database itself refusing alerts for a deployment that is not active.
_V9 = """
ALTER TABLE deployments ADD COLUMN operator_may_stop INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deployments ADD COLUMN stopped_at TEXT;
ALTER TABLE deployments ADD COLUMN stopped_by INTEGER REFERENCES users(id);
ALTER TABLE deployments ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX suppressions_camera ON suppressions(deployment_id, camera_id);
CREATE TRIGGER alerts_only_while_active BEFORE INSERT ON alerts
WHEN (SELECT state FROM deployments WHERE id = NEW.deployment_id) IS NOT 'active'
BEGIN SELECT RAISE(ABORT, 'alert refused: its deployment is not active (not started, stopped or ended)'); END;
"""
_V9_POSTGRES = (
    "ALTER TABLE deployments ADD COLUMN operator_may_stop BIGINT NOT NULL DEFAULT 1",
    "ALTER TABLE deployments ADD COLUMN stopped_at TEXT",
    "ALTER TABLE deployments ADD COLUMN stopped_by BIGINT REFERENCES users(id)",
    "ALTER TABLE deployments ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX suppressions_camera ON suppressions(deployment_id, camera_id)",
    # FOR SHARE waits for a stop or an end being committed on the same row, then sees it.
    "CREATE FUNCTION orc_alert_needs_active_deployment() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE s TEXT; BEGIN"
    " SELECT state INTO s FROM deployments WHERE id = NEW.deployment_id FOR SHARE;"
    " IF s IS DISTINCT FROM 'active' THEN"
    " RAISE EXCEPTION 'alert refused: its deployment is not active (not started, stopped or ended)'; END IF;"
    " RETURN NEW; END $$",
    "CREATE TRIGGER alerts_only_while_active BEFORE INSERT ON alerts FOR EACH ROW"
    " EXECUTE FUNCTION orc_alert_needs_active_deployment()",
)

# PostgreSQL's sequences are not transactional: a transaction that took an audit number and then
# rolled back (a seat killed mid-decision) left the number given out, and verify then reported an
# entry "removed from the end", or one missing in the middle. The audit log's numbers and its high
# water mark are now kept in a table, under the appenders' lock, committed with the entry or not at
# all - as SQLite's sqlite_sequence always was.
_V10_POSTGRES = (
    "CREATE TABLE audit_high_water (id BIGINT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
    "INSERT INTO audit_high_water(id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log",
)

# Step 10: a confirmation names the person. The decision records which candidate was confirmed
# (and its score); under the two-person rule the first confirmation's candidate is kept, so the
# second must confirm the same person.
_V11 = """
ALTER TABLE decisions ADD COLUMN candidate_entry_id INTEGER REFERENCES watchlist_entries(id);
ALTER TABLE decisions ADD COLUMN candidate_score REAL;
ALTER TABLE alerts ADD COLUMN first_confirmed_entry INTEGER REFERENCES watchlist_entries(id);
"""

# Step 10: one incident per person per pass. Alerts for the same subject in one deployment, on any
# camera, within the deployment's incident window, share an incident (its first alert's id): one
# queue card, decided once. Existing alerts become incidents of one.
_V12 = """
ALTER TABLE alerts ADD COLUMN incident_id INTEGER REFERENCES alerts(id);
UPDATE alerts SET incident_id = id;
CREATE INDEX alerts_incident ON alerts(incident_id, status);
CREATE INDEX alerts_subject ON alerts(deployment_id, entry_id, stored_at);
ALTER TABLE deployments ADD COLUMN incident_window_s INTEGER NOT NULL DEFAULT 300;
"""

# An administrator deletes an account: it can never sign in again, but its row stays, because
# decisions and the audit log name it, and its name is never given to someone else.
_V13 = """
ALTER TABLE users ADD COLUMN deleted_at TEXT;
"""

# Step 11: a headless worker proves who it is with a credential an administrator issued for one
# deployment: only its SHA-256 is stored; it expires, it can be revoked, every use is logged.
_V14 = """
CREATE TABLE worker_credentials (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    label         TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    issued_by     INTEGER NOT NULL REFERENCES users(id),
    issued_at     TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    INTEGER REFERENCES users(id)
);
"""

# Step 11: sign-in on PostgreSQL without reading password hashes. Two functions that run with the
# owner's rights hand out only what checking a password needs: the scrypt parameters and salt, and
# whether a derived key matches. A seat role (console/store/pg_roles.py) is denied the column itself.
_V15_POSTGRES = (
    "CREATE FUNCTION orc_password_salt(p_user BIGINT) RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER"
    " SET search_path = public, pg_temp AS"
    " $$ SELECT regexp_replace(password_hash, '[$][^$]*$', '') FROM users WHERE id = p_user $$",
    "CREATE FUNCTION orc_password_check(p_user BIGINT, p_key TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE"
    " SECURITY DEFINER SET search_path = public, pg_temp AS"
    " $$ SELECT COALESCE((SELECT split_part(password_hash, '$', 6) = p_key FROM users WHERE id = p_user), false) $$",
)

"""The released migration step of Step 18 (a control room across machines): literal SQL, never
edited once released - see console/store/migrations.py, which lists every step."""

# Step 18: the workers of a deployment share its cameras through leases.
# - camera_leases: one row per camera of a pooled deployment, naming the worker that holds it (NULL:
#   free), its host, since when, and until when on the database's own clock (seconds since 1970:
#   every host compares against one clock). ``epoch`` counts the hand-overs: an alert is written
#   only under the lease it was raised under (console/store/leases.py);
# - worker_pool: the workers that joined a deployment's pool and when each was last seen (same clock),
#   so that each takes its fair share;
# - alert_keys: an alert's idempotency key (camera, track, subject, frame time): a write retried after
#   a connection lost at its commit finds its alert instead of making a second one.
V25 = """
CREATE TABLE camera_leases (
    camera_id     INTEGER PRIMARY KEY REFERENCES cameras(id),
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    worker_id     TEXT,
    host          TEXT,
    epoch         INTEGER NOT NULL DEFAULT 0,
    acquired_at   TEXT,
    expires_s     REAL NOT NULL DEFAULT 0
);
CREATE INDEX camera_leases_deployment ON camera_leases(deployment_id, worker_id);
CREATE TABLE worker_pool (
    worker_id     TEXT PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    host          TEXT NOT NULL,
    joined_at     TEXT NOT NULL,
    seen_s        REAL NOT NULL,
    left_at       TEXT
);
CREATE INDEX worker_pool_deployment ON worker_pool(deployment_id, seen_s);
CREATE TABLE alert_keys (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts(id),
    idem_key TEXT NOT NULL UNIQUE
);
CREATE TRIGGER alert_keys_no_update BEFORE UPDATE ON alert_keys
BEGIN SELECT RAISE(ABORT, 'an alert keeps its key'); END;
CREATE TRIGGER alert_keys_no_delete BEFORE DELETE ON alert_keys
BEGIN SELECT RAISE(ABORT, 'an alert keeps its key'); END;
"""

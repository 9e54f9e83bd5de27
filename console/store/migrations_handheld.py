"""The released migration step of Step 16 (the engagement officer's handheld): literal SQL, never
edited once released - see console/store/migrations.py, which lists every step."""

# Step 16: a confirmed alert reaches the officer who acts, and the outcome comes back.
# - handheld_pairings: one-time codes a supervisor makes to pair a phone to an officer for one
#   deployment (only the code's SHA-256 is kept; it expires; failed tries are counted);
# - handheld_devices: a paired phone (only its session token's SHA-256); it expires, it can be revoked;
# - dispatches: a confirmed incident sent to an officer (or the deployment's team), once per alert;
# - dispatch_events: delivered / seen / closed, once per device and event (append-only);
# - engagements.recorded_via: 'handheld' (the officer's own outcome) or 'relayed' (keyed by an
#   operator from what the officer said); empty on rows recorded before this step (relayed).
V21 = """
ALTER TABLE engagements ADD COLUMN recorded_via TEXT CHECK (recorded_via IN ('handheld', 'relayed'));
CREATE TABLE handheld_pairings (
    id            INTEGER PRIMARY KEY,
    officer_id    INTEGER NOT NULL REFERENCES users(id),
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    code_sha256   TEXT NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    failures      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE handheld_devices (
    id            INTEGER PRIMARY KEY,
    pairing_id    INTEGER NOT NULL UNIQUE REFERENCES handheld_pairings(id),
    officer_id    INTEGER NOT NULL REFERENCES users(id),
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    token_sha256  TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL DEFAULT '',
    paired_at     TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    INTEGER REFERENCES users(id),
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE dispatches (
    id            INTEGER PRIMARY KEY,
    alert_id      INTEGER NOT NULL UNIQUE REFERENCES alerts(id),
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    decision_id   INTEGER NOT NULL REFERENCES decisions(id),
    sent_by       INTEGER NOT NULL REFERENCES users(id),
    officer_id    INTEGER REFERENCES users(id),
    sent_at       TEXT NOT NULL
);
CREATE TABLE dispatch_events (
    id          INTEGER PRIMARY KEY,
    dispatch_id INTEGER NOT NULL REFERENCES dispatches(id),
    device_id   INTEGER NOT NULL REFERENCES handheld_devices(id),
    stage       TEXT NOT NULL CHECK (stage IN ('delivered', 'seen', 'closed')),
    at          TEXT NOT NULL,
    UNIQUE (dispatch_id, device_id, stage)
);
CREATE INDEX dispatches_deployment ON dispatches(deployment_id, sent_at);
CREATE TRIGGER dispatches_no_update BEFORE UPDATE ON dispatches
BEGIN SELECT RAISE(ABORT, 'dispatches are append-only'); END;
CREATE TRIGGER dispatches_no_delete BEFORE DELETE ON dispatches
BEGIN SELECT RAISE(ABORT, 'dispatches are append-only'); END;
CREATE TRIGGER dispatch_events_no_update BEFORE UPDATE ON dispatch_events
BEGIN SELECT RAISE(ABORT, 'dispatch events are append-only'); END;
CREATE TRIGGER dispatch_events_no_delete BEFORE DELETE ON dispatch_events
BEGIN SELECT RAISE(ABORT, 'dispatch events are append-only'); END;
"""

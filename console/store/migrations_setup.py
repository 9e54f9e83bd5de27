"""Step 13 schema: a deployment set up without code.

- the pre-deployment checklist, one row per item ticked (by whom, when);
- a camera's credential kept apart from its source (the source shown and logged holds none);
- the frozen watchlist: the hash of the snapshot taken at authorisation (and at each amendment),
  stored with the deployment and recorded by every alert raised under it.
"""

from __future__ import annotations

V17 = """
CREATE TABLE deployment_checks (
    deployment_id INTEGER NOT NULL REFERENCES deployments(id),
    item          TEXT NOT NULL,
    ticked_by     INTEGER NOT NULL REFERENCES users(id),
    ticked_at     TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (deployment_id, item)
);
CREATE TABLE camera_credentials (
    camera_id  INTEGER PRIMARY KEY REFERENCES cameras(id),
    userinfo   TEXT NOT NULL
);
ALTER TABLE deployments ADD COLUMN watchlist_sha256 TEXT;
ALTER TABLE alerts ADD COLUMN watchlist_sha256 TEXT;
"""

# Step 13: a signed record is frozen. The sign-off keeps the record as signed (its JSON, with the
# audit checkpoint it pins), so every later export reproduces it; later changes go in an addendum.
V19 = """
ALTER TABLE report_signoffs ADD COLUMN record_json TEXT;
"""

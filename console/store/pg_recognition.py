"""PostgreSQL: recognition writes its alerts under a credential of its own (migration 27, issue 32).

Migration 26 left one door open: a seat's own recognition wrote alerts with no one's session (it
runs on between sign-ins), so the database could not tell it from a person in psql holding the
seat's credential and no session, and had to let that person insert an alert for any running
deployment's camera. Now recognition has a credential of its own:

* ``orc_open_recognition(deployment)`` (owner's rights) hands back a random recognition token for
  one deployment, and only to a signed-in operator or supervisor (who may start recognition), or a
  worker credential of that deployment; only its SHA-256 is kept, in ``orc_recognition``, which no
  seat may read or write. The console asks for one when it starts a deployment's cameras
  (console/services/runtime/live.py) and names it on each camera's connection, as it names a
  sign-in session (``orc.session``).
* ``orc_recognition_deployment()`` is that token's deployment while it is open (NULL otherwise:
  no token, a made-up one, one ended with ``orc_end_recognition``, or the deployment ended).
* An alert goes in only under a recognition token of its own deployment, a worker credential of
  it, or a signed-in operator's or supervisor's session; with no session at all it is refused.

So a person holding only a seat's credential inserts no alert: a token is had only by signing in
as someone who may start recognition, or from the memory of a running console. The token is not a
role: ``orc_actor_role()`` stays NULL under it, so every other rule treats recognition as before.
"""

from __future__ import annotations

from console.store.pg_authority import _DEFINER
from console.store.pg_doors import _CALLER_IS_SEAT, _PERSON, _REFUSE

_TOKEN_SHA = "orc_token_sha256(current_setting('orc.session', true))"
_WORKER_OF = ("orc_actor_role() = 'worker' AND EXISTS (SELECT 1 FROM worker_credentials w WHERE w.id = -orc_actor_id()"
              " AND w.deployment_id = {dep})")

ALERT_INSERT = (
    "EXISTS (SELECT 1 FROM cameras c WHERE c.id = camera_id AND c.deployment_id = alerts.deployment_id)"
    f" AND (orc_recognition_deployment() = alerts.deployment_id OR {_PERSON}"
    f" OR {_WORKER_OF.format(dep='alerts.deployment_id')})"
)

V27_POSTGRES = (
    "CREATE TABLE orc_recognition (token_sha256 TEXT PRIMARY KEY, deployment_id BIGINT NOT NULL"
    " REFERENCES deployments(id), opened_by BIGINT, opened_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    " ended_at TIMESTAMPTZ)",
    "REVOKE ALL ON orc_recognition FROM PUBLIC",
    f"CREATE FUNCTION orc_open_recognition(p_deployment BIGINT) RETURNS TEXT LANGUAGE plpgsql {_DEFINER} AS $$"
    " DECLARE t TEXT; BEGIN"
    f"  IF {_CALLER_IS_SEAT} AND NOT COALESCE({_PERSON} OR {_WORKER_OF.format(dep='p_deployment')}, false) THEN "
    + _REFUSE.format(why="'recognition is started by a signed-in operator or supervisor, or a worker of its"
                         " deployment'") + "; END IF;"
    "  IF NOT EXISTS (SELECT 1 FROM deployments WHERE id = p_deployment AND state <> 'ended') THEN "
    + _REFUSE.format(why="'no recognition for a deployment that has ended or does not exist'") + "; END IF;"
    "  t := 'orcr1.' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');"
    "  INSERT INTO orc_recognition(token_sha256, deployment_id, opened_by)"
    "   VALUES (orc_token_sha256(t), p_deployment, orc_actor_id());"
    "  RETURN t; END $$",
    f"CREATE FUNCTION orc_recognition_deployment() RETURNS BIGINT LANGUAGE sql STABLE {_DEFINER} AS $$"
    f" SELECT r.deployment_id FROM orc_recognition r JOIN deployments d ON d.id = r.deployment_id"
    f" WHERE r.token_sha256 = {_TOKEN_SHA} AND r.ended_at IS NULL AND d.state <> 'ended' $$",
    f"CREATE FUNCTION orc_end_recognition(p_token TEXT) RETURNS VOID LANGUAGE sql {_DEFINER} AS $$"
    " UPDATE orc_recognition SET ended_at = now() WHERE token_sha256 = orc_token_sha256(p_token)"
    " AND ended_at IS NULL $$",
    "DROP POLICY alerts_insert ON alerts",
    f"CREATE POLICY alerts_insert ON alerts FOR INSERT WITH CHECK ({ALERT_INSERT})",
)


def open_token(store, deployment_id: int) -> str:  # store: a console.store Store (base imports this module)
    """A recognition token for the deployment (PostgreSQL; the store works under a person's session or
    a worker credential that may start recognition): name it on each camera's connection."""
    return str(store.one("SELECT orc_open_recognition(?) AS t", (int(deployment_id),))["t"])


def end_token(store, token: str) -> None:
    store.one("SELECT orc_end_recognition(?) AS done", (token,))

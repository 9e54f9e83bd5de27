"""PostgreSQL: the handheld's tables limited as the seats' are (migration 22, PostgreSQL only).

* A paired device's token is a session the database vouches for: ``orc_actor_role()`` /
  ``orc_actor_id()`` now also answer for a live device (not revoked, not expired, its officer's
  account enabled) with its officer's role and id, so the officer's outcome is written under the
  same row-level security as a signed-in person's (an engagement only in one's own name).
* A device is made only by ``orc_pair_device``, which runs with the owner's rights and does what
  console/services/engage/pairing.py does on SQLite: a right, unused, unexpired code with fewer than
  ``MAX_FAILURES`` failed tries is used once and makes one device; a wrong one counts a failed try
  against every open code. A seat cannot insert a device or a used code, nor give codes back their tries.
* Codes are made only by a signed-in supervisor in their own name; a device is revoked by a supervisor
  or its own officer (signing out), and never un-revoked; a dispatch only by a signed-in operator or
  supervisor in their own name; a delivery stage only by the device's own officer.
"""

from __future__ import annotations

from console.store.pg_authority import _DEFINER, _ROLE_OF_TOKEN, _policies

MAX_FAILURES = 20  # console/services/engage/pairing.py MAX_FAILURES and DEVICE_TTL (a test holds them equal)
DEVICE_TTL = "12 hours"
_NOW_US = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

_DEVICE_BRANCH = (
    "(SELECT {col} FROM handheld_devices d JOIN users u ON u.id = d.officer_id"
    " WHERE d.token_sha256 = orc_token_sha256(current_setting('orc.session', true))"
    f" AND d.revoked_at IS NULL AND d.expires_at > {_NOW_US} AND u.active = 1 AND u.deleted_at IS NULL)")


def _with_devices(user_col: str, worker_col: str, device_col: str) -> str:
    body = _ROLE_OF_TOKEN.format(user_col=user_col, worker_col=worker_col).rstrip()
    assert body.endswith("))")
    return body[:-1] + ",\n      " + _DEVICE_BRANCH.format(col=device_col) + ")\n"


RULES = (
    ("handheld_pairings", "created_by = orc_actor_id() AND orc_actor_role() = 'supervisor'", "false"),
    ("dispatches", "sent_by = orc_actor_id() AND orc_actor_role() IN ('operator', 'supervisor')", None),
    ("dispatch_events", "orc_actor_role() = 'engagement_officer'"
     " AND (SELECT officer_id FROM handheld_devices WHERE id = device_id) = orc_actor_id()", None),
)

V22_POSTGRES = (
    f"CREATE OR REPLACE FUNCTION orc_actor_role() RETURNS TEXT LANGUAGE sql STABLE {_DEFINER} AS $$"
    + _with_devices("u.role", "'worker'::text", "u.role") + "$$",
    f"CREATE OR REPLACE FUNCTION orc_actor_id() RETURNS BIGINT LANGUAGE sql STABLE {_DEFINER} AS $$"
    + _with_devices("u.id", "-w.id", "u.id") + "$$",
    "CREATE FUNCTION orc_pair_device(p_code_sha TEXT, p_token_sha TEXT, p_label TEXT) RETURNS BIGINT"
    f" LANGUAGE plpgsql {_DEFINER} AS $$"
    " DECLARE p handheld_pairings%ROWTYPE; nowt TEXT; d BIGINT; BEGIN"
    f"  nowt := {_NOW_US};"
    "  SELECT * INTO p FROM handheld_pairings WHERE code_sha256 = p_code_sha FOR UPDATE;"
    f"  IF NOT FOUND OR p.used_at IS NOT NULL OR p.expires_at <= nowt OR p.failures >= {MAX_FAILURES} THEN"
    "   UPDATE handheld_pairings SET failures = failures + 1 WHERE used_at IS NULL AND expires_at > nowt;"
    "   RETURN NULL; END IF;"
    "  UPDATE handheld_pairings SET used_at = nowt WHERE id = p.id;"
    "  INSERT INTO handheld_devices(pairing_id, officer_id, deployment_id, token_sha256, label, paired_at, expires_at)"
    "   VALUES (p.id, p.officer_id, p.deployment_id, p_token_sha, p_label, nowt,"
    f"   to_char((now() + interval '{DEVICE_TTL}') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"
    "   RETURNING id INTO d;"
    "  RETURN d; END $$",
    *_policies(RULES),
    # A device: made by orc_pair_device only; revoked by a supervisor or its own officer, never un-revoked.
    "ALTER TABLE handheld_devices ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY handheld_devices_read ON handheld_devices FOR SELECT USING (true)",
    "CREATE POLICY handheld_devices_insert ON handheld_devices FOR INSERT WITH CHECK (false)",
    "CREATE POLICY handheld_devices_update ON handheld_devices FOR UPDATE"
    " USING (orc_actor_role() = 'supervisor' OR officer_id = orc_actor_id())"
    " WITH CHECK (revoked_at IS NOT NULL AND (orc_actor_role() = 'supervisor' OR officer_id = orc_actor_id()))",
)

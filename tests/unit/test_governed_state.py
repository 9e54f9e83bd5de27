"""Governed state under the audit log (console/store/governed.py): deployments, settings, accounts,
cameras and watchlist entries edited in the database, not through the services, fail ``audit verify``;
the same changes made through the services leave it clean."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console import clock
from console.cli import commands as cli
from console.services.accounts import auth
from console.services.accuracy import calibration
from console.services.record import audit_trail, retention
from console.services.setup import deployment_setup, deployments, enrol
from console.store import audit, governed, open_store, repo

PASSWORD = "a long enough passphrase for tests"


def iso(t) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def edit(store, sql: str, args: tuple = ()) -> None:
    """What someone holding the database does: no service, no audit entry (these tables have no triggers)."""
    with store.transaction() as conn:
        conn.execute(sql, args)


def governed_world(store, monkeypatch) -> dict:
    """Every governed kind of row, made and changed only through the services."""
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)
    admin = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
    for name, role in (("sup", "supervisor"), ("op", "operator"), ("temp", "auditor")):
        auth.create_user(store, admin, name, name.title(), role, PASSWORD)
    sup, op = auth.actor_for(store, "sup"), auth.actor_for(store, "op")
    auth.set_active(store, admin, "op", False)
    auth.set_active(store, admin, "op", True)
    auth.reset_password(store, admin, "op", "a second long passphrase")
    auth.change_password(store, "op", "a second long passphrase", "a third long passphrase")
    auth.delete_user(store, admin, "temp")
    now = clock.now()
    spec = repo.DeploymentSpec("Op Gov", "High St", "hotspot", iso(now - timedelta(hours=1)),
                               iso(now + timedelta(hours=8)), 0.6, 0.0, calibration.load().model_id,
                               legal_basis="common law")
    dep = deployments.create(store, sup, spec)
    for item in deployment_setup.CHECKLIST:
        deployment_setup.tick(store, sup, dep, item)
    deployments.authorise(store, sup, dep, "approved")
    deployments.start(store, op, dep)
    deployments.set_two_person_rule(store, sup, dep, True, "pilot")
    deployments.set_incident_window(store, sup, dep, 120, "busy street")
    deployments.set_operator_may_stop(store, sup, dep, False, "supervisors only")
    deployments.change_threshold(store, sup, dep, 0.65, "fewer false alerts")
    cam = deployments.add_camera(store, sup, dep, "North gate", "rtsp://viewer:s3cret@10.0.0.5/live")
    wl = repo.create_watchlist(store, dep, "WL", "sup")
    entry = enrol.add_entry(store, sup, wl, repo.EntrySpec("R-1", "Pat Doe", "missing_person", "warrant", "reason",
                                                          "https://records/x?token=abc", "2024-01-01", "2099-01-01"),
                            amendment="a wanted person added after authorisation")
    deployments.stop(store, sup, dep, "crowd too dense")
    deployments.restart(store, sup, dep, "crowd thinned")
    retention.configure(store, admin, 7, 24, "force policy")
    users = {r["username"]: int(r["id"]) for r in store.query("SELECT id, username FROM users")}
    return {"dep": dep, "cam": cam, "entry": entry, "users": users, "sup": sup, "admin": admin}


def test_a_normal_sequence_of_service_calls_leaves_verify_clean(db, monkeypatch):
    w = governed_world(db, monkeypatch)
    deployments.end(db, w["sup"], w["dep"], "done")
    assert governed.verify(db) == []
    assert audit_trail.integrity(db).ok
    camera = json.loads(db.one("SELECT details_json FROM audit_log WHERE action = 'camera.added'")["details_json"])
    assert "s3cret" not in json.dumps(camera) and camera["governed"]["source"] == "rtsp://10.0.0.5/live"
    # the credential is kept apart from the source, in its own table, and put back only to connect
    assert db.one("SELECT userinfo FROM camera_credentials WHERE camera_id = ?", (w["cam"],))["userinfo"] == \
        "viewer:s3cret"
    assert len(camera["governed"]["source_sha256"]) == 64
    # no password hash and no watchlist subject's name go into the log in clear
    log = " ".join(r["details_json"] for r in db.query("SELECT details_json FROM audit_log"))
    assert "scrypt$" not in log and "Pat Doe" not in log


@pytest.mark.parametrize("sql, args, expected", [
    ("UPDATE deployments SET threshold = 0.9 WHERE id = {dep}", (),
     "deployment {dep}: threshold is 0.9 in the table, the log says 0.65"),
    ("UPDATE deployments SET two_person_rule = 0 WHERE id = {dep}", (),
     "deployment {dep}: two_person_rule is 0 in the table, the log says 1"),
    ("UPDATE deployments SET incident_window_s = 0 WHERE id = {dep}", (),
     "deployment {dep}: incident_window_s is 0 in the table, the log says 120"),
    ("UPDATE deployments SET state = 'active', ends_at = '2099-01-01T00:00:00Z' WHERE id = {dep}", (),
     "deployment {dep}: ends_at in the table differs from the log"),
    ("UPDATE settings SET value_json = '31' WHERE key = 'alert_retention_days'", (),
     "setting retention/alert_retention_days: value is 31 in the table, the log says 7"),
    ("UPDATE users SET role = 'administrator' WHERE id = {op}", (),
     'user {op}: role is "administrator" in the table, the log says "operator"'),
    ("UPDATE users SET active = 1, deleted_at = NULL WHERE id = {temp}", (),
     "user {temp}: active is 1 in the table, the log says 0"),
    ("UPDATE users SET password_hash = ? WHERE id = {sup}", ("scrypt$2048$8$1$c2FsdA==$a25vd24=",),
     "user {sup}: password_hash in the table differs from the log"),
    ("UPDATE cameras SET source = 'rtsp://viewer:s3cret@203.0.113.9/live' WHERE id = {cam}", (),
     "camera {cam}: source in the table differs from the log"),
    ("UPDATE watchlist_entries SET subject_name = 'Someone Else' WHERE id = {entry}", (),
     "entry {entry}: subject_name in the table differs from the log"),
    ("UPDATE watchlist_entries SET removed_at = '2026-01-01T00:00:00Z' WHERE id = {entry}", (),
     "entry {entry}: removed_at in the table differs from the log"),
    ("INSERT INTO settings(scope, key, value_json, updated_at) VALUES ('ui', 'idle_lock_minutes', '600', 'x')", (),
     "setting ui/idle_lock_minutes has no audit entry recording its creation"),
    ("DELETE FROM settings WHERE key = 'watchlist_purge_hours'", (),
     "setting retention/watchlist_purge_hours recorded in audit entry"),
])
def test_security_an_edited_governed_row_fails_verify_threat(db, monkeypatch, sql, args, expected):
    w = governed_world(db, monkeypatch)
    names = {"dep": w["dep"], "cam": w["cam"], "entry": w["entry"], **w["users"]}
    edit(db, sql.format(**names), args)
    result = audit_trail.integrity(db)
    assert result.chain.ok and not result.ok  # the log itself holds: the row no longer matches it
    assert result.problems[0].startswith(expected.format(**names)), result.problems
    subject = " ".join(expected.format(**names).split()[:2]).rstrip(":")
    assert all(p.startswith(subject) for p in result.problems), result.problems  # that row and no other


def test_security_a_later_change_does_not_launder_an_earlier_edit_attack(db, monkeypatch):
    w = governed_world(db, monkeypatch)
    edit(db, "UPDATE deployments SET threshold = 0.95 WHERE id = ?", (w["dep"],))
    deployments.set_two_person_rule(db, w["sup"], w["dep"], False, "trial over")  # logs only what it changed
    assert governed.verify(db) == [f"deployment {w['dep']}: threshold is 0.95 in the table, the log says 0.65"
                                   f" (audit entry {_last_seq(db, 'deployment.threshold_changed')})"]


def test_security_a_row_made_outside_the_console_is_named_attack(db, monkeypatch):
    w = governed_world(db, monkeypatch)
    edit(db, "INSERT INTO users(username, display_name, role, created_at) VALUES ('mallory', 'M', 'administrator',"
             " '2026-01-01T00:00:00Z')")
    mallory = db.one("SELECT id FROM users WHERE username = 'mallory'")["id"]
    assert governed.verify(db) == [f"user {mallory} has no audit entry recording its creation (written outside"
                                   " the console)"]
    assert w  # the rest of the world still matches its log


def test_rows_logged_before_governed_entries_are_checked_on_what_their_entries_recorded(db):
    """A store from the release before: its entries carry no details.governed. What they did record
    (the creation entry's fields, each threshold or two-person change, every setting) is checked;
    a field no entry recorded (here the rationale) is not, until a change records it."""
    uid = _legacy_row(db, "users", {"username": "sup", "display_name": "S", "role": "supervisor",
                                    "created_at": "2025-01-01T00:00:00Z"})
    audit.append(db, "system", "user.created", "user", uid, {"username": "sup", "role": "supervisor"})
    dep = _legacy_row(db, "deployments", {
        "name": "Old", "location": "P", "rationale": "R", "starts_at": "2025-01-01T00:00:00Z",
        "ends_at": "2025-01-02T00:00:00Z", "threshold": 0.5, "threshold_floor": 0.363, "model_id": "m",
        "created_at": "2025-01-01T00:00:00Z", "state": "draft"})
    audit.append(db, "sup", "deployment.created", "deployment", dep, {
        "name": "Old", "location": "P", "starts_at": "2025-01-01T00:00:00Z", "ends_at": "2025-01-02T00:00:00Z",
        "threshold": 0.5, "threshold_floor": 0.363, "model_id": "m", "authorised_by": None, "demo": False})
    edit(db, "UPDATE deployments SET threshold = 0.55 WHERE id = ?", (dep,))
    audit.append(db, "sup", "deployment.threshold_changed", "deployment", dep, {"old": 0.5, "new": 0.55})
    edit(db, "INSERT INTO settings(scope, key, value_json, updated_at) VALUES ('ui', 'idle_lock_minutes', '5', 'x')")
    audit.append(db, "admin", "setting.changed", "setting", "ui/idle_lock_minutes", {"old": None, "new": 5})
    assert governed.verify(db) == []
    edit(db, "UPDATE deployments SET rationale = 'changed', threshold = 0.4 WHERE id = ?", (dep,))
    edit(db, "UPDATE users SET role = 'administrator' WHERE id = ?", (uid,))
    edit(db, "UPDATE settings SET value_json = '500'")
    seq = _last_seq(db, "deployment.threshold_changed")
    assert governed.verify(db) == [
        f"deployment {dep}: threshold is 0.4 in the table, the log says 0.55 (audit entry {seq})",
        f"user {uid}: role is \"administrator\" in the table, the log says \"supervisor\""
        f" (audit entry {_last_seq(db, 'user.created')})",
        f"setting ui/idle_lock_minutes: value is 500 in the table, the log says 5"
        f" (audit entry {_last_seq(db, 'setting.changed')})"]


def test_security_audit_verify_fails_on_an_edited_deployment_refused(tmp_path, monkeypatch, capsys):
    with open_store(tmp_path) as store:
        w = governed_world(store, monkeypatch)
        assert cli.main(["audit", "verify", "--data-dir", str(tmp_path)]) == 0
        edit(store, "UPDATE deployments SET threshold = 0.7 WHERE id = ?", (w["dep"],))
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--data-dir", str(tmp_path)]) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "audit chain intact" in out
    assert f"deployment {w['dep']}: threshold is 0.7 in the table, the log says 0.65" in out


def _legacy_row(store, table: str, values: dict) -> int:
    with store.transaction() as conn:
        cur = conn.execute(f"INSERT INTO {table}({', '.join(values)}) VALUES ({','.join('?' * len(values))})",
                           tuple(values.values()))
        return int(cur.lastrowid)


def _last_seq(store, action: str) -> int:
    return int(store.one("SELECT MAX(seq) AS s FROM audit_log WHERE action = ?", (action,))["s"])

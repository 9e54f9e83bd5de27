"""Governed state (console/store/governed.py), line by line (issue 32's mutation check): what the
log's old entries are read for, how the replay steps over an entry it cannot read, which entry
counts as a row's creation, one finding per column, the exact words, and the small helpers whose
slips would let a hand edit pass or fail an honest row. On both databases (``db``)."""

from __future__ import annotations

import json

import pytest

from console.store import audit, governed, repo
from tests.factories import small_deployment
from tests.unit.test_governed_state import _last_seq, _legacy_row, edit
from tests.unit.test_security_pg_seat import seat_url  # noqa: F401 - the fixture, shared


def _legacy_deployment(db) -> int:
    dep = _legacy_row(db, "deployments", {
        "name": "Old", "location": "P", "rationale": "R", "starts_at": "2025-01-01T00:00:00Z",
        "ends_at": "2025-01-02T00:00:00Z", "threshold": 0.5, "threshold_floor": 0.363, "model_id": "m",
        "created_at": "2025-01-01T00:00:00Z", "state": "draft", "is_demo": 1})
    audit.append(db, "sup", "deployment.created", "deployment", dep, {
        "name": "Old", "location": "P", "threshold": 0.5, "model_id": "m", "demo": True, "reviewer": "nobody"})
    return dep


def test_an_old_creation_entry_is_read_for_its_governed_fields_under_their_names_only(db):
    dep = _legacy_deployment(db)
    said = governed.replay(db)[("deployment", str(dep))]
    assert {k: v for k, (v, _) in said.items() if k != governed.CREATED} == {
        "name": "Old", "location": "P", "threshold": 0.5, "model_id": "m", "is_demo": True}
    assert said[governed.CREATED] == (None, _last_seq(db, "deployment.created"))
    assert governed.verify(db) == []
    edit(db, "UPDATE deployments SET is_demo = 0 WHERE id = ?", (dep,))  # the alias is what is checked
    assert governed.verify(db) == [f"deployment {dep}: is_demo is 0 in the table, the log says true"
                                   f" (audit entry {_last_seq(db, 'deployment.created')})"]
    read = governed.LEGACY["user.created"]({"username": "u", "role": "operator", "password": "never kept"})
    assert read == {"active": 1, "deleted_at": None, "username": "u", "role": "operator"}


def test_the_replay_steps_over_an_entry_it_cannot_read_and_reads_on(db):
    dep = _legacy_deployment(db)
    audit.append(db, "sup", "deployment.threshold_changed", "deployment", dep, {"old": 0.5})  # no "new"
    audit.append(db, "sup", "deployment.note", "deployment", dep, {"governed": "not a mapping"})
    edit(db, "UPDATE deployments SET threshold = 0.6 WHERE id = ?", (dep,))
    audit.append(db, "sup", "deployment.threshold_changed", "deployment", dep, {"old": 0.5, "new": 0.6})
    assert governed.verify(db) == []  # the last entry was read, past the two it could not use
    edit(db, "UPDATE deployments SET threshold = 0.7 WHERE id = ?", (dep,))
    assert governed.verify(db) == [f"deployment {dep}: threshold is 0.7 in the table, the log says 0.6"
                                   f" (audit entry {_last_seq(db, 'deployment.threshold_changed')})"]


def test_only_a_creation_entry_counts_as_the_rows_creation(db):
    dep = _legacy_row(db, "deployments", {
        "name": "Made by hand", "location": "P", "rationale": "R", "starts_at": "2025-01-01T00:00:00Z",
        "ends_at": "2025-01-02T00:00:00Z", "threshold": 0.5, "threshold_floor": 0.363, "model_id": "m",
        "created_at": "2025-01-01T00:00:00Z", "state": "draft"})
    audit.append(db, "sup", "deployment.threshold_changed", "deployment", dep, {"old": 0.4, "new": 0.5})
    assert governed.verify(db) == [f"deployment {dep} has no audit entry recording its creation (written outside"
                                   " the console)"]


def test_a_column_logged_as_a_digest_and_a_redacted_form_is_named_once(store):
    d = small_deployment(store)
    before = governed.verify(store)
    edit(store, "UPDATE cameras SET source = 'rtsp://other:pw@10.0.0.9/live' WHERE id = ?", (d.camera_id,))
    new = [p for p in governed.verify(store) if p not in before]
    assert new == [f"camera {d.camera_id}: source in the table differs from the log"
                   f" (audit entry {new[0].rsplit('audit entry ', 1)[1][:-1]})"]


def test_a_logged_row_missing_from_the_table_names_the_entry_that_recorded_it(db):
    dep = _legacy_deployment(db)
    seq = _last_seq(db, "deployment.created")
    audit.append(db, "sup", "deployment.threshold_changed", "deployment", dep, {"old": 0.5, "new": 0.5})
    edit(db, "DELETE FROM deployments WHERE id = ?", (dep,))
    assert governed.verify(db) == [f"deployment {dep} recorded in audit entry {seq} is missing from the table"]


def test_state_refuses_a_field_that_is_not_governed_and_a_row_that_is_not_there(store):
    d = small_deployment(store)
    with pytest.raises(ValueError) as caught:
        governed.state(store.conn, "deployment", d.deployment_id, "threshold", "colour", "name")
    assert str(caught.value) == "not a governed field of a deployment: ['colour']"
    with pytest.raises(ValueError) as caught:
        governed.state(store.conn, "deployment", 999, "threshold")
    assert str(caught.value) == "deployment 999 does not exist"
    assert governed.state(store.conn, "deployment", d.deployment_id, "threshold") == {"threshold": 0.4}


def test_a_settings_scope_may_hold_a_slash_its_key_is_the_last_part(db):
    repo.set_setting(db, "deployment/7", "false_alert_target", 1e-5, None, "sup", "pilot")
    with db.transaction() as conn:
        assert governed.state(conn, "setting", "deployment/7/false_alert_target") == {"value": 1e-5}
    assert governed.verify(db) == []


def test_the_helpers_compare_hash_and_print_as_verify_needs():
    assert governed._sha(None) is None and governed._sha("x") == governed._sha("x") != governed._sha("y")
    plain = governed._plain(True)
    assert plain == 1 and type(plain) is int and governed._plain(0.5) == 0.5
    assert governed._same(0.0, 1e-9) and not governed._same(0.0, 2e-9)
    assert not governed._same(1, "1") and not governed._same("1", 1)
    assert governed._same(True, 1)
    assert governed._show({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_on_postgresql_a_seat_that_may_not_read_password_hashes_skips_their_digests(db, monkeypatch):
    if db.dialect != "postgres":
        assert governed._password_readable(db) is True
        return
    assert governed._password_readable(db) is True  # the owner reads them
    uid = repo.create_user(db, "u", "U", "operator", password_hash="scrypt$1$2$3$salt$key")
    edit(db, "UPDATE users SET password_hash = 'scrypt$1$2$3$other$key' WHERE id = ?", (uid,))
    assert any(p.startswith(f"user {uid}: password_hash") for p in governed.verify(db))
    monkeypatch.setattr(governed, "_password_readable", lambda store: False)  # as a seat's role reads it
    assert not any(p.startswith(f"user {uid}") for p in governed.verify(db))


def test_an_entry_with_governed_details_is_read_whatever_its_action(db):
    dep = _legacy_deployment(db)
    edit(db, "UPDATE deployments SET location = 'Q' WHERE id = ?", (dep,))
    audit.append(db, "sup", "deployment.moved", "deployment", dep, {"governed": {"location": "Q"}})
    assert governed.verify(db) == []
    assert json.loads(db.one("SELECT details_json FROM audit_log WHERE action = 'deployment.moved'")["details_json"])


def test_a_seat_role_verifies_governed_state_without_reading_a_password_hash(seat_url):  # noqa: F811
    from console.store import open_location
    from tests.unit.test_security_pg_seat import _people

    url, owner_url = seat_url
    _people(owner_url)
    with open_location(url) as seat:
        assert governed._password_readable(seat) is False
        problems = governed.verify(seat)  # a seat may not read users.password_hash: no digest is asked for
    with open_location(owner_url) as owner:  # _people set the passwords by hand: the owner sees that
        everything = governed.verify(owner)
    assert any("password_hash" in p for p in everything)
    assert problems == [p for p in everything if "password_hash" not in p]

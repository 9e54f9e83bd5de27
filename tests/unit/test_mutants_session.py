"""The session service's answers and log entries, exactly (mutation check, issue 32): the window
reads ``prepare``'s keys to choose its first screen, and the idle lock's entries are the record of
when a seat stood locked."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from console.errors import PermissionDenied
from console.services.accounts import auth, session
from console.store import open_location, repo
from tests.factories import password_hash

PASSWORD = "Night-Shift-Keeper-2049"


def _entries(store, action):
    return [(r["actor"], r["subject_type"], str(r["subject_id"]), json.loads(r["details_json"]))
            for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def test_prepare_answers_every_key_the_window_reads(tmp_path):
    location = tmp_path / "data"
    first = session.prepare(location)
    with open_location(location) as store:
        path = str(store.path)
    assert {k: v for k, v in first.items() if k != "purged"} == {
        "has_administrator": False, "demo": False, "demo_accounts": False, "database": path,
        "idle_lock_minutes": 10.0}
    assert first["purged"] == session.prepare(location)["purged"]  # nothing due on a new store either time
    with open_location(location) as store:
        repo.create_user(store, "chief", "Chief", "administrator", password_hash=password_hash(PASSWORD))
        repo.set_setting(store, "ui", "idle_lock_minutes", 3, None, "chief")
    again = session.prepare(location)
    assert again["has_administrator"] is True and again["idle_lock_minutes"] == 3.0 and again["demo"] is False


def test_login_unlock_and_lock_are_logged_against_the_user(tmp_path):
    location = tmp_path / "data"
    with open_location(location) as store:
        uid = repo.create_user(store, "ann", "Ann", "operator", password_hash=password_hash(PASSWORD))
    ann = session.login(location, "ann", PASSWORD)
    assert (ann.username, ann.user_id) == ("ann", uid)
    with pytest.raises(auth.LoginError):
        session.login(location, "ann", PASSWORD + "x")
    session.record_lock(location, ann, 124.6)
    again = session.unlock(location, ann, PASSWORD)
    assert again.username == "ann"
    with pytest.raises(auth.LoginError):
        session.unlock(location, ann, "not the password at all")
    with open_location(location) as store:
        assert _entries(store, "session.locked") == [("ann", "user", str(uid), {"idle_seconds": 125})]
        assert _entries(store, "session.unlocked") == [("ann", "user", str(uid), {})]
        assert session.open_store(location).path == store.path


def test_postgres_grant_seat_is_an_administrators_and_logged(db):
    """Only on PostgreSQL (a login role): the target ``session_seat`` runs it."""
    if db.dialect != "postgres":
        pytest.skip("a seat role is a PostgreSQL login role")
    import psycopg

    admin = auth.bootstrap_administrator(db, "chief", "Chief", PASSWORD)
    repo.create_user(db, "ann", "Ann", "operator", password_hash=password_hash(PASSWORD))
    login = f"seat_{uuid.uuid4().hex[:10]}"
    try:
        with pytest.raises(PermissionDenied):
            session.grant_seat(db, auth.actor_for(db, "ann"), login, "a long seat password here")
        with pytest.raises(PermissionDenied):  # an administrator the store does not know
            session.grant_seat(db, auth.Actor(999, "ghost", "administrator"), login, "a long seat password here")
        session.grant_seat(db, admin, login, "a long seat password here")
        assert _entries(db, "store.seat_role_granted") == [("chief", "store", "", {"role": login})]
    finally:
        with psycopg.connect(os.environ["ORC_TEST_PG_URL"], autocommit=True) as owner:
            owner.execute(f"DROP ROLE IF EXISTS {login}")

"""The demo is isolated from real stores (Step 11): its accounts exist only in its own store, are
refused anywhere else, and a real store is never turned into a demo store."""

from __future__ import annotations

import pytest

from console.services.accounts import auth, session
from console.services.setup import demo
from console.store import open_store, repo


def test_security_a_fresh_real_store_holds_no_account_nobody_created(tmp_path):
    info = session.prepare(tmp_path / "real")
    assert info["demo"] is False and info["has_administrator"] is False
    with open_store(tmp_path / "real") as store:
        assert store.query("SELECT username FROM users") == []
        auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
        assert [r["username"] for r in store.query("SELECT username FROM users")] == ["chief"]


def test_security_demo_accounts_in_a_real_store_are_refused(tmp_path):
    # A store from an older release, where every start made the demo accounts, now holding real work.
    with open_store(tmp_path / "old") as store:
        auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
        with store.transaction() as conn:
            conn.execute("INSERT INTO users(username, display_name, role, created_at, password_hash, is_demo)"
                         " VALUES ('demo.admin', 'Demo', 'administrator', '2026-01-01T00:00:00Z', ?, 1)",
                         (auth.hash_password("demo"),))
        with pytest.raises(auth.LoginError, match="wrong user name or password"):
            auth.login(store, "demo.admin", "demo")
        row = store.one("SELECT details_json FROM audit_log WHERE action = 'login.failed'")
        assert "demo account in a real store" in row["details_json"]


def test_security_a_real_store_is_never_made_a_demo_store_refused(tmp_path):
    with open_store(tmp_path / "real") as store:
        auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
        for attempt in (demo.make_demo_store, demo.ensure_demo_accounts):
            with pytest.raises(demo.NotADemoStore):
                attempt(store)
        assert not auth.is_demo_store(store)
        assert [r["username"] for r in store.query("SELECT username FROM users")] == ["chief"]
    with pytest.raises(demo.NotADemoStore):
        session.prepare(tmp_path / "real", demo=True)


def test_the_demo_store_is_made_fresh_and_its_accounts_sign_in_only_there(tmp_path):
    info = session.prepare(tmp_path / "demo", demo=True)
    assert info["demo"] is True
    assert session.login(tmp_path / "demo", "demo.operator", "demo").role == "operator"


def test_security_a_disabled_demo_account_stays_disabled_and_the_demo_still_starts(tmp_path):
    session.prepare(tmp_path / "demo", demo=True)
    with open_store(tmp_path / "demo") as store:
        admin = auth.login(store, "demo.admin", "demo")
        auth.set_active(store, admin, "demo.operator", False)
    info = session.prepare(tmp_path / "demo", demo=True)  # start-up again: not broken, not re-enabled
    assert info["demo"]
    with open_store(tmp_path / "demo") as store:
        assert not repo.get_user(store, "demo.operator")["active"]
        with pytest.raises(auth.LoginError):
            auth.login(store, "demo.operator", "demo")


def test_security_bootstrap_on_a_store_that_had_an_administrator_is_refused(tmp_path):
    with open_store(tmp_path / "real") as store:
        chief = auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")
        deputy = auth.create_user(store, chief, "deputy", "Deputy", "administrator", "another long passphrase")
        assert deputy
        # the insider disables both administrators (as one of them), then tries to mint a new one
        auth.set_active(store, chief, "deputy", False)
        with store.transaction() as conn:  # even with the rows gone (someone holding the file)
            conn.execute("UPDATE users SET active = 0")
        assert not auth.has_administrator(store)
        with pytest.raises(auth.PermissionDenied, match="has had an administrator"):
            auth.bootstrap_administrator(store, "mallory", "M", "mallory's long passphrase")
        assert repo.get_user(store, "mallory") is None


def test_security_bootstrap_in_the_demo_store_is_refused(tmp_path):
    session.prepare(tmp_path / "demo", demo=True)
    with open_store(tmp_path / "demo") as store, pytest.raises(auth.PermissionDenied, match="demo"):
        auth.bootstrap_administrator(store, "chief", "Chief", "amber lantern over the quay")

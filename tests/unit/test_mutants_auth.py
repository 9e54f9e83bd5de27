"""Accounts and sign-in, exactly (mutation check, issue 32): every refusal's words, every log
entry's actor, subject and details, and the lockout's edges in time. SQLite, cheap scrypt; the
sign-in and lockout tests on PostgreSQL too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import auth
from console.services.accounts.auth import REFUSED, Actor, LoginError
from console.services.accounts.password_policy import PasswordRefused
from console.store import repo

PW = "harbour lights at four"
NEW = "granite owl sells kites"
T0 = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2**11)


@pytest.fixture
def office(store):
    admin = auth.bootstrap_administrator(store, "chief", "Chief", PW)
    auth.create_user(store, admin, "ann", "Ann", "operator", PW)
    return store, admin


@pytest.fixture
def office_db(db):
    """The same office on each database: on PostgreSQL the tries and the lock are the database's
    functions' (orc_take_try, orc_lock_out, orc_open_session), called here as the schema's owner,
    which passes the console's clock to the tries and the lock. orc_open_session reads the lock on
    the database's clock, so there the office's hour is an hour ago rather than T0 (in 2027)."""
    admin = auth.bootstrap_administrator(db, "chief", "Chief", PW)
    auth.create_user(db, admin, "ann", "Ann", "operator", PW)
    t0 = T0 if db.dialect == "sqlite" else datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return db, admin, t0


def _at(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def log(store, action):
    """(actor, subject type, subject id, details without the governed state) of each entry."""
    out = []
    for r in store.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,)):
        details = json.loads(r["details_json"])
        assert details.pop("governed", "x")  # where there is one, it is not empty
        out.append((r["actor"], r["subject_type"], r["subject_id"], details))
    return out


def refused(fn, *args, kind=ConsoleError) -> str:
    with pytest.raises(kind) as caught:
        fn(*args)
    return str(caught.value)


def test_the_stored_hash_names_its_parameters_and_only_its_password_matches():
    stored = auth.hash_password(PW)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**11), "8", "1")
    assert len(auth.base64.b64decode(salt)) == 16 and len(auth.base64.b64decode(digest)) == 64
    assert auth.verify_password(PW, stored) is True
    assert auth.verify_password(PW + " ", stored) is False
    assert auth.verify_password(PW, None) is False and auth.verify_password(PW, "pbkdf2$" + stored[7:]) is False
    assert auth.derived_key(PW, stored.rpartition("$")[0]) == digest


def test_bootstrap_only_once_and_only_for_a_store_that_never_had_an_administrator(store):
    assert auth.has_administrator(store) is False
    with pytest.raises(PasswordRefused):
        auth.bootstrap_administrator(store, "chief", "Chief", "short")
    chief = auth.bootstrap_administrator(store, "chief", "Chief", PW)
    assert chief == Actor(chief.user_id, "chief", "administrator") and auth.has_administrator(store)
    assert refused(auth.bootstrap_administrator, store, "boss", "Boss", PW, kind=PermissionDenied) == \
        "an administrator already exists: ask them to create your account"
    repo.create_user(store, "other", "Other", "administrator")
    auth.set_active(store, chief, "other", False)
    with store.transaction() as conn:
        conn.execute("UPDATE users SET active = 0 WHERE username = 'chief'")
    assert refused(auth.bootstrap_administrator, store, "boss", "Boss", PW, kind=PermissionDenied) == (
        "this store has had an administrator: a new one is created by an administrator, not by bootstrap "
        "(refused, and logged)")


def test_a_new_account_needs_a_known_role_a_name_of_its_own_and_a_good_password(office):
    store, admin = office
    assert refused(auth.create_user, store, admin, "bob", "Bob", "boss", PW).startswith("unknown role 'boss'; use one of ")
    assert refused(auth.create_user, store, admin, "   ", "Bob", "operator", PW) == "a user needs a name"
    assert refused(auth.create_user, store, admin, "ann", "Ann", "operator", PW) == \
        "a user named 'ann' already exists (a deleted account keeps its name)"
    with pytest.raises(PasswordRefused):
        auth.create_user(store, admin, "bob", "Bob", "operator", "bob-is-a-good-name-for-bob")
    with pytest.raises(PermissionDenied):
        auth.create_user(store, auth.actor_for(store, "ann"), "bob", "Bob", "operator", PW)
    uid = auth.create_user(store, admin, "bob", "Bob", "supervisor", PW)
    assert auth.login(store, "bob", PW) == Actor(uid, "bob", "supervisor")
    assert [u["username"] for u in auth.list_users(store, admin)] == ["ann", "bob", "chief"]
    assert all("password_hash" not in u for u in auth.list_users(store, admin))


def test_demo_accounts_are_named_so_made_once_and_stay_disabled(office):
    store, admin = office
    assert refused(auth.ensure_demo_user, store, "guest", "Guest", "operator") == "demo accounts are named demo.<something>"
    made = auth.ensure_demo_user(store, "demo.op", "Demo", "operator")
    assert made == Actor(made.user_id, "demo.op", "operator")
    assert auth.ensure_demo_user(store, "demo.op", "Demo", "operator") == made
    assert repo.get_user(store, "demo.op")["is_demo"]
    auth.set_active(store, admin, "demo.op", False)
    assert auth.ensure_demo_user(store, "demo.op", "Demo", "operator") is None
    assert log(store, "user.deactivated") == [("chief", "user", str(made.user_id), {"username": "demo.op", "demo": True})]


def test_disable_enable_and_delete_are_logged_and_the_last_administrator_kept(office):
    store, admin = office
    ann = repo.get_user(store, "ann")["id"]
    assert refused(auth.set_active, store, admin, "nobody", False) == "no user named 'nobody'"
    assert refused(auth.set_active, store, admin, "chief", False) == \
        "chief is the last active administrator; create or activate another administrator first"
    assert refused(auth.delete_user, store, admin, "chief").startswith("chief is the last active administrator")
    auth.set_active(store, admin, "ann", False)
    auth.set_active(store, admin, "ann", True)
    assert log(store, "user.deactivated") == [("chief", "user", str(ann), {"username": "ann", "demo": False})]
    assert log(store, "user.activated") == [("chief", "user", str(ann), {"username": "ann", "demo": False})]
    auth.delete_user(store, admin, "ann")
    assert log(store, "user.deleted") == [("chief", "user", str(ann), {"username": "ann", "role": "operator",
                                                                        "demo": False})]
    deleted_at = repo.get_user(store, "ann")["deleted_at"]
    assert deleted_at.endswith("Z") and "+00:00" not in deleted_at
    assert refused(auth.set_active, store, admin, "ann", True) == \
        f"the account ann was deleted on {deleted_at}; create a new account"
    for fn in (auth.set_active, auth.delete_user):
        with pytest.raises(PermissionDenied):
            fn(store, Actor(admin.user_id, "chief", "operator"), "ann", *([True] if fn is auth.set_active else []))


def test_change_and_reset_password_are_checked_logged_and_take_effect(office):
    store, admin = office
    ann = repo.get_user(store, "ann")["id"]
    assert refused(auth.change_password, store, "ann", PW, PW, kind=PasswordRefused) == \
        "the new password is the same as the old one"
    assert refused(auth.change_password, store, "ann", "wrong", NEW, kind=LoginError) == REFUSED
    with pytest.raises(PasswordRefused):
        auth.change_password(store, "ann", PW, "short")
    auth.change_password(store, "ann", PW, NEW)
    assert log(store, "user.password_changed") == [("ann", "user", str(ann), {"username": "ann"})]
    assert auth.login(store, "ann", NEW).username == "ann"
    assert refused(auth.login, store, "ann", PW, kind=LoginError) == REFUSED
    assert refused(auth.reset_password, store, admin, "chief", NEW) == \
        "change your own password with your current one, not as an administrator"
    with pytest.raises(PasswordRefused):
        auth.reset_password(store, admin, "ann", "short")
    with pytest.raises(PermissionDenied):
        auth.reset_password(store, Actor(admin.user_id, "chief", "operator"), "ann", PW)
    auth.reset_password(store, admin, "ann", PW)
    assert log(store, "user.password_reset") == [("chief", "user", str(ann), {"username": "ann"})]
    assert auth.login(store, "ann", PW).username == "ann"


def test_each_sign_in_is_logged_with_its_reason_and_purpose(office_db):
    store, _, t0 = office_db
    ann = repo.get_user(store, "ann")["id"]
    assert auth.login(store, "ann", PW, t0) == Actor(ann, "ann", "operator")
    auth.login(store, "ann", PW, t0, purpose="unlock")
    for name, pw in (("ann", "wrong"), ("ghost", PW), ("", PW)):
        assert refused(auth.login, store, name, pw, t0, kind=LoginError) == REFUSED
    assert log(store, "login.succeeded") == [("ann", "user", str(ann), {"role": "operator", "demo": False}),
                                             ("ann", "user", str(ann), {"role": "operator", "demo": False,
                                                                        "for": "unlock"})]
    assert log(store, "login.failed") == [
        ("ann", "user", str(ann), {"reason": "wrong password", "failures": 1, "locked_until": None}),
        ("ghost", "user", "", {"reason": "unknown user"}),
        ("?", "user", "", {"reason": "unknown user"})]


def test_five_wrong_tries_lock_for_exactly_fifteen_minutes(office_db):
    store, _, t0 = office_db
    for i in range(1, 6):
        refused(auth.login, store, "ann", "wrong", t0 + timedelta(seconds=i), kind=LoginError)
    failed = [d for *_, d in log(store, "login.failed")]
    assert [d["failures"] for d in failed] == [1, 2, 3, 4, 5]
    assert [d["locked_until"] for d in failed] == [None] * 4 + [_at(t0 + timedelta(minutes=15, seconds=5))]
    at = t0 + timedelta(minutes=15, seconds=4)
    refused(auth.login, store, "ann", PW, at, kind=LoginError)  # the right password, still locked
    assert [d for *_, d in log(store, "login.failed")][-1] == {"reason": "locked"}
    assert auth.login(store, "ann", PW, at + timedelta(seconds=1)).username == "ann"  # at the second it ends
    refused(auth.login, store, "ann", "wrong", at + timedelta(seconds=2), kind=LoginError)
    assert [d for *_, d in log(store, "login.failed")][-1]["failures"] == 1  # a success gave the tries back


def test_disabled_deleted_and_passwordless_accounts_are_refused_with_their_reason(office):
    store, admin = office
    repo.create_user(store, "nopw", "No Password", "operator")
    auth.create_user(store, admin, "bob", "Bob", "operator", PW)
    auth.set_active(store, admin, "ann", False)
    auth.delete_user(store, admin, "bob")
    for name in ("ann", "bob", "nopw"):
        refused(auth.login, store, name, PW, T0, kind=LoginError)
    assert [d["reason"] for *_, d in log(store, "login.failed")] == ["inactive", "deleted", "no password set"]


def test_a_refused_permission_names_the_role_needed_and_is_logged(office):
    store, admin = office
    ann = auth.actor_for(store, "ann")
    message = refused(ann.require, auth.Permission.MANAGE_USERS, store, kind=PermissionDenied)
    assert message.startswith("ann (operator) may not manage users; that needs the role ")
    assert log(store, "access.refused") == [("ann", "permission", "manage_users", {"role": "operator",
                                                                                    "user_id": ann.user_id})]
    with pytest.raises(PermissionDenied):
        ann.require(auth.Permission.MANAGE_USERS)  # no store: refused all the same, nothing logged
    assert len(log(store, "access.refused")) == 1
    assert ann.may(auth.Permission.START_RECOGNITION) and not ann.may(auth.Permission.MANAGE_USERS)
    auth.logout(store, ann, "idle")
    assert log(store, "session.ended") == [("ann", "user", str(ann.user_id), {"reason": "idle"})]
    auth.logout(store, admin)
    assert log(store, "session.ended")[-1][3] == {"reason": "logout"}


def governed_logged(store, action) -> list[dict]:
    return [json.loads(r["details_json"])["governed"]
            for r in store.query("SELECT details_json FROM audit_log WHERE action = ? ORDER BY seq", (action,))]


def governed_now(store, uid, *fields) -> dict:
    with store.transaction() as conn:
        return auth.governed.state(conn, "user", uid, *fields)


def test_each_account_change_logs_the_governed_state_it_left(office):
    store, admin = office
    ann = repo.get_user(store, "ann")["id"]
    auth.set_active(store, admin, "ann", False)
    assert governed_logged(store, "user.deactivated") == [governed_now(store, ann, "active")]
    auth.set_active(store, admin, "ann", True)
    auth.change_password(store, "ann", PW, NEW)
    assert governed_logged(store, "user.password_changed") == [governed_now(store, ann, "password_sha256")]
    auth.reset_password(store, admin, "ann", PW)
    assert governed_logged(store, "user.password_reset") == [governed_now(store, ann, "password_sha256")]
    auth.delete_user(store, admin, "ann")
    assert governed_logged(store, "user.deleted") == [
        governed_now(store, ann, "active", "deleted_at", "password_sha256")]
    assert governed_logged(store, "user.deleted")[0]["active"] in (0, False)


def test_a_demo_account_without_a_password_gets_the_demo_one_back_logged(store):
    uid = repo.create_user(store, "demo.sup", "Demo", "supervisor", is_demo=True)
    repo.set_setting(store, "store", "kind", "demo", None, "demo-setup")
    again = auth.ensure_demo_user(store, "demo.sup", "Demo", "supervisor")
    assert again == Actor(uid, "demo.sup", "supervisor")
    assert [(a, s, i, d) for a, s, i, d in log(store, "user.password_reset")] == [
        ("demo-setup", "user", str(uid), {"username": "demo.sup"})]
    assert governed_logged(store, "user.password_reset") == [governed_now(store, uid, "is_demo", "password_sha256")]
    assert auth.login(store, "demo.sup", "demo").username == "demo.sup"
    made = auth.ensure_demo_user(store, "demo.op", "Op", "operator")
    assert store.one("SELECT actor FROM audit_log WHERE action = 'user.created' AND subject_id = ?",
                     (str(made.user_id),))["actor"] == "demo-setup"
    assert auth.login(store, "demo.op", "demo").username == "demo.op"
    assert refused(auth.bootstrap_administrator, store, "chief", "Chief", PW, kind=PermissionDenied) == \
        "the demo's store has only demo accounts: bootstrap a real store (another --data-dir)"


def test_in_the_demo_store_a_demo_administrator_may_disable_other_demo_accounts(store):
    repo.set_setting(store, "store", "kind", "demo", None, "demo-setup")
    boss = auth.ensure_demo_user(store, "demo.admin", "Admin", "administrator")
    auth.ensure_demo_user(store, "demo.admin2", "Admin 2", "administrator")
    auth.ensure_demo_user(store, "demo.op", "Op", "operator")
    auth.set_active(store, boss, "demo.admin2", False)  # no real administrator to keep: demo ones are not counted
    auth.set_active(store, boss, "demo.op", False)
    assert [d["username"] for *_, d in log(store, "user.deactivated")] == ["demo.admin2", "demo.op"]


def test_an_actor_the_store_does_not_know_is_refused_everywhere_and_logged(office):
    store, admin = office
    ghost = Actor(999, "ghost", "administrator")
    assert refused(ghost.require, auth.Permission.MANAGE_USERS, store, kind=PermissionDenied) == \
        "ghost may not manage users: not an account of this store"
    assert log(store, "access.refused") == [("ghost", "permission", "manage_users",
                                             {"role": "administrator", "user_id": 999,
                                              "reason": "not an account of this store"})]
    for act in (lambda: auth.list_users(store, ghost), lambda: auth.create_user(store, ghost, "bob", "B", "operator", PW),
                lambda: auth.set_active(store, ghost, "ann", False), lambda: auth.delete_user(store, ghost, "ann"),
                lambda: auth.reset_password(store, ghost, "ann", NEW)):
        with pytest.raises(PermissionDenied):
            act()
    aud = Actor(5, "aud", "auditor")
    needs = ", ".join(auth.permissions.roles_for(auth.Permission.STOP_RECOGNITION))
    assert ", " in needs
    assert refused(aud.require, auth.Permission.STOP_RECOGNITION, kind=PermissionDenied) == \
        f"aud (auditor) may not stop recognition; that needs the role {needs}"


def test_actor_for_and_demo_account_refuse_what_they_should(office):
    store, admin = office
    assert auth.actor_for(store, "ann").username == "ann"
    auth.set_active(store, admin, "ann", False)
    assert refused(auth.actor_for, store, "ann", kind=PermissionDenied) == "no active user named 'ann'"
    auth.set_active(store, admin, "ann", True)
    auth.delete_user(store, admin, "ann")
    assert refused(auth.actor_for, store, "ann", kind=PermissionDenied) == "no active user named 'ann'"
    assert refused(auth.demo_account, store, "chief", kind=PermissionDenied) == "no demo account named 'chief'"
    assert refused(auth.demo_account, store, "demo.none", kind=PermissionDenied) == "no demo account named 'demo.none'"
    uid = repo.create_user(store, "demo.off", "Off", "supervisor", is_demo=True)
    with store.transaction() as conn:
        conn.execute("UPDATE users SET active = 0 WHERE id = ?", (uid,))
    assert auth.demo_account(store, "demo.off") == Actor(uid, "demo.off", "supervisor")  # disabled, still named


def test_the_dummy_hash_is_made_once_per_cost_and_a_hash_of_any_length_verifies(monkeypatch):
    monkeypatch.setattr(auth, "_DUMMY", {})
    first = auth._dummy_hash()
    assert first.startswith(f"scrypt${2**11}$8$1$") and auth._dummy_hash() == first
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    assert auth._dummy_hash().startswith(f"scrypt${2**10}$")
    salt = b"0123456789abcdef"
    short = auth.hashlib.scrypt(PW.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
    stored = f"scrypt${2**10}$8$1${auth.base64.b64encode(salt).decode()}${auth.base64.b64encode(short).decode()}"
    assert auth.verify_password(PW, stored) is True


def test_a_password_change_takes_its_own_time_and_rekeys_a_supervisors_sign_off_key(office_db):
    store, admin, t0 = office_db
    from console.services.record import signing_keys

    bob = auth.create_user(store, admin, "bob", "Bob", "supervisor", PW)
    for _ in range(5):  # locked until t0 + 15 min, by the given clock
        refused(auth.login, store, "bob", "wrong", t0, kind=LoginError)
    later = t0 + timedelta(minutes=16)
    auth.change_password(store, "bob", PW, NEW, later)
    actor = auth.login(store, "bob", NEW, later)
    assert actor.user_id == bob
    assert signing_keys.unlock(store, actor, NEW) is not None


def test_a_second_lockout_after_the_first_has_passed(office_db):
    store, _, _ = office_db
    t0 = T0  # on PostgreSQL too: whether a lock has passed is the console's clock's (the owner's), in 2027
    for i in range(5):
        refused(auth.login, store, "ann", "wrong", t0 + timedelta(seconds=i), kind=LoginError)
    later = t0 + timedelta(minutes=20)
    for i in range(5):
        refused(auth.login, store, "ann", "wrong", later + timedelta(seconds=i), kind=LoginError)
    assert [d["locked_until"] for *_, d in log(store, "login.failed")][-1] == _at(t0 + timedelta(minutes=35, seconds=4))


def test_demo_flags_an_old_demo_account_and_a_hash_of_another_kind(office):
    store, admin = office
    auth.ensure_demo_user(store, "demo.old", "Old", "operator")  # an older release made it in a real store
    refused(auth.login, store, "demo.old", "demo", T0, kind=LoginError)
    assert log(store, "login.failed")[-1][3] == {"reason": "demo account in a real store"}
    auth.delete_user(store, admin, "demo.old")
    assert log(store, "user.deleted")[-1][3]["demo"] is True
    uid = repo.create_user(store, "legacy", "Legacy", "operator", password_hash="pbkdf2$1$salt$digest")
    assert auth.check_stored_password(store, uid, PW) is False
    refused(auth.login, store, "legacy", PW, T0, kind=LoginError)
    assert log(store, "login.failed")[-1][3] == {"reason": "wrong password", "failures": 1, "locked_until": None}


def test_in_the_demo_store_a_demo_sign_in_is_logged_as_one_and_carries_no_token(store):
    repo.set_setting(store, "store", "kind", "demo", None, "demo-setup")
    auth.ensure_demo_user(store, "demo.op", "Op", "operator")
    auth.ensure_demo_user(store, "demo.op", "Op", "operator")  # it has its password: nothing to reset
    assert log(store, "user.password_reset") == []
    actor = auth.login(store, "demo.op", "demo")
    assert actor.token == ""  # SQLite: no database session to carry
    assert log(store, "login.succeeded")[-1][3] == {"role": "operator", "demo": True}


def test_the_first_administrator_is_logged_as_made_at_first_start(store):
    chief = auth.bootstrap_administrator(store, "chief", "Chief", PW)
    assert store.one("SELECT actor FROM audit_log WHERE action = 'user.created' AND subject_id = ?",
                     (str(chief.user_id),))["actor"] == "first-start"
    assert refused(auth.create_user, store, chief, "bob", "Bob", "boss", PW) == \
        f"unknown role 'boss'; use one of {', '.join(auth.Role.codes())}"

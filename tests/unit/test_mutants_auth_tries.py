"""Sign-in's tries on both databases (mutation check, issue 32; ``auth_pg`` runs them on
PostgreSQL): a name that cannot sign in counts no try on any account, and tries already under
way refuse even the right password and move nothing."""

from __future__ import annotations

from console.services.accounts import auth
from console.services.accounts.auth import LoginError
from console.store import repo
from tests.unit.test_mutants_auth import (  # noqa: F401 - cheap and office_db: the fixtures, shared
    PW,
    cheap,
    log,
    office_db,
    refused,
)


def _tries(store) -> dict[str, tuple]:
    return {r["username"]: (r["failed_logins"], r["locked_until"])
            for r in store.query("SELECT username, failed_logins, locked_until FROM users")}


def test_a_name_that_cannot_sign_in_counts_no_try_on_any_account(office_db):  # noqa: F811
    store, admin, t0 = office_db
    auth.create_user(store, admin, "dis", "Dis", "operator", PW)
    auth.set_active(store, admin, "dis", False)
    repo.create_user(store, "nopw", "No Password", "operator")  # none set yet
    for _ in range(auth.MAX_FAILURES + 1):
        for name, pw in (("ghost", PW), ("dis", PW), ("dis", "wrong"), ("nopw", "")):
            refused(auth.login, store, name, pw, t0, kind=LoginError)
    assert _tries(store) == {"chief": (0, None), "ann": (0, None), "dis": (0, None), "nopw": (0, None)}  # chief: id 1
    assert auth.login(store, "chief", PW, t0).role == "administrator"


def test_tries_already_under_way_refuse_even_the_right_password_and_move_nothing(office_db, monkeypatch):  # noqa: F811
    """Five tries taken and not yet answered (other sign-ins at once): a sixth is refused as locked,
    checks no password (a dummy hash, the same work), locks nobody and gives no try back."""
    store, admin, t0 = office_db
    with store.transaction() as conn:
        conn.execute("UPDATE users SET failed_logins = ? WHERE username IN ('ann', 'chief')", (auth.MAX_FAILURES,))
    checked = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda pw, stored: checked.append(stored) or real(pw, stored))
    refused(auth.login, store, "ann", PW, t0, kind=LoginError)
    refused(auth.login, store, "ghost", PW, t0, kind=LoginError)
    assert checked == [auth._dummy_hash()] * 2
    assert log(store, "login.failed")[-2:] == [("ann", "user", str(repo.get_user(store, "ann")["id"]), {"reason": "locked"}),
                                               ("ghost", "user", "", {"reason": "unknown user"})]
    assert _tries(store) == {"chief": (auth.MAX_FAILURES, None), "ann": (auth.MAX_FAILURES, None)}

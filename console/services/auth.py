"""Who is acting, and what their role lets them do; logins, passwords and lockout.

Passwords are stored as scrypt hashes (memory-hard: 32 MiB per attempt), never in clear.
Five failed logins in a row lock an account for 15 minutes. Every login, failed or not,
is written to the audit log. The first administrator is created at first start; after that
only an administrator creates users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from console import clock
from console.domain import Role
from console.errors import ConsoleError, PermissionDenied
from console.store import Store, audit, repo

PERMISSIONS = {
    "adjudicate": {"operator", "supervisor"},
    "correct_decision": {"supervisor"},
    "start_recognition": {"operator", "supervisor", "worker"},  # worker: a credential, console/services/worker_access.py
    "manage_workers": {"administrator"},
    "record_engagement": {"operator", "engagement_officer", "supervisor"},
    "enrol": {"supervisor"},
    "manage_deployment": {"supervisor"},
    "authorise_deployment": {"supervisor"},
    "change_threshold": {"supervisor"},
    "manage_users": {"administrator"},
    "manage_cameras": {"administrator", "supervisor"},
    "manage_retention": {"administrator"},
    "run_purge": {"administrator", "supervisor"},
    "view_audit": {"supervisor", "administrator", "auditor"},
    "stop_recognition": {"supervisor", "operator"},  # operators only where the deployment allows it
    "restart_recognition": {"supervisor"},
    "export_alert": {"supervisor"},
    "view_decisions": {"supervisor", "auditor"},
    "view_watchlist": {"supervisor", "auditor"},
    "view_users": {"administrator", "supervisor", "auditor"},
}

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10


class LoginError(ConsoleError):
    """Wrong name or password, locked or inactive account (the message says which, safely)."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str

    def may(self, permission: str) -> bool:
        """Whether the role allows ``permission`` (asks nothing, logs nothing: for what a window offers)."""
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str, store: Store | None = None) -> None:
        """Refuse (and, given the store, log the refusal) unless the role allows ``permission``."""
        if self.role not in PERMISSIONS[permission]:
            allowed = ", ".join(sorted(PERMISSIONS[permission]))
            if store is not None:
                audit.append(store, self.username, "access.refused", "permission", permission,
                             {"role": self.role, "user_id": self.user_id})
            raise PermissionDenied(f"{self.username} ({self.role}) may not {permission.replace('_', ' ')}; "
                                   f"that needs the role {allowed}")


def actor_for(store: Store, username: str) -> Actor:
    row = repo.get_user(store, username)
    if row is None or not row["active"]:
        raise PermissionDenied(f"no active user named {username!r}")
    return Actor(int(row["id"]), row["username"], row["role"])


# -- passwords -----------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 << 20)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         maxmem=64 << 20, dklen=len(expected))
    return hmac.compare_digest(got, expected)


def _check_password(password: str, demo: bool) -> None:
    if not demo and len(password) < MIN_PASSWORD:
        raise ConsoleError(f"a password needs at least {MIN_PASSWORD} characters")


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


# -- users -----------------------------------------------------------------------------------
def has_administrator(store: Store) -> bool:
    return store.one("SELECT 1 FROM users WHERE role = 'administrator' AND active = 1 AND is_demo = 0") is not None


def ever_had_administrator(store: Store) -> bool:
    """A real (not demo) administrator exists or ever was created here: the users table, or - for one
    since removed - the audit log's record of its creation."""
    if store.one("SELECT 1 AS x FROM users WHERE role = 'administrator' AND is_demo = 0") is not None:
        return True
    created = store.query("SELECT actor, details_json FROM audit_log WHERE action = 'user.created'")
    return any(r["actor"] != "demo-setup" and '"role":"administrator"' in r["details_json"].replace(" ", "")
               for r in created)


def bootstrap_administrator(store: Store, username: str, display_name: str, password: str) -> Actor:
    """First start only: the first administrator of a store that has never had one - not one that
    had an administrator since disabled or removed (an insider must not mint a new one), and not the
    demo's store."""
    if has_administrator(store):
        raise PermissionDenied("an administrator already exists: ask them to create your account")
    if ever_had_administrator(store):
        raise PermissionDenied("this store has had an administrator: a new one is created by an administrator, "
                               "not by bootstrap (refused, and logged)")
    if is_demo_store(store):
        raise PermissionDenied("the demo's store has only demo accounts: bootstrap a real store (another --data-dir)")
    _check_password(password, demo=False)
    user_id = _insert_user(store, "first-start", username, display_name, "administrator", password, demo=False)
    return Actor(user_id, username, "administrator")


def _insert_user(store: Store, actor: str, username: str, display_name: str, role: str, password: str,
                 demo: bool) -> int:
    if role not in Role.codes():
        raise ConsoleError(f"unknown role {role!r}; use one of {', '.join(Role.codes())}")
    if not username.strip():
        raise ConsoleError("a user needs a name")
    if repo.get_user(store, username) is not None:
        raise ConsoleError(f"a user named {username!r} already exists")
    with store.transaction() as conn:
        user_id = repo.create_user(store, username, display_name, role, actor)
        conn.execute("UPDATE users SET password_hash = ?, is_demo = ? WHERE id = ?",
                     (hash_password(password), int(demo), user_id))
    return user_id


def list_users(store: Store, actor: Actor) -> list[dict]:
    """Every account with its role and state (never a password hash), by name."""
    actor.require("view_users", store)
    return [dict(r) for r in store.query("SELECT username, display_name, role, active, is_demo, locked_until"
                                         " FROM users ORDER BY username")]


def create_user(store: Store, admin: Actor, username: str, display_name: str, role: str, password: str) -> int:
    admin.require("manage_users", store)
    _check_password(password, demo=False)
    return _insert_user(store, admin.username, username, display_name, role, password, demo=False)


def is_demo_store(store: Store) -> bool:
    """Whether this store was made as the demo's (console/services/demo.py): the only place demo
    accounts exist and may sign in."""
    return repo.get_setting(store, "store", "kind") == "demo"


def ensure_demo_user(store: Store, username: str, display_name: str, role: str,
                     password: str = "demo") -> Actor | None:
    """Clearly labelled demo accounts (is_demo; names start with 'demo.'), for the demo deployment. One
    an administrator disabled stays disabled (None): the demo goes on without it."""
    if not username.startswith("demo."):
        raise ConsoleError("demo accounts are named demo.<something>")
    row = repo.get_user(store, username)
    if row is None:
        _insert_user(store, "demo-setup", username, display_name, role, password, demo=True)
    elif not row["password_hash"]:
        with store.transaction() as conn:
            conn.execute("UPDATE users SET password_hash = ?, is_demo = 1 WHERE id = ?",
                         (hash_password(password), row["id"]))
    elif not row["active"]:
        return None
    return actor_for(store, username)


def set_active(store: Store, admin: Actor, username: str, active: bool) -> None:
    admin.require("manage_users", store)
    row = repo.get_user(store, username)
    if row is None:
        raise ConsoleError(f"no user named {username!r}")
    with store.transaction() as conn:
        conn.execute("UPDATE users SET active = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
                     (int(active), row["id"]))
        audit.append(store, admin.username, "user.activated" if active else "user.deactivated", "user", row["id"],
                     {"username": username})


# -- login -----------------------------------------------------------------------------------
def login(store: Store, username: str, password: str, now: datetime | None = None) -> Actor:
    """An Actor for the right name and password; LoginError otherwise. Everything is logged."""
    now = _now(now)
    row = repo.get_user(store, username)
    if row is None:
        audit.append(store, username or "?", "login.failed", "user", "", {"reason": "unknown user"})
        raise LoginError("wrong user name or password")
    if row["is_demo"] and not is_demo_store(store):
        audit.append(store, username, "login.failed", "user", row["id"], {"reason": "demo account in a real store"})
        raise LoginError("wrong user name or password")
    if not row["active"]:
        audit.append(store, username, "login.failed", "user", row["id"], {"reason": "inactive"})
        raise LoginError(f"the account {username} is deactivated; ask an administrator")
    if row["locked_until"] and datetime.fromisoformat(row["locked_until"].replace("Z", "+00:00")) > now:
        audit.append(store, username, "login.failed", "user", row["id"], {"reason": "locked"})
        raise LoginError(f"the account {username} is locked after {MAX_FAILURES} failed logins until "
                         f"{row['locked_until']} UTC; an administrator can unlock it")
    if not verify_password(password, row["password_hash"]):
        failures = int(row["failed_logins"]) + 1
        locked = _iso(now + LOCKOUT) if failures >= MAX_FAILURES else None
        with store.transaction() as conn:
            conn.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                         (0 if locked else failures, locked, row["id"]))
            audit.append(store, username, "login.failed", "user", row["id"],
                         {"reason": "wrong password", "failures": failures, "locked_until": locked})
        raise LoginError("wrong user name or password" + (f"; the account is now locked until {locked} UTC"
                                                          if locked else ""))
    with store.transaction() as conn:
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (row["id"],))
        audit.append(store, username, "login.succeeded", "user", row["id"], {"role": row["role"],
                                                                            "demo": bool(row["is_demo"])})
    return Actor(int(row["id"]), row["username"], row["role"])


def logout(store: Store, actor: Actor, reason: str = "logout") -> None:
    audit.append(store, actor.username, "session.ended", "user", actor.user_id, {"reason": reason})

"""Who is acting, and what their role lets them do; logins, passwords and lockout. What each role
may do is one table, in console/services/accounts/permissions.py (Actor.may and Actor.require ask it).

Passwords are stored as scrypt hashes (memory-hard: 32 MiB per attempt), never in clear, and
must meet console/services/accounts/password_policy.py (demo accounts excepted). Five failed logins in
a row lock an account for 15 minutes; the count is taken *before* the password is checked, in
one conditional UPDATE, so guesses sent in parallel from several seats or threads get no more
tries than guesses sent one by one. Every refusal reads the same and takes the same time
(an unknown name is checked against a dummy hash), so the sign-in screen does not tell which
names exist or which accounts are locked or disabled; the audit log says why, for the
administrator. The first administrator is created at first start; after that only an
administrator creates, disables or deletes accounts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console import clock
from console.domain import Role
from console.errors import ConsoleError, PermissionDenied
from console.services.accounts import password_policy, permissions
from console.services.accounts.identity import end_session, ever_had_administrator, is_demo_store, unverified  # noqa: F401
from console.services.accounts.permissions import Permission  # noqa: F401
from console.services.record import signing_keys
from console.store import Store, audit, governed, repo
from console.store import accounts as db

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = password_policy.MIN_LENGTH
# One answer for every refusal: which of these it was is for the audit log, not the seat.
REFUSED = "sign-in refused: wrong user name or password, or the account is locked or disabled"


class LoginError(ConsoleError):
    """Sign-in refused; the message is always REFUSED, whatever the reason (the log has it)."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str
    token: str = field(default="", repr=False, compare=False)  # PostgreSQL: the session the database vouches for

    def may(self, permission: Permission | str) -> bool:
        """Whether the role allows ``permission`` (asks nothing, logs nothing: for what a window offers)."""
        return permissions.allows(self.role, permission)

    @property
    def is_worker(self) -> bool:
        """A recognition worker's credential, not a person's account (console/services/accounts/worker_access.py)."""
        return permissions.is_worker(self.role)

    def require(self, permission: Permission | str, store: Store | None = None) -> None:
        """Refuse (and, given the store, log the refusal) unless the role allows ``permission`` - and,
        given the store, unless this actor is who the store says: an enabled account with this name
        and this role (or a worker whose credential still holds). The services do not take an Actor
        on trust: one made up, or one whose account was disabled or changed since sign-in, is refused."""
        if not permissions.allows(self.role, permission):
            allowed = ", ".join(permissions.roles_for(permission))
            if store is not None:
                audit.append(store, self.username, "access.refused", "permission", permission,
                             {"role": self.role, "user_id": self.user_id})
            raise PermissionDenied(f"{self.username} ({self.role}) may not {permission.replace('_', ' ')}; "
                                   f"that needs the role {allowed}")
        if store is not None:
            problem = unverified(store, self)
            if problem:
                audit.append(store, self.username, "access.refused", "permission", permission,
                             {"role": self.role, "user_id": self.user_id, "reason": problem})
                raise PermissionDenied(f"{self.username} may not {permission.replace('_', ' ')}: {problem}")


def actor_for(store: Store, username: str) -> Actor:
    row = repo.get_user(store, username)
    if row is None or not row["active"] or row["deleted_at"]:
        raise PermissionDenied(f"no active user named {username!r}")
    return Actor(int(row["id"]), row["username"], row["role"])


def demo_account(store: Store, username: str) -> Actor:
    """A demo account as the demo's own setup names it in the demo's records, active or not (an
    administrator may disable the demo accounts; the demo deployment still opens, but nobody
    signs in with a disabled one)."""
    row = repo.get_user(store, username)
    if row is None or not row["is_demo"]:
        raise PermissionDenied(f"no demo account named {username!r}")
    return Actor(int(row["id"]), row["username"], row["role"])


# -- passwords -----------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 << 20)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, at today's cost: what an unknown name is checked against,
    so that it takes as long to refuse as a known one."""
    key = (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    if key not in _DUMMY:
        _DUMMY[key] = hash_password(base64.b64encode(os.urandom(24)).decode())
    return _DUMMY[key]


def derived_key(password: str, salt_part: str) -> str:
    """The key a password derives under "scrypt$n$r$p$salt" (base64), as the stored hash holds it."""
    _, n, r, p, salt = salt_part.split("$")
    return base64.b64encode(hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                           p=int(p), maxmem=64 << 20, dklen=64)).decode()


def check_stored_password(store: Store, user_id: int, password: str) -> bool | str:
    """Whether ``password`` is the account's, reading only its salt (console/store/repo.py): the hash
    itself never leaves the database. On PostgreSQL a match is the token of a session the database
    opened (the Actor carries it)."""
    salt = repo.password_salt(store, user_id)
    if salt is None or not salt.startswith("scrypt$"):
        verify_password(password, _dummy_hash())  # the same time as a real check
        return False
    return repo.password_matches(store, user_id, derived_key(password, salt))


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         maxmem=64 << 20, dklen=len(expected))
    return hmac.compare_digest(got, expected)


def _check_password(password: str, demo: bool, username: str) -> None:
    if not demo:
        password_policy.check(password, username)


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


# -- users -----------------------------------------------------------------------------------
def has_administrator(store: Store) -> bool:
    return db.has_active_administrator(store)


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
    _check_password(password, False, username)
    user_id = _insert_user(store, "first-start", username, display_name, "administrator", password, demo=False)
    return Actor(user_id, username, "administrator")


def _insert_user(store: Store, actor_name: str, username: str, display_name: str, role: str, password: str,
                 demo: bool) -> int:
    if not permissions.is_role(role):
        raise ConsoleError(f"unknown role {role!r}; use one of {', '.join(Role.codes())}")
    if not username.strip():
        raise ConsoleError("a user needs a name")
    if repo.get_user(store, username) is not None:
        raise ConsoleError(f"a user named {username!r} already exists (a deleted account keeps its name)")
    return repo.create_user(store, username, display_name, role, actor_name, hash_password(password), demo)


def list_users(store: Store, actor: Actor) -> list[dict]:
    """Every account with its role and state (never a password hash), by name."""
    actor.require(Permission.VIEW_USERS, store)
    return [dict(r) for r in db.user_listing(store)]


def create_user(store: Store, admin: Actor, username: str, display_name: str, role: str, password: str) -> int:
    admin.require(Permission.MANAGE_USERS, store)
    _check_password(password, False, username)
    return _insert_user(store, admin.username, username, display_name, role, password, demo=False)


def ensure_demo_user(store: Store, username: str, display_name: str, role: str,
                     password: str = "demo") -> Actor | None:
    """Clearly labelled demo accounts (is_demo; names start with 'demo.'), for the demo deployment.
    One an administrator disabled or deleted stays so (None): it is never made again."""
    if not username.startswith("demo."):
        raise ConsoleError("demo accounts are named demo.<something>")
    row = repo.get_user(store, username)
    if row is None:
        _insert_user(store, "demo-setup", username, display_name, role, password, demo=True)
    elif repo.password_salt(store, int(row["id"])) is None and not row["deleted_at"]:
        with store.transaction() as conn:
            db.set_demo_password(conn, row["id"], new := hash_password(password))
            audit.append(store, "demo-setup", "user.password_reset", "user", row["id"], {"username": username,
                         "governed": governed.state(conn, "user", row["id"], "is_demo", "password_sha256", password_hash=new)})
    row = repo.get_user(store, username)
    return Actor(int(row["id"]), username, row["role"]) if row["active"] and not row["deleted_at"] else None


def demo_accounts_open(store: Store) -> list[str]:
    """The demo accounts one can still sign in with (for the sign-in screen's hint)."""
    return db.open_demo_usernames(store)


def _account(store: Store, username: str):
    row = repo.get_user(store, username)
    if row is None:
        raise ConsoleError(f"no user named {username!r}")
    if row["deleted_at"]:
        raise ConsoleError(f"the account {username} was deleted on {row['deleted_at']}; create a new account")
    return row


def _keep_an_administrator(store: Store, row) -> None:
    """Refuse to disable or delete the last real administrator: nobody could manage accounts."""
    if not permissions.allows(row["role"], Permission.MANAGE_USERS) or row["is_demo"] or not row["active"]:
        return
    others = db.other_active_administrators(store, row["id"])
    if not others:
        raise ConsoleError(f"{row['username']} is the last active administrator; create or activate another "
                           "administrator first")


def set_active(store: Store, admin: Actor, username: str, active: bool) -> None:
    """Disable an account (it cannot sign in; its record stays), or enable and unlock it again."""
    admin.require(Permission.MANAGE_USERS, store)
    row = _account(store, username)
    if not active:
        _keep_an_administrator(store, row)
    with store.transaction() as conn:
        db.set_active(conn, row["id"], active)
        audit.append(store, admin.username, "user.activated" if active else "user.deactivated", "user", row["id"],
                     {"username": username, "demo": bool(row["is_demo"]),
                      "governed": governed.state(conn, "user", row["id"], "active")})


def delete_user(store: Store, admin: Actor, username: str) -> None:
    """Delete an account, demo ones included: it is disabled for good and its password erased. Its row
    stays, marked deleted - decisions and the audit log name it, so its name is never reused."""
    admin.require(Permission.MANAGE_USERS, store)
    row = _account(store, username)
    _keep_an_administrator(store, row)
    with store.transaction() as conn:
        db.mark_deleted(conn, row["id"], _iso(clock.now()))
        audit.append(store, admin.username, "user.deleted", "user", row["id"],
                     {"username": username, "role": row["role"], "demo": bool(row["is_demo"]), "governed":
                      governed.state(conn, "user", row["id"], "active", "deleted_at", "password_sha256",
                                     password_hash=None)})


def change_password(store: Store, username: str, old: str, new: str, now: datetime | None = None) -> None:
    """One's own password, given the current one: the same check as a sign-in (a wrong one counts
    towards the lockout and is refused in the same words)."""
    _check_password(new, False, username)
    actor = _authenticate(store, username, old, _now(now), "password change")
    if new == old:
        raise password_policy.PasswordRefused("the new password is the same as the old one")
    with store.transaction() as conn:
        db.set_password(conn, actor.user_id, stored := hash_password(new))
        audit.append(store, actor.username, "user.password_changed", "user", actor.user_id, {"username": username,
                     "governed": governed.state(conn, "user", actor.user_id, "password_sha256", password_hash=stored)})
    signing_keys.rekey(store, actor, old, new)  # a supervisor's sign-off key, under the new password


def reset_password(store: Store, admin: Actor, username: str, new: str) -> None:
    """An administrator sets someone else's password (forgotten, or a demo account's); it unlocks
    the account. One's own is changed with the current one (``change_password``)."""
    admin.require(Permission.MANAGE_USERS, store)
    if username == admin.username:
        raise ConsoleError("change your own password with your current one, not as an administrator")
    row = _account(store, username)
    _check_password(new, False, username)
    with store.transaction() as conn:
        db.reset_password(conn, row["id"], stored := hash_password(new))
        audit.append(store, admin.username, "user.password_reset", "user", row["id"], {"username": username,
                     "governed": governed.state(conn, "user", row["id"], "password_sha256", password_hash=stored)})


# -- login -----------------------------------------------------------------------------------
def login(store: Store, username: str, password: str, now: datetime | None = None, purpose: str = "login") -> Actor:
    """An Actor for the right name and password; LoginError(REFUSED) otherwise. Everything is logged."""
    return _authenticate(store, username, password, _now(now), purpose)


def _refusal(store: Store, row, now: datetime) -> str | None:
    """Why this account cannot sign in at all, whatever the password; None where it may try."""
    if row is None:
        return "unknown user"
    if row["deleted_at"]:
        return "deleted"
    if not row["active"]:
        return "inactive"
    if row["locked_until"] and row["locked_until"] > _iso(now):
        return "locked"
    if repo.password_salt(store, int(row["id"])) is None:
        return "no password set"
    return None


def _take_a_try(store: Store, user_id: int, now: datetime) -> int | None:
    """Count one more failure *before* the password is checked (given back on success), in one
    conditional UPDATE: the database lets at most MAX_FAILURES tries through, however many arrive
    at once. The number of this try, or None when the account is locked or out of tries."""
    with store.transaction() as conn:
        if store.dialect == "postgres":  # a seat may not write the count: the database's function does
            return db.take_login_try_pg(conn, user_id, _iso(now))
        taken = db.take_login_try(conn, user_id, MAX_FAILURES, _iso(now))
        if not taken:
            # The same write all the same (to an unchanged row): a commit that writes nothing returns
            # sooner, and the difference would tell which names exist.
            db.touch_login_row(conn, user_id)
            return None
        return db.failed_logins(conn, user_id)


def _authenticate(store: Store, username: str, password: str, now: datetime, purpose: str) -> Actor:
    """The same steps, in the same order, for every name: refusals differ only in the audit log."""
    row = repo.get_user(store, username)
    reason = _refusal(store, row, now)
    if reason is None and row["is_demo"] and not is_demo_store(store):
        reason = "demo account in a real store"  # one an older release made: it signs in nowhere but the demo
    user_id = int(row["id"]) if row is not None else -1
    # Also for a name that cannot sign in (it takes no try): the same work, whatever the name.
    attempt = _take_a_try(store, user_id if reason is None else -1, now)
    if reason is None and attempt is None:
        reason = "locked"  # locked meanwhile, or MAX_FAILURES tries already under way
    right = (check_stored_password(store, user_id, password) if reason is None
             else verify_password(password, _dummy_hash()))
    purpose_note = {} if purpose == "login" else {"for": purpose}
    if reason is None and right:
        with store.transaction() as conn:
            if store.dialect != "postgres":  # on PostgreSQL orc_open_session gave the tries back
                db.clear_failures(conn, user_id)
            audit.append(store, username, "login.succeeded", "user", user_id,
                         {"role": row["role"], "demo": bool(row["is_demo"]), **purpose_note})
        actor = Actor(user_id, row["username"], row["role"], right if isinstance(right, str) else "")
        return signing_keys.at_sign_in(store, actor, password)  # a supervisor's sign-off key, made or renewed
    locked_until = _iso(now + LOCKOUT)
    with store.transaction() as conn:
        # The try that finds MAX_FAILURES counted locks the account (once: the others find it locked).
        if store.dialect == "postgres":
            until = db.lock_out_pg(conn, user_id if reason is None else -1, locked_until, _iso(now))
            locked, locked_until = until is not None, until or locked_until
        else:
            locked = db.lock_if_out_of_tries(conn, user_id if reason is None else -1, locked_until, MAX_FAILURES,
                                             _iso(now))

        details = {"reason": reason or "wrong password", **purpose_note}
        if reason is None:
            details.update(failures=attempt, locked_until=locked_until if locked else None)
        audit.append(store, username or "?", "login.failed", "user", "" if row is None else user_id, details)
    raise LoginError(REFUSED)


def logout(store: Store, actor: Actor, reason: str = "logout") -> None:
    end_session(store, actor)
    audit.append(store, actor.username, "session.ended", "user", actor.user_id, {"reason": reason})

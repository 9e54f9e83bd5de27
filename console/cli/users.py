"""`main.py users ...`: accounts from the command line - the first administrator, and what an
administrator (or each user, for their own password) does in the Users tab.

Every command that changes an account signs someone in first: the administrator named by
--as, or, for ``passwd``, the user with their current password. Passwords are asked on the
terminal (never on the command line, where other users of the machine could read them) or,
with --password-stdin, read one a line from standard input in the order the prompts would ask.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from console.errors import ConsoleError

ACTIONS = ["bootstrap", "list", "create", "passwd", "reset-password", "disable", "enable", "delete", "issue-worker",
           "revoke-worker"]


def add_parser(sub, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("users", help="user accounts: the first administrator; create, disable, enable, delete; "
                       "passwords", description=__doc__.split("\n\n")[1].replace("\n", " "))
    add_common(p)
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("name", nargs="?", help="the account (create, passwd, reset-password, disable, enable, delete)")
    p.add_argument("--as", "--user", dest="as_user", default=None,
                   help="who does it, signed in (asked for a password): the administrator; for list also a "
                        "supervisor or auditor")
    p.add_argument("--deployment", type=int, default=None, help="issue-worker: the deployment it may recognise for")
    p.add_argument("--label", default="", help="issue-worker: which machine the credential is for")
    p.add_argument("--days", type=float, default=7, help="issue-worker: how long it lasts (at most 31 days)")
    p.add_argument("--credential-id", type=int, default=None, help="revoke-worker: the credential to revoke")
    p.add_argument("--reason", default="", help="revoke-worker: why (logged)")
    p.add_argument("--role", default="operator", help="create: the new account's role (default operator)")
    p.add_argument("--username", default="admin", help="bootstrap: the first administrator's name")
    p.add_argument("--display-name", default=None, help="bootstrap, create: the full name")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the passwords from standard input, one a line, in the order they would be asked "
                   "(a new one once)")


class _Passwords:
    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def ask(self, prompt: str, twice: bool = False) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise ConsoleError(f"standard input ended before the password for: {prompt.rstrip(': ')}")
            return line.rstrip("\n")
        if not sys.stdin.isatty():
            raise ConsoleError("no terminal to ask the password on; pipe it in with --password-stdin")
        import getpass

        password = getpass.getpass(prompt)
        if twice and getpass.getpass("Again: ") != password:
            raise ConsoleError("the two passwords differ")
        return password


def _need(value: str | None, what: str) -> str:
    if not value:
        raise ConsoleError(f"name {what}")
    return value


def cmd_users(args) -> int:
    from console.services.accounts import auth
    from console.services.accounts.session import open_store

    pw = _Passwords(args.password_stdin)
    with open_store(getattr(args, "db", None) or args.data_dir) as store:
        if args.action in ("list", "issue-worker", "revoke-worker"):
            if not args.as_user:
                raise ConsoleError("this command reads or changes the record: sign in with --user NAME (the password "
                                   "is asked)")
            who = args.as_user
            actor = auth.login(store, who, pw.ask(f"Password of {who}: "))
            if args.action != "list":
                return _worker_credential(args, store, actor)
            for r in auth.list_users(store, actor):
                state = "deleted" if r["deleted_at"] else "active" if r["active"] else "disabled"
                print(f"{r['username']:<20} {r['role']:<18} {state:<9}{' demo' if r['is_demo'] else ''}"
                      f"  {r['display_name']}")
            return 0
        if args.action == "bootstrap":
            password = pw.ask("Password for the first administrator: ", twice=True)
            actor = auth.bootstrap_administrator(store, args.username, args.display_name or "Administrator", password)
            print(f"administrator {actor.username} created; sign in with it to create the other accounts")
            return 0
        name = _need(args.name, "the account (main.py users ACTION NAME)")
        if args.action == "passwd":
            current = pw.ask(f"Current password of {name}: ")
            auth.change_password(store, name, current, pw.ask(f"New password for {name}: ", twice=True))
            print(f"password of {name} changed (logged)")
            return 0
        admin_name = _need(args.as_user, "the administrator doing it with --as NAME")
        admin = auth.login(store, admin_name, pw.ask(f"Password of {admin_name}: "))
        if args.action == "create":
            password = pw.ask(f"Password for the new account {name}: ", twice=True)
            auth.create_user(store, admin, name, args.display_name or name, args.role, password)
        elif args.action == "reset-password":
            auth.reset_password(store, admin, name, pw.ask(f"New password for {name}: ", twice=True))
        elif args.action in ("disable", "enable"):
            auth.set_active(store, admin, name, args.action == "enable")
        else:
            auth.delete_user(store, admin, name)
    done = {"create": "created", "reset-password": "given a new password", "disable": "disabled",
            "enable": "enabled and unlocked", "delete": "deleted (its record stays, marked deleted)"}
    print(f"{name} {done[args.action]} by {admin_name} (logged)")
    return 0


def _worker_credential(args, store, admin) -> int:
    from console.services.accounts import worker_access

    if args.action == "revoke-worker":
        if args.credential_id is None:
            raise ConsoleError("name the credential: --credential-id N")
        worker_access.revoke(store, admin, args.credential_id, args.reason)
        print(f"worker credential {args.credential_id} revoked")
        return 0
    if args.deployment is None:
        raise ConsoleError("name the deployment: --deployment N")
    issued = worker_access.issue(store, admin, args.deployment, args.label, args.days)
    print(f"worker credential {issued.credential_id} for deployment {args.deployment}, until {issued.expires_at}.\n"
          "Give it to the worker in a file only its user can read (chmod 600), or as ORC_WORKER_CREDENTIAL; "
          f"it is shown only now:\n{issued.token}")
    return 0


def add_identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="", help="sign in as this user (the password is asked on the terminal)")
    if not any(a.dest == "password_stdin" for a in parser._actions):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password as one line from standard input (never as an argument)")


def signed_in(args, store):
    """The user a command acts as: ``--user NAME``, with the password asked on the terminal (or one
    line on standard input with --password-stdin) - never an argument. The sign-in is logged, and
    refused like the window's (lockout included)."""
    import getpass

    from console.services.accounts import auth

    if not args.user:
        raise ConsoleError("this command reads or changes the record: sign in with --user NAME (the password is asked)")
    password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                else getpass.getpass(f"Password for {args.user}: "))
    return auth.login(store, args.user, password)


def worker_token(args) -> str:
    """The worker's credential: a file only its owner can read, or the environment - never an argument."""
    import os
    import stat

    path = args.credential_file
    if path is None:
        token = os.environ.get("ORC_WORKER_CREDENTIAL", "")
        if not token:
            raise ConsoleError("a worker needs its credential (an administrator issues one: users issue-worker): "
                               "--credential-file FILE or ORC_WORKER_CREDENTIAL")
        return token
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise ConsoleError(f"credential file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConsoleError(f"credential file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ConsoleError(f"credential file {path} can be read by others (mode {stat.filemode(info.st_mode)}): "
                           "chmod 600 it first")
    return path.read_text().strip()

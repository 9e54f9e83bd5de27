"""Credentials of headless recognition workers.

A worker is not a person at a seat, so it does not sign in with a password: an administrator
issues it a credential for one deployment (``issue``), shown once and stored only as its SHA-256
(a 256-bit random secret needs no slow hash). It expires (at most 31 days), it can be revoked, and
every use - accepted or refused - is in the audit log. A running worker checks its credential
again at every heartbeat and stops when it is revoked or expires. The credential reaches the worker
through the environment (``ORC_WORKER_CREDENTIAL``) or a file only its owner can read, never an
argument (arguments are visible to every user of the machine).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.clock import now as clock_now
from console.errors import ConsoleError
from console.services.accounts.auth import Actor, LoginError
from console.services.accounts.permissions import Permission
from console.store import Store, audit, ledger, repo
from console.store import accounts as db

MAX_DAYS = 31
PREFIX = "orcw1."


class CredentialRefused(LoginError):
    """The worker's credential is unknown, revoked, expired or for another deployment."""


@dataclass(frozen=True)
class Issued:
    credential_id: int
    token: str  # shown once; only its hash is kept
    expires_at: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def issue(store: Store, admin: Actor, deployment_id: int, label: str, days: float = 7) -> Issued:
    admin.require(Permission.MANAGE_WORKERS, store)
    if repo.get_deployment(store, deployment_id) is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    if not label.strip():
        raise ConsoleError("a worker credential needs a label (which machine it is for)")
    if not 0 < days <= MAX_DAYS:
        raise ConsoleError(f"a worker credential lasts more than 0 and at most {MAX_DAYS} days")
    token = PREFIX + secrets.token_urlsafe(32)
    issued = clock_now()
    expires = _iso(issued + timedelta(days=days))
    with store.transaction() as conn:
        credential_id = db.insert_worker_credential(conn, deployment_id, label.strip(), _digest(token), admin.user_id,
                                                    _iso(issued), expires)
        audit.append(store, admin.username, "worker.credential_issued", "deployment", deployment_id,
                     {"credential_id": credential_id, "label": label.strip(), "expires_at": expires,
                      "rows": ledger.of(conn, "worker_credentials", id=credential_id)})
    return Issued(credential_id, token, expires)


def revoke(store: Store, admin: Actor, credential_id: int, reason: str) -> None:
    admin.require(Permission.MANAGE_WORKERS, store)
    if not reason.strip():
        raise ConsoleError("revoking a worker credential needs a reason")
    with store.transaction() as conn:
        row = db.worker_credential_state(conn, credential_id)
        if row is None:
            raise ConsoleError(f"worker credential {credential_id} does not exist")
        if row["revoked_at"] is None:
            db.revoke_worker_credential(conn, credential_id, _iso(clock_now()), admin.user_id)
        audit.append(store, admin.username, "worker.credential_revoked", "deployment", row["deployment_id"],
                     {"credential_id": credential_id, "reason": reason,
                      "rows": ledger.of(conn, "worker_credentials", id=credential_id)})


def _why_not(row, deployment_id: int) -> str:
    if row is None:
        return "unknown credential"
    if row["revoked_at"]:
        return "revoked"
    if row["expires_at"] <= _iso(clock_now()):
        return "expired"
    if int(row["deployment_id"]) != deployment_id:
        return f"issued for deployment {row['deployment_id']}, not {deployment_id}"
    return ""


def authenticate(store: Store, token: str, deployment_id: int, host: str = "") -> Actor:
    """The worker's Actor (role "worker": it may run recognition, nothing else), or CredentialRefused.
    Either way the use is logged (never the secret)."""
    row = db.worker_credential_by_secret(store, _digest(token.strip()))
    why = _why_not(row, deployment_id)
    if why:
        audit.append(store, "worker", "worker.refused", "deployment", deployment_id,
                     {"reason": why, "credential_id": row["id"] if row else None, "host": host})
        raise CredentialRefused(f"worker credential refused: {why}")
    audit.append(store, f"worker:{row['label']}", "worker.authenticated", "deployment", deployment_id,
                 {"credential_id": int(row["id"]), "host": host})
    # The token goes with the Actor: on PostgreSQL the database itself checks it at every write (pg_authority).
    return Actor(-int(row["id"]), f"worker:{row['label']}", "worker", token.strip())


def still_valid(store: Store, actor: Actor, deployment_id: int) -> str:
    """"" while the worker's credential holds; else why not (checked at every heartbeat)."""
    row = db.worker_credential(store, -actor.user_id)
    return _why_not(row, deployment_id)


def credentials(store: Store, admin: Actor, deployment_id: int) -> list[dict]:
    """The deployment's credentials (never their hashes), newest first."""
    admin.require(Permission.MANAGE_WORKERS, store)
    return [dict(r) for r in db.worker_credentials_of(store, deployment_id)]


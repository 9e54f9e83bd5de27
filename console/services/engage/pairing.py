"""Phones paired to engagement officers, for one deployment.

A supervisor makes a one-time pairing code for an officer's account (role engagement officer) and
a deployment; the console shows it with a QR code. The phone sends the code once; the service gives
it a device token (a cookie), of which only the SHA-256 is kept. The code is 10 characters of
Crockford base32 (50 bits), lasts ``CODE_TTL`` and works once. Every failed try counts against every
code open at that moment: after ``MAX_FAILURES`` they are void, so guessing spread over many phones
gets no more tries than guessing from one (the web service also limits tries per address). A device
lasts one shift (``DEVICE_TTL``), is refused at once when revoked or when the officer's account is
disabled, and its sign-out revokes it. Every pairing, refusal, revocation and sign-out is an audit entry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console import clock
from console.domain import Role
from console.errors import ConsoleError, PermissionDenied
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store, audit, ledger, repo
from console.store import handheld as db

CODE_TTL = timedelta(minutes=10)
DEVICE_TTL = timedelta(hours=12)
MAX_FAILURES = 20
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH = 10
TOKEN_PREFIX = "orch_"
ACTOR = "handheld"  # the audit log's name for a request from a phone not (yet) paired


class PairingError(ConsoleError):
    """A pairing code refused; the message is the same whatever the reason (the log has it)."""


REFUSED = "pairing refused: the code is wrong, used or expired - ask the supervisor for a new one"


def ts(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """What the officer typed, as the code was made: spaces and dashes dropped, upper case, and the
    letters people mistake for digits read as those digits (Crockford)."""
    out = code.strip().upper().replace("-", "").replace(" ", "")
    return out.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def shown(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


@dataclass(frozen=True)
class PairingCode:
    pairing_id: int
    code: str  # as shown: XXXXX-XXXXX
    officer: str
    deployment_id: int
    expires_at: str


@dataclass(frozen=True)
class Device:
    device_id: int
    officer_id: int
    officer: str  # user name
    display_name: str
    deployment_id: int
    label: str
    paired_at: str
    expires_at: str
    token: str = field(default="", repr=False, compare=False)  # PostgreSQL: the session the database vouches for

    @property
    def actor(self) -> Actor:
        return Actor(self.officer_id, self.officer, Role.ENGAGEMENT_OFFICER.value, self.token)


def start_pairing(store: Store, supervisor: Actor, officer: str, deployment_id: int) -> PairingCode:
    """A one-time code pairing a phone to ``officer`` (an engagement officer) for ``deployment_id``."""
    supervisor.require(Permission.PAIR_HANDHELD, store)
    user = repo.get_user(store, officer)
    if user is None or not user["active"] or user["deleted_at"]:
        raise ConsoleError(f"no active account named {officer!r}")
    if not Actor(int(user["id"]), user["username"], user["role"]).may(Permission.RECEIVE_DISPATCH):
        raise ConsoleError(f"{officer} is not an engagement officer: only they are sent dispatches")
    if repo.get_deployment(store, deployment_id) is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = clock.now()
    expires = ts(now + CODE_TTL)
    with store.transaction() as conn:
        pid = db.insert_pairing(conn, int(user["id"]), deployment_id, _sha(code), supervisor.user_id, ts(now), expires)
        audit.append(store, supervisor.username, "handheld.pairing_started", "deployment", deployment_id,
                     {"officer": officer, "pairing_id": pid, "expires_at": expires,
                      "rows": ledger.of(conn, "handheld_pairings", id=pid)})
    return PairingCode(pid, shown(code), officer, deployment_id, expires)


def pair(store: Store, code: str, label: str = "", client: str = "") -> tuple[str, Device]:
    """The device token (to keep as a cookie) and the device, for a right code used once in time."""
    label = " ".join(label.split())[:60]
    now = clock.now()
    digest = _sha(normalise_code(code))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.transaction() as conn:
        device_id, row = db.pair_with_code(store, conn, digest, _sha(token), label, ts(now), ts(now + DEVICE_TTL),
                                           MAX_FAILURES)
        if device_id is None:  # counted and logged, then refused once this is committed
            open_ids = db.open_pairing_ids(conn, ts(now))
            audit.append(store, ACTOR, "handheld.pairing_refused", "pairing", row["id"] if row else "",
                         {"reason": _why_not(row, now), "client": client,
                          "rows": ledger.of(conn, "handheld_pairings", id=open_ids) if open_ids else {}})
        else:
            dev = _device(db.device(conn, device_id), token)
            audit.append(store, dev.officer, "handheld.paired", "deployment", dev.deployment_id,
                         {"device_id": device_id, "pairing_id": int(row["id"]), "label": label, "client": client,
                          "expires_at": dev.expires_at,
                          "rows": ledger.merged(ledger.of(conn, "handheld_pairings", id=int(row["id"])),
                                                ledger.of(conn, "handheld_devices", id=device_id))})
            return token, dev
    raise PairingError(REFUSED)


def _why_not(row, now: datetime) -> str:
    if row is None:
        return "unknown code"
    if row["used_at"] is not None:
        return "code already used"  # also the loser of two phones racing with one code
    if row["expires_at"] <= ts(now):
        return "code expired"
    if int(row["failures"]) >= MAX_FAILURES:
        return f"code void after {MAX_FAILURES} failed tries"
    return "refused"


def _device(row, token: str = "") -> Device:
    return Device(int(row["id"]), int(row["officer_id"]), row["username"], row["display_name"],
                  int(row["deployment_id"]), row["label"], row["paired_at"], row["expires_at"], token)


def device_for(store: Store, token: str) -> Device:
    """The paired device holding ``token``; PermissionDenied (always the same words) when there is
    none, or it expired, was revoked, or its officer's account is disabled or no longer an officer."""
    if not token.startswith(TOKEN_PREFIX):
        raise PermissionDenied(NOT_PAIRED)
    row = db.device_by_token(store, _sha(token))
    if row is None or not hmac.compare_digest(row["token_sha256"], _sha(token)):
        raise PermissionDenied(NOT_PAIRED)
    if (row["revoked_at"] is not None or row["expires_at"] <= ts(clock.now()) or not row["active"] or row["deleted_at"]
            or not Actor(int(row["officer_id"]), row["username"], row["role"]).may(Permission.RECEIVE_DISPATCH)):
        raise PermissionDenied(NOT_PAIRED)
    return _device(row, token)


NOT_PAIRED = "this device is not paired, or its pairing ended: ask the supervisor to pair it again"


def revoke(store: Store, supervisor: Actor, device_id: int, reason: str) -> None:
    """End a device's pairing at once (its open page goes blank at its next check, within seconds)."""
    supervisor.require(Permission.PAIR_HANDHELD, store)
    if not reason.strip():
        raise ConsoleError("revoking a handheld needs a reason")
    with store.transaction() as conn:
        row = db.device(conn, device_id)
        if row is None:
            raise ConsoleError(f"handheld {device_id} does not exist")
        if row["revoked_at"] is not None:
            return
        if not db.revoke_device(conn, device_id, ts(clock.now()), supervisor.user_id, reason.strip()):
            raise ConsoleError(f"handheld {device_id} was not revoked: the store refused the change")
        audit.append(store, supervisor.username, "handheld.revoked", "deployment", int(row["deployment_id"]),
                     {"device_id": device_id, "officer": row["username"], "reason": reason.strip(),
                      "rows": ledger.of(conn, "handheld_devices", id=device_id)})


def sign_out(store: Store, device: Device) -> None:
    """The officer signs the phone out: its pairing ends (a new one needs a new code)."""
    device.actor.require(Permission.RECEIVE_DISPATCH, store)
    with store.transaction() as conn:
        if db.revoke_device(conn, device.device_id, ts(clock.now()), device.officer_id, "signed out on the device"):
            audit.append(store, device.officer, "handheld.signed_out", "deployment", device.deployment_id,
                         {"device_id": device.device_id, "rows": ledger.of(conn, "handheld_devices", id=device.device_id)})


def devices(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """The deployment's paired devices, for Set up and the supervisor (state: live, expired, revoked)."""
    actor.require(Permission.PAIR_HANDHELD, store)
    now = ts(clock.now())
    out = []
    for r in db.devices(store, deployment_id):
        state = "revoked" if r["revoked_at"] else "expired" if r["expires_at"] <= now else "live"
        out.append({"device_id": int(r["id"]), "officer": r["username"], "display_name": r["display_name"],
                    "label": r["label"], "paired_at": r["paired_at"], "expires_at": r["expires_at"],
                    "revoked_at": r["revoked_at"], "state": state})
    return out


def officers(store: Store, deployment_id: int) -> list[dict]:
    """The deployment's team: officers with a live paired device (user name, display name, devices)."""
    team: dict[str, dict] = {}
    for r in db.live_devices(store, deployment_id, ts(clock.now())):
        if not Actor(int(r["officer_id"]), r["username"], r["role"]).may(Permission.RECEIVE_DISPATCH):
            continue
        t = team.setdefault(r["username"], {"officer": r["username"], "display_name": r["display_name"],
                                            "officer_id": int(r["officer_id"]), "devices": 0})
        t["devices"] += 1
    return list(team.values())

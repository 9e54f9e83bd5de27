"""Outbound events: a human-confirmed alert passed to dispatch, as a webhook and as a JSON-lines file
(and to an MQTT broker: ``mqtt_out``, with this payload, from the ``mqtt`` part of this setting).

Only a final confirmation is sent: ``review.confirm`` calls ``alert_confirmed`` once the decision
row is committed (under the two-person rule, the second confirmation; never a rejection, never
a first confirmation). Sending never holds a decision up: the file line is appended at once and
the webhook is queued for a background thread that retries a slow or dead endpoint with
exponential backoff. Every attempt and its outcome is an audit entry.

The administrator's configuration is a governed setting (``deployment/<id>`` / ``outbound``);
the webhook's signing secret is stored apart, in a file only its owner may read, and never
printed or logged - the setting names only the file. The payload (docs/outbound.md) carries the
watchlist record number, not the subject's name, and no image, score or biometric data.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from console.errors import ConsoleError
from console.redaction import redact_url
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import audit, checkpoints, known_answer
from console.store import decisions as db
from console.store.base import Store
from console.store.settings import get_setting, set_setting

KEY = "outbound"
SCHEMA = "orc.alert.confirmed/1"
SIGNATURE_HEADER = "X-ORC-Signature"  # "sha256=" + hex HMAC-SHA256 of the body
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
ACTOR = "outbound"  # the audit log's name for the sender (a background thread, not a person)


class OutboundError(ConsoleError):
    pass


def scope(deployment_id: int) -> str:
    return f"deployment/{deployment_id}"


def check_url(url: str) -> str:
    """HTTPS only; plain http is accepted for this machine alone (tests, a local relay)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return url
    raise OutboundError("a webhook must be an https:// URL (plain http only to localhost)")


def configure(store: Store, actor: Actor, deployment_id: int, *, webhook_url: str = "", jsonl_path: str = "",
              secret: str | None = None, secrets_dir: Path | str | None = None, reason: str = "",
              mqtt: dict | None = None) -> dict:
    """Set (or clear, with no target) where confirmed alerts of a deployment are sent.
    ``mqtt``: a broker, as checked by ``mqtt_out.check_config`` (``mqtt_out.configure`` checks and
    calls this; docs/outbound.md).
    ``secret``: the HMAC key for the webhook ("new": a random one), written to a file of its own
    under ``secrets_dir``; the setting records the file, never the key."""
    actor.require(Permission.MANAGE_OUTBOUND, store)
    if not db.deployment_exists(store, deployment_id):
        raise OutboundError(f"deployment {deployment_id} does not exist")
    config: dict[str, Any] = {}
    if webhook_url:
        config["webhook_url"] = check_url(webhook_url.strip())
    if jsonl_path:
        config["jsonl_path"] = str(Path(jsonl_path).expanduser().resolve())
    if mqtt:
        config["mqtt"] = dict(mqtt)
    if secret is not None:
        if not webhook_url or secrets_dir is None:
            raise OutboundError("a signing secret needs a webhook and a place to keep it")
        key = secrets.token_hex(32) if secret == "new" else secret
        config["secret_file"] = str(_write_secret(Path(secrets_dir), deployment_id, key))
    set_setting(store, scope(deployment_id), KEY, config or None, actor.user_id, actor.username,
                reason or "outbound events configured")
    return config


def key_folder(store: Store) -> Path:
    """The installation's key folder, where a new webhook signing secret is kept."""
    return checkpoints.key_dir(store)


def _write_secret(folder: Path, deployment_id: int, key: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"outbound-{deployment_id}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    os.chmod(path, 0o600)
    return path


def config_of(store: Store, deployment_id: int) -> dict:
    return get_setting(store, scope(deployment_id), KEY) or {}


def describe(config: dict) -> dict:
    """The configuration as it may be shown: the webhook's credentials redacted, the key never."""
    out = dict(config)
    if "webhook_url" in out:
        out["webhook_url"] = redact_url(out["webhook_url"])
    if "secret_file" in out:
        out["signed"] = True
    if "mqtt" in out:  # flat, as the command line prints it: the password's file, never the password
        broker = out.pop("mqtt")
        out.update({f"mqtt_{k}": ",".join(v) if isinstance(v, list) else v for k, v in broker.items()})
        out["mqtt_url"] = redact_url(broker["url"])
    return out


def payload(store: Store, alert_id: int, decision_id: int) -> dict:
    """What dispatch needs to act on a confirmed alert, and nothing more (docs/outbound.md)."""
    row = db.confirmed_message(store, alert_id, decision_id)
    if row is None:
        raise OutboundError(f"decision {decision_id} of alert {alert_id} does not exist")
    return {
        "schema": SCHEMA,
        "event_id": f"{row['deployment_id']}-{decision_id}",
        "deployment": {"id": int(row["deployment_id"]), "name": row["deployment"], "location": row["location"]},
        "alert_id": int(row["id"]),
        "incident_id": int(row["incident_id"] or row["id"]),
        "camera": row["camera"],
        "seen_at": row["captured_at"],
        "confirmed_at": row["decided_at"],
        "confirmations": 2 if str(row["reason"]).startswith("second confirmation") else 1,
        "watchlist": {"record_number": row["record_number"], "category": row["category"]},
    }


def body_of(event: dict) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode()


def sign(body: bytes, key: str) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def alert_confirmed(store: Store, alert_id: int, decision_id: int) -> None:
    """Called by review.confirm for a final confirmation: send it wherever the deployment says,
    once the decision is committed. Never raises into the decision."""
    if known_answer.test_of(store, alert_id) is not None:
        return  # a known-answer test never leaves the console
    store.after_commit(f"outbound-{decision_id}", lambda: _send(store, alert_id, decision_id))


def _send(store: Store, alert_id: int, decision_id: int) -> None:
    dep = db.deployment_of_alert(store, alert_id)

    config = config_of(store, int(dep["deployment_id"])) if dep else {}
    if not config:
        return
    event = payload(store, alert_id, decision_id)
    if config.get("jsonl_path"):
        _append_line(store, Path(config["jsonl_path"]), event)
    if config.get("webhook_url"):
        dispatcher_for(store).submit(event, config["webhook_url"], config.get("secret_file"))


def _append_line(store: Store, path: Path, event: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as f:
            f.write(body_of(event) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        outcome: dict[str, Any] = {"outcome": "written"}
    except OSError as exc:
        outcome = {"outcome": "failed", "error": type(exc).__name__}
    audit.append(store, ACTOR, "outbound.file", "alert", event["alert_id"],
                 {"event_id": event["event_id"], "file": str(path), **outcome})


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: dict = field(compare=False)
    url: str = field(compare=False)
    secret_file: str | None = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Dispatcher:
    """One background thread per store: a time-ordered queue of webhook sends, each retried with
    exponential backoff (``base_s`` * 2**attempt, at most ``max_delay_s``) up to ``max_attempts``.
    A slow or dead endpoint delays only its own retries; ``submit`` never waits."""

    def __init__(self, store: Store, *, base_s: float = 2.0, max_delay_s: float = 300.0, max_attempts: int = 8,
                 timeout_s: float = 10.0, max_queued: int = 10_000) -> None:
        self.store = store
        self.base_s, self.max_delay_s, self.max_attempts = base_s, max_delay_s, max_attempts
        self.timeout_s, self.max_queued = timeout_s, max_queued
        self._heap: list[_Job] = []
        self._seq = 0
        self._busy = 0
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="outbound-webhook", daemon=True)
        self._thread.start()

    def submit(self, event: dict, url: str, secret_file: str | None = None) -> None:
        with self._cv:
            if len(self._heap) >= self.max_queued:
                dropped = True
            else:
                dropped = False
                self._seq += 1
                heapq.heappush(self._heap, _Job(time.monotonic(), self._seq, event, url, secret_file))
                self._cv.notify()
        if dropped:
            audit.append(self.store, ACTOR, "outbound.webhook", "alert", event["alert_id"],
                         {"event_id": event["event_id"], "outcome": "dropped", "error": "queue full"})

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """True once nothing is queued or being sent (for tests and an orderly shutdown)."""
        end = time.monotonic() + timeout_s
        with self._cv:
            while self._heap or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    def close(self, wait_s: float = 5.0) -> None:
        """Stop taking jobs; wait at most ``wait_s`` for an attempt under way (its timeout bounds it)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(wait_s)

    def _run(self) -> None:
        store = self.store.reopen()  # one connection, one thread
        try:
            while True:
                with self._cv:
                    while not self._closed and (not self._heap or self._heap[0].due > time.monotonic()):
                        self._cv.wait(max(0.0, self._heap[0].due - time.monotonic()) if self._heap else None)
                    if self._closed:
                        return
                    job = heapq.heappop(self._heap)
                    self._busy += 1
                try:
                    self._attempt(store, job)
                finally:
                    with self._cv:
                        self._busy -= 1
                        self._cv.notify_all()
        finally:
            store.close()

    def _attempt(self, store: Store, job: _Job) -> None:
        job.attempt += 1
        body = body_of(job.event)
        headers = {"Content-Type": "application/json", "User-Agent": "operator-review-console"}
        status: int | None = None
        try:
            if job.secret_file:
                headers[SIGNATURE_HEADER] = sign(body, Path(job.secret_file).read_text().strip())
            request = urllib.request.Request(job.url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (checked URL)
                status = response.status
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, timed out, unreadable secret file
            error = type(exc).__name__
        if not error:
            outcome = "delivered"
        elif job.attempt >= self.max_attempts:
            outcome = "gave_up"
        else:
            outcome = "retry"
        details: dict[str, Any] = {"event_id": job.event["event_id"], "url": redact_url(job.url),
                                   "attempt": job.attempt, "status": status, "outcome": outcome}
        if error:
            details["error"] = error
        delay = min(self.max_delay_s, self.base_s * 2 ** (job.attempt - 1))
        if outcome == "retry":
            details["retry_in_s"] = round(delay, 3)
        try:
            audit.append(store, ACTOR, "outbound.webhook", "alert", job.event["alert_id"], details)
        except Exception:  # noqa: BLE001 - a busy log must not lose the send; the next attempt logs again
            pass
        if outcome == "retry":
            job.due = time.monotonic() + delay
            with self._cv:
                heapq.heappush(self._heap, job)


_lock = threading.Lock()


def sender_for(store: Store, attribute: str, make):
    """The store's sender kept as ``store.<attribute>``, made by ``make(store)`` on first use (a test or an
    opener may set it): the webhook's (``outbound``) and the MQTT one (``outbound_mqtt``)."""
    with _lock:
        sender = getattr(store, attribute, None)
        if sender is None:
            sender = make(store)
            setattr(store, attribute, sender)
        return sender


def dispatcher_for(store: Store) -> Dispatcher:
    """The store's webhook sender."""
    return sender_for(store, "outbound", Dispatcher)


def close(store: Store) -> None:
    """Stop the store's senders (the webhook's and the MQTT one)."""
    for name in ("outbound", "outbound_mqtt"):
        sender = getattr(store, name, None)
        if sender is not None:
            sender.close()
            setattr(store, name, None)

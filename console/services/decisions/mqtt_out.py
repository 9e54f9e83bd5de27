"""Outbound events to an MQTT broker: the webhook's confirmed alerts (and, if asked, the handheld's
delivery and the engagement outcome) published for tools that speak MQTT (Home Assistant, Frigate,
VMS bridges).

The same governed setting as the webhook holds it (``outbound`` / ``mqtt``, an administrator's,
audit-logged); the same payload builder makes each event; the same rules hold: a known-answer test
never leaves the console, publishing never holds a decision up (a background thread with a queue
ordered by due time and exponential backoff), and every attempt is an audit entry. QoS 1, never
retained, no image: the payload carries no image and there is no option to add one. The broker's
password lives in a file only its owner may read; the setting names the file, nothing prints it.
"""

from __future__ import annotations

import heapq
import logging
import os
import secrets
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from console.redaction import redact_url
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.decisions import outbound
from console.services.decisions.outbound import ACTOR, LOCAL_HOSTS, OutboundError
from console.store import audit, known_answer
from console.store import decisions as db
from console.store.base import Store

log = logging.getLogger(__name__)
FIELD = "mqtt"  # the key inside the outbound setting
EVENTS = ("confirmed", "delivery", "outcome")  # what --mqtt-events may name
DEFAULT_PREFIX = "orc"
QOS = 1
RETAIN = False
DISPATCH_SCHEMA = "orc.alert.dispatch/1"  # the webhook's event plus a "dispatch" object
OUTCOME_SCHEMA = "orc.alert.outcome/1"  # the webhook's event plus an "outcome" object


def check_url(url: str) -> str:
    """mqtts:// only; plain mqtt:// is accepted for this machine alone (like the webhook's https rule)."""
    parts = urlsplit(url.strip())
    if parts.username or parts.password:
        raise OutboundError("put the broker's user in --mqtt-user and its password in --mqtt-password-file, not in the URL")
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as exc:
        raise OutboundError(f"the broker URL's port is not a number: {url}") from exc
    if parts.path not in ("", "/") or parts.query:
        raise OutboundError("a broker URL is mqtts://host[:port]; the topic goes in --mqtt-topic")
    if parts.scheme == "mqtts" and parts.hostname:
        return url.strip()
    if parts.scheme == "mqtt" and parts.hostname in LOCAL_HOSTS:
        return url.strip()
    raise OutboundError("an MQTT broker must be an mqtts:// URL (plain mqtt:// only to localhost)")


def check_password_file(path: Path) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise OutboundError(f"the broker's password file {path} cannot be read") from exc
    if st.st_mode & 0o077 or st.st_uid != os.getuid():
        raise OutboundError(f"the broker's password file {path} must be this user's and readable by its owner only "
                            f"(chmod 600 {path})")


def check_config(url: str, topic: str = "", user: str = "", password_file: str = "", ca_file: str = "",
                 events: str = "confirmed") -> dict:
    """The ``mqtt`` part of the outbound setting, checked; raises OutboundError."""
    config: dict[str, Any] = {"url": check_url(url)}
    prefix = (topic or DEFAULT_PREFIX).strip().strip("/")
    if not prefix or any(c in prefix for c in "+#\0"):
        raise OutboundError("an MQTT topic prefix may not be empty nor hold the wildcards + and #")
    config["topic_prefix"] = prefix
    names = [e.strip() for e in (events or "confirmed").split(",") if e.strip()]
    unknown = [e for e in names if e not in EVENTS]
    if unknown or not names:
        raise OutboundError(f"unknown MQTT events {', '.join(unknown) or '(none)'}: use {', '.join(EVENTS)}")
    config["events"] = [e for e in EVENTS if e in names]
    if password_file and not user:
        raise OutboundError("a broker password needs a user (--mqtt-user)")
    if user:
        config["username"] = user
    if password_file:
        path = Path(password_file).expanduser().resolve()
        check_password_file(path)
        config["password_file"] = str(path)
    if ca_file:
        if not config["url"].startswith("mqtts://"):
            raise OutboundError("a CA file is for TLS: use an mqtts:// broker URL")
        ca = Path(ca_file).expanduser().resolve()
        if not ca.is_file():
            raise OutboundError(f"the CA file {ca} does not exist")
        config["ca_file"] = str(ca)
    return config


def configure(store: Store, actor: Actor, deployment_id: int, *, mqtt: dict | None = None, **others) -> dict:
    """``outbound.configure`` with a broker: ``mqtt`` holds ``check_config``'s arguments; ``others``
    the webhook's and the file's (the setting names every target at once)."""
    actor.require(Permission.MANAGE_OUTBOUND, store)
    return outbound.configure(store, actor, deployment_id, mqtt=check_config(**mqtt) if mqtt else None, **others)


def topic(config: dict, deployment_id: int, kind: str) -> str:
    return f"{config['topic_prefix']}/deployment/{deployment_id}/{kind}"


# --- what is published -------------------------------------------------------------------------


def alert_confirmed(store: Store, alert_id: int, decision_id: int) -> None:
    """Called by review.confirm beside ``outbound.alert_confirmed`` for a final confirmation: the
    webhook's event, published once the decision is committed, if the deployment has a broker."""
    if known_answer.test_of(store, alert_id) is not None:
        return  # a known-answer test never leaves the console
    store.after_commit(f"mqtt-{decision_id}", lambda: _later(store, alert_id, decision_id, "confirmed", "confirmed"))


def dispatch_stage(store: Store, alert_id: int, decision_id: int, dispatch_id: int, stage: str, at: str,
                   event_row: int) -> None:
    """A handheld fetched ("delivered") or opened ("seen") a dispatched incident: published once the
    write commits, if the deployment asks for delivery events."""
    extra = {"dispatch": {"id": dispatch_id, "stage": str(stage), "at": at}}
    store.after_commit(f"mqtt-{dispatch_id}-{stage}-{event_row}",
                       lambda: _later(store, alert_id, decision_id, "delivery", str(stage), DISPATCH_SCHEMA,
                                      f"-{stage}-{event_row}", extra))


def outcome(store: Store, alert_id: int, decision_id: int, engagement_id: int, result: str, action: str, via: str,
            at: str, dispatch_id: int | None = None) -> None:
    """The engagement outcome (from the handheld, or relayed by an operator): published once committed."""
    extra = {"outcome": {"result": result, "action": action, "via": via, "recorded_at": at, "dispatch_id": dispatch_id}}
    store.after_commit(f"mqtt-outcome-{engagement_id}",
                       lambda: _later(store, alert_id, decision_id, "outcome", "outcome", OUTCOME_SCHEMA,
                                      f"-outcome-{engagement_id}", extra))


def _later(store: Store, alert_id: int, decision_id: int, kind: str, sub: str, schema: str = "", suffix: str = "",
           extra: dict | None = None) -> None:
    """Queue the event (the webhook's, plus ``extra``) if the deployment's broker asks for ``kind``."""
    try:
        dep = db.deployment_of_alert(store, alert_id)
        config = outbound.config_of(store, int(dep["deployment_id"])).get(FIELD) if dep else None
        if not config or kind not in config.get("events", ()):
            return
        if known_answer.test_of(store, alert_id) is not None:
            return  # a known-answer test never leaves the console
        event = outbound.payload(store, alert_id, decision_id)
        if extra:
            event.update(schema=schema, event_id=f"{event['event_id']}{suffix}", **extra)
        publisher_for(store).submit(event, topic(config, event["deployment"]["id"], sub), config)
    except Exception:  # noqa: BLE001 - the write is committed and must not fail; the failure is logged
        log.exception("an MQTT event of alert %s could not be queued", alert_id)


# --- the sender ----------------------------------------------------------------------------------


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event: dict = field(compare=False)
    topic: str = field(compare=False)
    config: dict = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Publisher(outbound.Dispatcher):
    """The webhook's queue and thread (due-time order, backoff, ``wait_idle``, ``close``) with MQTT
    attempts: connect, publish at QoS 1 unretained, wait for the broker's PUBACK, disconnect."""

    def __init__(self, store: Store, **kw) -> None:
        super().__init__(store, **kw)
        self._thread.name = "outbound-mqtt"

    def submit(self, event: dict, topic: str, config: dict) -> None:  # type: ignore[override]
        with self._cv:
            dropped = len(self._heap) >= self.max_queued
            if not dropped:
                self._seq += 1
                heapq.heappush(self._heap, _Job(time.monotonic(), self._seq, event, topic, config))
                self._cv.notify()
        if dropped:
            audit.append(self.store, ACTOR, "outbound.mqtt", "alert", event["alert_id"],
                         {"event_id": event["event_id"], "topic": topic, "outcome": "dropped", "error": "queue full"})

    def _attempt(self, store: Store, job: _Job) -> None:  # type: ignore[override]
        job.attempt += 1
        error = publish_once(job.config, job.topic, outbound.body_of(job.event), self.timeout_s)
        outcome = "delivered" if not error else "gave_up" if job.attempt >= self.max_attempts else "retry"
        details: dict[str, Any] = {"event_id": job.event["event_id"], "broker": redact_url(job.config["url"]),
                                   "topic": job.topic, "qos": QOS, "retain": RETAIN, "attempt": job.attempt,
                                   "outcome": outcome}
        if error:
            details["error"] = error
        delay = min(self.max_delay_s, self.base_s * 2 ** (job.attempt - 1))
        if outcome == "retry":
            details["retry_in_s"] = round(delay, 3)
        try:
            audit.append(store, ACTOR, "outbound.mqtt", "alert", job.event["alert_id"], details)
        except Exception:  # noqa: BLE001 - a busy log must not lose the send; the next attempt logs again
            pass
        if outcome == "retry":
            job.due = time.monotonic() + delay
            with self._cv:
                heapq.heappush(self._heap, job)


def publish_once(config: dict, topic: str, body: bytes, timeout_s: float) -> str:
    """One attempt: '' when the broker acknowledged the message, else what went wrong (no secret in it)."""
    import paho.mqtt.client as mqtt

    parts = urlsplit(config["url"])
    tls = parts.scheme == "mqtts"
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"orc-outbound-{secrets.token_hex(6)}",
                         protocol=mqtt.MQTTv311, reconnect_on_failure=False)
    client.connect_timeout = timeout_s
    answer: dict[str, Any] = {}
    client.on_connect = lambda _c, _u, _flags, code, _props: answer.setdefault("code", code)
    deadline = time.monotonic() + timeout_s
    context: _Context | None = None
    try:
        check_url(config["url"])  # a setting written around mqtt_out.configure is still held to the rule
        if config.get("username"):
            password = None
            if config.get("password_file"):
                path = Path(config["password_file"])
                check_password_file(path)
                password = path.read_text().rstrip("\r\n")
            client.username_pw_set(config["username"], password)
        if tls:
            context = _Context(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
            if config.get("ca_file"):
                context.load_verify_locations(config["ca_file"])
            else:
                context.load_default_certs()
            client.tls_set_context(context)
        client.connect(parts.hostname, parts.port or (8883 if tls else 1883), keepalive=30)
        while "code" not in answer:
            if time.monotonic() > deadline:
                return "timed out waiting for the broker's answer"
            rc = client.loop(0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS and "code" not in answer:
                return f"connection lost: {mqtt.error_string(rc)}"
        if answer["code"].is_failure:
            return f"refused by the broker: {answer['code']} (check the user and the password file)"
        info = client.publish(topic, body, qos=QOS, retain=RETAIN)
        while not info.is_published():
            if time.monotonic() > deadline:
                return "timed out waiting for the broker's acknowledgement"
            rc = client.loop(0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS and not info.is_published():
                return f"connection lost: {mqtt.error_string(rc)}"
        return ""
    except OutboundError as exc:
        return str(exc)
    except ssl.SSLCertVerificationError as exc:
        return f"TLS: the broker's certificate is not trusted ({exc.verify_message})"
    except (OSError, ValueError) as exc:  # refused, unreachable, timed out, TLS, unreadable file
        return type(exc).__name__
    finally:
        try:
            client.disconnect()
            client.loop(0.01)
        except Exception:  # noqa: BLE001 - closing a failed connection
            pass
        for sock in [client.socket(), *getattr(context, "wrapped", [])]:
            if sock is not None:
                sock.close()


class _Context(ssl.SSLContext):
    """An SSL context that remembers its sockets: one whose handshake failed is closed too."""

    wrapped: list

    def wrap_socket(self, *args, **kwargs):
        sock = super().wrap_socket(*args, **kwargs)
        self.__dict__.setdefault("wrapped", []).append(sock)
        return sock


def publisher_for(store: Store) -> Publisher:
    """The store's MQTT sender (made on first use; a test may set ``store.outbound_mqtt``)."""
    return outbound.sender_for(store, "outbound_mqtt", Publisher)


def close(store: Store) -> None:
    sender = getattr(store, "outbound_mqtt", None)
    if sender is not None:
        sender.close()
        store.outbound_mqtt = None

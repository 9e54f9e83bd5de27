"""Deployments: authorised for one place and one time window, and recognition only inside it.

States: draft -> authorised -> active <-> stopped -> ended. A supervisor authorises (the
authorising officer); recognition starts only for an authorised deployment inside its window
and stops by itself at its end; an ended deployment is read-only. The human-oversight stop
(EU AI Act Art. 14(4)(e)) halts recognition for the whole deployment at once, on every seat and
worker: a supervisor may press it, and an operator too where the deployment allows it; only a
supervisor restarts. The database refuses alerts unless the deployment is active. Every change
is audited, and the audit entry is what every seat and worker obeys (console/services/runtime/live.py).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime

from console import clock
from console.errors import ConsoleError, PermissionDenied
from console.redaction import redact, redact_url
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.setup import deployment_setup, operating_point
from console.store import Store, audit, governed, repo
from console.store import deployments as db


class DeploymentError(ConsoleError):
    """The deployment's state or window does not allow this."""


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def get(store: Store, deployment_id: int):
    row = repo.get_deployment(store, deployment_id)
    if row is None:
        raise DeploymentError(f"deployment {deployment_id} does not exist")
    return row


def current(store: Store, now: datetime | None = None) -> int:
    """The deployment a seat opens when none is named: the latest one authorised, running or
    stopped whose window is open now. None open: a clear refusal saying what to do."""
    stamp = _iso(_now(now))
    row = db.open_now(store, stamp)
    if row is None:
        raise DeploymentError("this store has no deployment authorised for now: a supervisor creates and authorises "
                              "one (or name one with --deployment); the demo runs with python main.py --demo")
    return int(row["id"])


def latest_id(store: Store) -> int | None:
    """The newest deployment's id; None before the first."""
    return db.latest_deployment_id(store)


def ensure_writable(store: Store, deployment_id: int) -> None:
    dep = get(store, deployment_id)
    if dep["state"] == "ended":
        raise DeploymentError(f"deployment {dep['name']!r} has ended and is read-only")


def recognition_refusal(dep, now: datetime | None = None) -> str | None:
    """Why recognition may not run now for this deployment, in words; None when it may."""
    now = _now(now)
    if dep["state"] == "draft":
        return f"deployment {dep['name']!r} is a draft: a supervisor must authorise it first"
    if dep["state"] == "ended":
        return f"deployment {dep['name']!r} has ended"
    if dep["state"] == "stopped":
        return (f"recognition for deployment {dep['name']!r} was stopped at {dep['stopped_at']} "
                f"({dep['stop_reason']}); only a supervisor can restart it")
    if now < _parse(dep["starts_at"]):
        return f"deployment {dep['name']!r} is authorised from {dep['starts_at']} only (it is now {now:%Y-%m-%d %H:%M} UTC)"
    if now >= _parse(dep["ends_at"]):
        return f"deployment {dep['name']!r} was authorised until {dep['ends_at']}; its window is over"
    return None


def model_floor(model_id: str) -> float:
    """The lowest threshold a deployment of this model may ever have: its calibrated threshold for a
    one-photo watchlist at the default target (and never below the model's published threshold).
    It comes from the calibration shipped with the model, never from a caller; a model without one
    cannot be deployed."""
    from console.errors import ModelError
    from console.services.accuracy import calibration

    try:
        cal = calibration.load_for(model_id)
    except ModelError as exc:
        raise DeploymentError(f"no deployment of model {model_id!r}: {exc}") from exc
    published = float(cal.data.get("published_threshold", 0.0))
    return max(published, operating_point.rounded_up(cal.threshold_for(1, calibration.DEFAULT_TARGET)))


def create(store: Store, actor: Actor, spec: repo.DeploymentSpec) -> int:
    """A draft, to be authorised separately. Its floor is the model's (``model_floor``): whatever
    floor the caller's spec names is replaced, and a threshold below it is refused."""
    actor.require(Permission.MANAGE_DEPLOYMENT, store)
    for field in ("name", "location", "rationale", "legal_basis"):
        if not str(getattr(spec, field)).strip():
            raise DeploymentError(f"a deployment needs a {field.replace('_', ' ')}")
    if _parse(spec.ends_at) <= _parse(spec.starts_at):
        raise DeploymentError("a deployment must end after it starts")
    floor = model_floor(spec.model_id)
    if not math.isfinite(spec.threshold) or spec.threshold < floor or spec.threshold >= 1.0:
        raise DeploymentError(f"threshold {spec.threshold} is outside the model's range: at least its calibrated "
                              f"floor {floor:.3f}, below 1")
    return repo.create_deployment(store, dataclasses.replace(spec, threshold_floor=floor), None, actor.username)


def authorise(store: Store, actor: Actor, deployment_id: int, note: str = "") -> None:
    actor.require(Permission.AUTHORISE_DEPLOYMENT, store)
    dep = get(store, deployment_id)
    if dep["state"] != "draft":
        raise DeploymentError(f"deployment {dep['name']!r} is {dep['state']}, not a draft")
    deployment_setup.require_complete(store, deployment_id)  # the pre-deployment checklist, every item ticked
    with store.transaction() as conn:
        db.mark_authorised(conn, deployment_id, actor.user_id, audit.utcnow())
        frozen = deployment_setup.freeze(conn, deployment_id)  # the watchlist's snapshot
        audit.append(store, actor.username, "deployment.authorised", "deployment", deployment_id,
                     {"note": note, "starts_at": dep["starts_at"], "ends_at": dep["ends_at"],
                      "location": dep["location"], "watchlist_sha256": frozen,
                      "checklist": deployment_setup.checklist(store, deployment_id),
                      "governed": governed.state(conn, "deployment", deployment_id, "state", "authorised_by",
                                                 "authorised_at", "watchlist_sha256")})


def start(store: Store, actor: Actor, deployment_id: int, now: datetime | None = None) -> None:
    """Begin recognition (operators and supervisors; an auditor starts nothing): refused, with the
    reason, outside an authorised window. Joining a deployment already running is logged too."""
    actor.require(Permission.START_RECOGNITION, store)
    dep = get(store, deployment_id)
    refusal = recognition_refusal(dep, now)
    if refusal:
        audit.append(store, actor.username, "deployment.start_refused", "deployment", deployment_id,
                     {"reason": refusal})
        raise DeploymentError(f"recognition refused: {refusal}")
    # Never recognise below the calibrated floor for the watchlist as it now stands.
    operating_point.hold_floor(store, deployment_id, actor.username, "recognition starting")
    if dep["state"] != "active":
        repo.set_deployment_state(store, deployment_id, "active", actor.username, "deployment.started", {},
                                  ("authorised",))
    else:
        audit.append(store, actor.username, "deployment.joined", "deployment", deployment_id,
                     {"user_id": actor.user_id, "role": actor.role})


def start_or_join(store: Store, actor: Actor, deployment_id: int, recognising: bool = True) -> None:
    """A seat or worker coming up: start recognition (refused outside the window), or join a
    deployment whose recognition a person has stopped - its cameras then wait, paused, for a
    supervisor's restart (a seat or worker starting up never undoes a stop)."""
    dep = get(store, deployment_id)
    if dep["state"] == "stopped" and recognition_refusal({**dict(dep), "state": "active"}) is None:
        return
    if recognising:
        start(store, actor, deployment_id)


def end(store: Store, actor: Actor | None, deployment_id: int, reason: str = "window over") -> None:
    """End a deployment (by a supervisor, or by the system when its window is over)."""
    if actor is not None:
        actor.require(Permission.MANAGE_DEPLOYMENT, store)
    dep = get(store, deployment_id)
    if dep["state"] == "ended":
        return
    repo.set_deployment_state(store, deployment_id, "ended", actor.username if actor else "system",
                              "deployment.ended", {"reason": reason}, ("draft", "authorised", "active", "stopped"),
                              ended_at=audit.utcnow())


def may_stop(dep, actor: Actor) -> bool:
    """Whether this user may press the stop for this deployment (without asking the store)."""
    return actor.may(Permission.STOP_ANY_DEPLOYMENT) or (actor.may(Permission.STOP_RECOGNITION)
                                                         and bool(dep["operator_may_stop"]))


def stop(store: Store, actor: Actor, deployment_id: int, reason: str) -> None:
    """Halt recognition for the whole deployment at once, with a reason (human oversight).

    Every seat and worker obeys within a couple of seconds (they follow the audit log), and the
    database refuses further alerts at once. A supervisor may always stop; an operator where the
    deployment allows it. Only a supervisor restarts (``restart``)."""
    actor.require(Permission.STOP_RECOGNITION, store)
    dep = get(store, deployment_id)
    if not may_stop(dep, actor):
        audit.append(store, actor.username, "access.refused", "permission", "stop_recognition",
                     {"role": actor.role, "user_id": actor.user_id, "deployment_id": deployment_id})
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not stop deployment {dep['name']!r}: "
                               "its supervisor has reserved the stop to supervisors")
    if not reason.strip():
        raise DeploymentError("stopping recognition needs a reason (it is logged and shown on every seat)")
    if dep["state"] in ("ended", "draft"):
        raise DeploymentError(f"deployment {dep['name']!r} is {dep['state']}: there is no recognition to stop")
    if dep["state"] == "stopped":
        raise DeploymentError(f"recognition for deployment {dep['name']!r} is already stopped (since "
                              f"{dep['stopped_at']})")
    if not repo.set_deployment_state(store, deployment_id, "stopped", actor.username, "deployment.stopped",
                                     {"reason": reason.strip(), "user_id": actor.user_id, "role": actor.role},
                                     ("authorised", "active"), stopped_at=audit.utcnow(), stopped_by=actor.user_id,
                                     stop_reason=reason.strip()):
        raise DeploymentError(f"deployment {dep['name']!r} changed meanwhile; look again before stopping it")


def restart(store: Store, actor: Actor, deployment_id: int, reason: str, now: datetime | None = None) -> None:
    """A supervisor lets a stopped deployment recognise again (inside its window only)."""
    actor.require(Permission.RESTART_RECOGNITION, store)
    dep = get(store, deployment_id)
    if dep["state"] != "stopped":
        raise DeploymentError(f"deployment {dep['name']!r} is {dep['state']}, not stopped")
    if not reason.strip():
        raise DeploymentError("restarting recognition needs a reason (it is logged)")
    refusal = recognition_refusal({**dict(dep), "state": "authorised"}, now)
    if refusal:
        raise DeploymentError(f"recognition cannot restart: {refusal}")
    if not repo.set_deployment_state(store, deployment_id, "active", actor.username, "deployment.restarted",
                                     {"reason": reason.strip(), "stopped_at": dep["stopped_at"]}, ("stopped",)):
        raise DeploymentError(f"deployment {dep['name']!r} changed meanwhile; look again before restarting it")


def set_operator_may_stop(store: Store, actor: Actor, deployment_id: int, allowed: bool, reason: str) -> None:
    actor.require(Permission.MANAGE_DEPLOYMENT, store)
    ensure_writable(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("changing who may stop recognition needs a reason")
    with store.transaction() as conn:
        db.set_operator_may_stop(conn, deployment_id, allowed)
        audit.append(store, actor.username, "deployment.stop_policy", "deployment", deployment_id,
                     {"operators_may_stop": allowed, "reason": reason,
                      "governed": governed.state(conn, "deployment", deployment_id, "operator_may_stop")})


def change_threshold(store: Store, actor: Actor, deployment_id: int, threshold: float, reason: str) -> None:
    """Only a supervisor, only with a reason, never below the model's floor; logged and shown."""
    actor.require(Permission.CHANGE_THRESHOLD, store)
    ensure_writable(store, deployment_id)
    dep = get(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("a threshold change needs a reason")
    if not math.isfinite(threshold):
        raise DeploymentError(f"threshold {threshold!r} is not a number")
    op = operating_point.point(store, deployment_id)
    if threshold < op.floor:
        why = (f"calibrated for {op.photos} watchlist photos at 1 false alert in {1 / op.target:,.0f} faces"
               if op.calibrated else "the model's published floor")
        raise DeploymentError(f"threshold {threshold:.3f} is below the floor {op.floor:.3f} ({why})")
    if threshold >= 1.0:
        raise DeploymentError("a threshold of 1 or more would never alert")
    if math.isclose(threshold, float(dep["threshold"]), abs_tol=5e-5):
        raise DeploymentError(f"no change: the threshold is {threshold:.3f} already (nothing was logged)")
    operating_point.write_threshold(store, deployment_id, threshold, actor.username,
                                    {"old": dep["threshold"], "new": threshold, "reason": reason})


def set_two_person_rule(store: Store, actor: Actor, deployment_id: int, on: bool, reason: str) -> None:
    actor.require(Permission.MANAGE_DEPLOYMENT, store)
    ensure_writable(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("changing the two-person rule needs a reason")
    with store.transaction() as conn:
        db.set_two_person_rule(conn, deployment_id, on)
        audit.append(store, actor.username, "deployment.two_person_rule", "deployment", deployment_id,
                     {"on": on, "reason": reason,
                      "governed": governed.state(conn, "deployment", deployment_id, "two_person_rule")})


INCIDENT_WINDOW_MAX_S = 3600


def set_incident_window(store: Store, actor: Actor, deployment_id: int, seconds: int, reason: str) -> None:
    """How long after a subject's latest sighting a new sighting still joins the same incident (one
    queue card, decided once). 0 turns grouping off: every alert is its own incident."""
    actor.require(Permission.MANAGE_DEPLOYMENT, store)
    ensure_writable(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("changing the incident window needs a reason")
    if not 0 <= int(seconds) <= INCIDENT_WINDOW_MAX_S:
        raise DeploymentError(f"the incident window is 0 to {INCIDENT_WINDOW_MAX_S} seconds")
    with store.transaction() as conn:
        old = db.incident_window(conn, deployment_id)
        db.set_incident_window(conn, deployment_id, seconds)

        audit.append(store, actor.username, "deployment.incident_window", "deployment", deployment_id,
                     {"old": int(old["incident_window_s"]), "new": int(seconds), "reason": reason,
                      "governed": governed.state(conn, "deployment", deployment_id, "incident_window_s")})


def add_camera(store: Store, actor: Actor, deployment_id: int, name: str, source: str) -> int:
    from console.services.setup import cameras as camera_service  # its credential kept apart

    return camera_service.add(store, actor, deployment_id, name, source)


def cameras(store: Store, actor: Actor, deployment_id: int) -> list[dict]:
    """The deployment's cameras as a screen shows them: the names for every seat, and the sources,
    redacted, for the roles that manage cameras. A source's credential never leaves the store."""
    shown = actor.may(Permission.MANAGE_CAMERAS)
    return [{"id": int(r["id"]), "name": redact(r["name"]), "source": redact_url(r["source"]) if shown else ""}
            for r in repo.cameras(store, deployment_id)]

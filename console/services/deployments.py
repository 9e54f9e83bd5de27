"""Deployments: authorised for one place and one time window, and recognition only inside it.

States: draft -> authorised -> active -> ended. A supervisor authorises (the authorising
officer); recognition starts only for an authorised deployment inside its window and
stops by itself at its end; an ended deployment is read-only. Every change is audited.
"""

from __future__ import annotations

from datetime import datetime

from console import clock
from console.errors import ConsoleError
from console.services.auth import Actor
from console.store import Store, audit, repo


class DeploymentError(ConsoleError):
    """The deployment's state or window does not allow this."""


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def get(store: Store, deployment_id: int):
    row = repo.get_deployment(store, deployment_id)
    if row is None:
        raise DeploymentError(f"deployment {deployment_id} does not exist")
    return row


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
    if now < _parse(dep["starts_at"]):
        return f"deployment {dep['name']!r} is authorised from {dep['starts_at']} only (it is now {now:%Y-%m-%d %H:%M} UTC)"
    if now >= _parse(dep["ends_at"]):
        return f"deployment {dep['name']!r} was authorised until {dep['ends_at']}; its window is over"
    return None


def create(store: Store, actor: Actor, spec: repo.DeploymentSpec) -> int:
    """A draft, to be authorised separately."""
    actor.require("manage_deployment", store)
    for field in ("name", "location", "rationale", "legal_basis"):
        if not str(getattr(spec, field)).strip():
            raise DeploymentError(f"a deployment needs a {field.replace('_', ' ')}")
    if _parse(spec.ends_at) <= _parse(spec.starts_at):
        raise DeploymentError("a deployment must end after it starts")
    if spec.threshold < spec.threshold_floor:
        raise DeploymentError(f"threshold {spec.threshold} is below the model's floor {spec.threshold_floor}")
    return repo.create_deployment(store, spec, None, actor.username)


def authorise(store: Store, actor: Actor, deployment_id: int, note: str = "") -> None:
    actor.require("authorise_deployment", store)
    dep = get(store, deployment_id)
    if dep["state"] != "draft":
        raise DeploymentError(f"deployment {dep['name']!r} is {dep['state']}, not a draft")
    with store.transaction() as conn:
        conn.execute("UPDATE deployments SET state = 'authorised', authorised_by = ?, authorised_at = ? WHERE id = ?",
                     (actor.user_id, audit.utcnow(), deployment_id))
        audit.append(store, actor.username, "deployment.authorised", "deployment", deployment_id,
                     {"note": note, "starts_at": dep["starts_at"], "ends_at": dep["ends_at"],
                      "location": dep["location"]})


def start(store: Store, actor: Actor, deployment_id: int, now: datetime | None = None) -> None:
    """Begin recognition: refused, with the reason, outside an authorised window."""
    dep = get(store, deployment_id)
    refusal = recognition_refusal(dep, now)
    if refusal:
        audit.append(store, actor.username, "deployment.start_refused", "deployment", deployment_id,
                     {"reason": refusal})
        raise DeploymentError(f"recognition refused: {refusal}")
    if dep["state"] != "active":
        with store.transaction() as conn:
            conn.execute("UPDATE deployments SET state = 'active' WHERE id = ?", (deployment_id,))
            audit.append(store, actor.username, "deployment.started", "deployment", deployment_id, {})


def end(store: Store, actor: Actor | None, deployment_id: int, reason: str = "window over") -> None:
    """End a deployment (by a supervisor, or by the system when its window is over)."""
    if actor is not None:
        actor.require("manage_deployment", store)
    dep = get(store, deployment_id)
    if dep["state"] == "ended":
        return
    with store.transaction() as conn:
        conn.execute("UPDATE deployments SET state = 'ended', ended_at = ? WHERE id = ?",
                     (audit.utcnow(), deployment_id))
        audit.append(store, actor.username if actor else "system", "deployment.ended", "deployment", deployment_id,
                     {"reason": reason})


def change_threshold(store: Store, actor: Actor, deployment_id: int, threshold: float, reason: str) -> None:
    """Only a supervisor, only with a reason, never below the model's floor; logged and shown."""
    actor.require("change_threshold", store)
    ensure_writable(store, deployment_id)
    dep = get(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("a threshold change needs a reason")
    if threshold < dep["threshold_floor"]:
        raise DeploymentError(f"threshold {threshold:.3f} is below the floor {dep['threshold_floor']:.3f} "
                              "calibrated for this model")
    if threshold >= 1.0:
        raise DeploymentError("a threshold of 1 or more would never alert")
    with store.transaction() as conn:
        conn.execute("UPDATE deployments SET threshold = ? WHERE id = ?", (threshold, deployment_id))
        audit.append(store, actor.username, "deployment.threshold_changed", "deployment", deployment_id,
                     {"old": dep["threshold"], "new": threshold, "reason": reason})


def set_two_person_rule(store: Store, actor: Actor, deployment_id: int, on: bool, reason: str) -> None:
    actor.require("manage_deployment", store)
    ensure_writable(store, deployment_id)
    if not reason.strip():
        raise DeploymentError("changing the two-person rule needs a reason")
    with store.transaction() as conn:
        conn.execute("UPDATE deployments SET two_person_rule = ? WHERE id = ?", (int(on), deployment_id))
        audit.append(store, actor.username, "deployment.two_person_rule", "deployment", deployment_id,
                     {"on": on, "reason": reason})


def add_camera(store: Store, actor: Actor, deployment_id: int, name: str, source: str) -> int:
    actor.require("manage_cameras", store)
    ensure_writable(store, deployment_id)
    return repo.add_camera(store, deployment_id, name, source, actor.username)

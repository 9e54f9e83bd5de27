"""A new deployment from the set-up screen or the CLI: a draft with its (empty) watchlist, and the
list of deployments to pick from."""

from __future__ import annotations

from datetime import UTC

from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.accuracy import calibration
from console.services.setup import deployments
from console.services.setup.deployment_setup import SetupError
from console.store import Store, repo
from console.store import deployments as db


def create(store: Store, actor: Actor, name: str, location: str, rationale: str, legal_basis: str, dpia_ref: str,
           policy_ref: str, starts_at: str, ends_at: str, threshold: float | None = None,
           model_id: str | None = None) -> int:
    """A draft deployment with its (empty) watchlist; the threshold defaults to the model's floor."""
    model_id = model_id or calibration.load().model_id
    floor = deployments.model_floor(model_id)
    for what, value in (("DPIA reference", dpia_ref), ("policy reference", policy_ref)):
        if not value.strip():
            raise SetupError(f"a deployment needs its {what}")
    try:
        starts_at, ends_at = _utc(starts_at), _utc(ends_at)
    except ValueError as exc:
        raise SetupError(f"times are written YYYY-MM-DDTHH:MM:SSZ: {exc}") from None
    spec = repo.DeploymentSpec(name.strip(), location.strip(), rationale.strip(), starts_at, ends_at,
                               floor if threshold is None else float(threshold), floor, model_id,
                               legal_basis=legal_basis.strip(), dpia_ref=dpia_ref.strip(),
                               policy_ref=policy_ref.strip())
    with store.transaction():
        dep_id = deployments.create(store, actor, spec)
        repo.create_watchlist(store, dep_id, f"{spec.name} watchlist", actor.username)
    return dep_id


def _utc(text: str) -> str:
    """A time as typed (minutes or seconds, Z, an offset or none: UTC) in the one form the store compares
    as text, YYYY-MM-DDTHH:MM:SSZ: "21:12Z" would sort after "21:12:30Z" and the deployment would not be
    open for its first minute."""
    t = deployments._parse(text.strip())
    return deployments._iso((t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC))


def listing(store: Store, actor: Actor) -> list[dict]:
    """Every deployment, newest first, for the set-up screen and the CLI."""
    if not actor.may(Permission.MANAGE_CAMERAS):  # an administrator adds cameras; a supervisor and an auditor read
        actor.require(Permission.VIEW_WATCHLIST, store)
    return [dict(r) for r in db.real_deployments(store)]


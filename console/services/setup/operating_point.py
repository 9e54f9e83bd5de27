"""A deployment's operating point: the threshold, and what it costs at this watchlist's size.

A passer-by raises a false alert by matching ANY watchlist photo, so the threshold that keeps
false alerts rare rises with the number of photos searched. The model's calibration
(console/services/accuracy/calibration.py, shipped beside its manifest) gives, for N photos and a target
rate of false alerts per face analysed (1 in 100,000 by default; a supervisor may choose stricter,
or looser down to 1 in 10,000, with a reason), the lowest threshold that meets it. That is the
deployment's floor: a threshold below it is refused, and whenever the watchlist grows (or the
target tightens) past the threshold in force, the threshold is raised to the floor - the safe
direction - and the raise is logged like any threshold change, so every seat and worker obeys it.
A model without a calibration keeps its published 1:1 floor, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from console.errors import ConsoleError, ModelError
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.services.accuracy import calibration
from console.store import Store, audit, governed, repo, watchlists
from console.store import deployments as db

STEP = 0.005  # the floor is rounded up to this: fewer, rounder raises as a watchlist grows
TARGET_KEY = "false_alert_target"


@dataclass(frozen=True)
class OperatingPoint:
    photos: int  # watchlist photos searched for each face (each is a comparison)
    target: float  # false alerts per face analysed the floor keeps to
    floor: float
    threshold: float
    calibrated: bool
    false_alerts_per_100k: float | None  # expected, at the threshold in force
    true_match_rate: float | None  # live-like genuine comparisons at or above the threshold
    floor_interval: tuple[float, float] | None = None
    note: str = ""

    def line(self) -> str:
        """One line for a status bar or a form."""
        if not self.calibrated:
            return f"Threshold {self.threshold:.3f} (uncalibrated model: floor {self.floor:.3f})"
        return (f"Threshold {self.threshold:.3f} · ≈{self.false_alerts_per_100k:.2g} false alerts per 100,000 faces "
                f"at {self.photos} watchlist photos · true matches ≈{100 * self.true_match_rate:.0f} %")

    def short(self) -> str:
        """For the status bar: the threshold and the false alerts it lets through."""
        if not self.calibrated:
            return f"Threshold {self.threshold:.3f} (uncalibrated)"
        return f"Threshold {self.threshold:.3f} · ≈{self.false_alerts_per_100k:.2g} false per 100k faces"

    def detail(self) -> str:
        if not self.calibrated:
            return self.note
        low, high = self.floor_interval or (self.floor, self.floor)
        return (f"Floor {self.floor:.3f} for {self.photos} watchlist photos at 1 false alert in {1 / self.target:,.0f} "
                f"faces (90% interval of the calibrated threshold {low:.3f}-{high:.3f}). {self.note}")


def rounded_up(value: float) -> float:
    return round(math.ceil(value / STEP - 1e-9) * STEP, 3)


def target_of(store: Store, deployment_id: int) -> float:
    return float(repo.get_setting(store, f"deployment/{deployment_id}", TARGET_KEY, calibration.DEFAULT_TARGET))


def compute(dep, photos: int, target: float) -> OperatingPoint:
    """The operating point from numbers in hand (no store): safe on any thread."""
    threshold, model_floor = float(dep["threshold"]), float(dep["threshold_floor"])
    try:
        cal = calibration.load_for(dep["model_id"])
    except ModelError as exc:
        return OperatingPoint(photos, target, model_floor, threshold, False, None, None,
                              note=f"{exc}; the model's published floor applies")
    n = max(1, photos)
    floor = max(model_floor, rounded_up(cal.threshold_for(n, target)))
    return OperatingPoint(photos, target, floor, threshold, True, cal.false_alerts_per_100k(threshold, n),
                          cal.true_match_rate(threshold), cal.threshold_interval(n, target),
                          note="Calibrated on real, distinct people (docs/calibration.md).")


def photos_of(store: Store, deployment_id: int, model_id: str) -> int:
    """Watchlist photos a face is searched against (active, not purged) for this model."""
    return watchlists.searchable_photos(store, deployment_id, model_id)


def point(store: Store, deployment_id: int) -> OperatingPoint:
    dep = repo.get_deployment(store, deployment_id)
    if dep is None:
        raise ConsoleError(f"deployment {deployment_id} does not exist")
    return compute(dep, photos_of(store, deployment_id, dep["model_id"]), target_of(store, deployment_id))


def write_threshold(store: Store, deployment_id: int, threshold: float, actor_name: str, details: dict) -> None:
    """The new threshold and its audit entry (``deployment.threshold_changed``: every seat obeys it)."""
    with store.transaction() as conn:
        db.set_threshold(conn, deployment_id, threshold)

        audit.append(store, actor_name, "deployment.threshold_changed", "deployment", deployment_id,
                     {**details, "governed": governed.state(conn, "deployment", deployment_id, "threshold")})


def hold_floor(store: Store, deployment_id: int, actor_name: str, why: str) -> float | None:
    """Raise the threshold to the floor if it is below it (logged as a threshold change, which every
    seat and worker obeys). The new threshold, or None when it was already at or above."""
    with store.transaction():
        op = point(store, deployment_id)
        if op.threshold >= op.floor:
            return None
        write_threshold(store, deployment_id, op.floor, actor_name, {
            "old": op.threshold, "new": op.floor, "reason": f"raised to the calibrated floor: {why}",
            "photos": op.photos, "target": op.target})
    return op.floor


def set_target(store: Store, actor: Actor, deployment_id: int, target: float, reason: str) -> OperatingPoint:
    """A supervisor's false-alert target for this deployment: stricter than 1 in 100,000, or looser down
    to 1 in 10,000 - always with a reason, logged; the threshold rises at once if the floor does."""
    actor.require(Permission.CHANGE_THRESHOLD, store)
    target = calibration.check_target(target)
    if not reason.strip():
        raise ConsoleError("a false-alert target needs a reason (it is logged)")
    dep = repo.get_deployment(store, deployment_id)
    if dep is None or dep["state"] == "ended":
        raise ConsoleError(f"deployment {deployment_id} does not exist or has ended")
    with store.transaction():
        repo.set_setting(store, f"deployment/{deployment_id}", TARGET_KEY, target, actor.user_id, actor.username,
                         reason)
        audit.append(store, actor.username, "deployment.false_alert_target", "deployment", deployment_id,
                     {"target": target, "reason": reason})
        hold_floor(store, deployment_id, actor.username, f"false-alert target set to {target:g} per face")
    return point(store, deployment_id)

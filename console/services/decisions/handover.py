"""A shift change at a seat: the user signing out hands over what is waiting.

The alerts they hold (claimed while open on their screen) are let go at once, so the next user -
on this seat or another - can open them without waiting for a lease to lapse. What is pending
and what was held is logged as one ``shift.handover`` entry with its counts, and returned for
the hand-over screen. Signing out is open to every role; the actor must still be who the store
says (an account disabled since sign-in hands over nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.services.accounts.auth import Actor, PermissionDenied, unverified
from console.services.accounts.permissions import Permission
from console.store import Store, audit, repo
from console.store import decisions as db

HANDOVER = "shift.handover"


@dataclass(frozen=True)
class Handover:
    """What the user signing out leaves: every pending incident (``pending``: queue cards as dicts
    with id, subject, camera, since, escalated), and which of them they held (``released``)."""

    username: str
    pending: list[dict] = field(default_factory=list)
    released: list[int] = field(default_factory=list)

    @property
    def escalated(self) -> int:
        return sum(1 for p in self.pending if p["escalated"])

    def summary(self) -> str:
        if not self.pending:
            return "Nothing is waiting: the queue is empty."
        held = f"; {len(self.released)} you had open released" if self.released else ""
        return (f"{len(self.pending)} incident(s) waiting, {self.escalated} of them escalated to a "
                f"supervisor{held}.")


def _check(store: Store, actor: Actor) -> None:
    if actor.may(Permission.ADJUDICATE):
        actor.require(Permission.ADJUDICATE, store)
        return
    problem = unverified(store, actor)
    if problem:
        audit.append(store, actor.username, "access.refused", "permission", "hand_over",
                     {"role": actor.role, "user_id": actor.user_id, "reason": problem})
        raise PermissionDenied(f"{actor.username} may not hand over: {problem}")


def pending(store: Store, deployment_id: int) -> list[dict]:
    """Every pending incident of the deployment, oldest first, with who holds it (if anyone)."""
    out = []
    for card in repo.pending_incidents(store, deployment_id):
        row = db.handover_card(store, card["id"])
        out.append({"id": int(row["id"]), "incident_id": int(card["incident_id"]), "subject": row["subject_name"],
                    "camera": row["camera"], "since": card["since"], "sightings": int(card["sightings"]),
                    "escalated": bool(row["escalated_at"]), "claimed_by": row["claimed_by"]})
    return out


def hand_over(store: Store, actor: Actor, deployment_id: int) -> Handover:
    """Release every claim this user holds in the deployment and log the handover with its counts."""
    _check(store, actor)
    with store.transaction() as conn:
        held = db.held_pending(conn, deployment_id, actor.user_id)
        released = [int(r["id"]) for r in held]
        if released:
            db.release_held_pending(conn, deployment_id, actor.user_id)

        waiting = pending(store, deployment_id)
        for p in waiting:
            if p["id"] in released:
                p["claimed_by"] = None
        result = Handover(actor.username, waiting, released)
        audit.append(store, actor.username, HANDOVER, "deployment", deployment_id, {
            "user_id": actor.user_id, "role": actor.role, "pending": len(waiting),
            "escalated": result.escalated, "claims_released": len(released), "released_alert_ids": released})
    return result

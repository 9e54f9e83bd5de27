"""Reading the audit log: whether it still holds, and what it says.

Whether the chain and the records still match is no secret: anyone may ask (the command line's
``audit verify``), and the answer names only entry numbers. Reading the entries themselves,
or checking from a signed-in screen, is for the roles that may view the audit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from console.redaction import redact_value
from console.services.auth import Actor
from console.store import Store, audit, governed


@dataclass(frozen=True)
class Integrity:
    """The hash chain's verdict and the records (decisions, engagements, alerts) and governed rows
    (deployments, settings, accounts, cameras, watchlist entries: console/store/governed.py) that
    disagree with their audit entries."""

    chain: audit.ChainReport
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def lines(self) -> list[str]:
        return [self.chain.summary(), *self.problems]


def integrity(store: Store) -> Integrity:
    """Verify the chain and the records against it; open to anyone."""
    return Integrity(audit.verify_chain(store), audit.verify_records(store) + governed.verify(store))


def verify(store: Store, actor: Actor) -> Integrity:
    """``integrity`` for a signed-in user who may view the audit."""
    actor.require("view_audit", store)
    return integrity(store)


def latest(store: Store, actor: Actor, prefix: str = "", last: int = 30) -> list[dict]:
    """The newest ``last`` entries whose action starts with ``prefix``, oldest first, with
    their details decoded - and redacted: an entry written before redaction began may hold a
    camera's password, and the log cannot be changed."""
    actor.require("view_audit", store)
    rows = store.query(
        "SELECT seq, at, actor, action, subject_type, subject_id, details_json FROM audit_log"
        " WHERE action LIKE ? ESCAPE '\\' ORDER BY seq DESC LIMIT ?", (_like_prefix(prefix), last))
    return [{**{k: r[k] for k in ("seq", "at", "actor", "action", "subject_type", "subject_id")},
             "details": redact_value(json.loads(r["details_json"]))} for r in reversed(rows)]


def deployment_stop(store: Store, deployment_id: int) -> dict | None:
    """Who stopped the deployment's recognition, when and why (the latest stop entry), or None.

    Every seat is told of a stop by name, so this is open to any signed-in screen."""
    row = store.one("SELECT at, actor, details_json FROM audit_log WHERE action = 'deployment.stopped'"
                    " AND subject_type = 'deployment' AND subject_id = ? ORDER BY seq DESC LIMIT 1",
                    (str(deployment_id),))
    if row is None:
        return None
    details = json.loads(row["details_json"])
    return {"at": row["at"], "by": row["actor"], "role": details.get("role", ""), "reason": details.get("reason", "")}


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally at the start (% and _ in it are not wildcards)."""
    return prefix.replace("\x00", "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

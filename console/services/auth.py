"""Who is acting, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass

from console.errors import PermissionDenied
from console.store import Store, repo

PERMISSIONS = {
    "adjudicate": {"operator", "supervisor"},
    "record_engagement": {"operator", "engagement_officer", "supervisor"},
    "enrol": {"supervisor", "administrator"},
    "authorise_deployment": {"supervisor"},
    "change_threshold": {"supervisor"},
    "view_audit": {"supervisor", "administrator", "auditor"},
}


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str

    def require(self, permission: str) -> None:
        if self.role not in PERMISSIONS[permission]:
            allowed = ", ".join(sorted(PERMISSIONS[permission]))
            raise PermissionDenied(f"{self.username} ({self.role}) may not {permission.replace('_', ' ')}; "
                                   f"that needs the role {allowed}")


def actor_for(store: Store, username: str) -> Actor:
    row = repo.get_user(store, username)
    if row is None or not row["active"]:
        raise PermissionDenied(f"no active user named {username!r}")
    return Actor(int(row["id"]), row["username"], row["role"])

"""What the console's supervisor screens need of the handheld services beyond pairing itself: the
accounts a phone may be paired to (enabled accounts whose role receives dispatches)."""

from __future__ import annotations

from console.services.accounts import auth, permissions
from console.services.accounts.auth import Actor
from console.services.accounts.permissions import Permission
from console.store import Store


def officer_accounts(store: Store, supervisor: Actor) -> list[dict]:
    """Enabled, undeleted accounts that receive dispatches (engagement officers), by user name."""
    supervisor.require(Permission.PAIR_HANDHELD, store)
    return [{"username": u["username"], "display_name": u["display_name"]} for u in auth.list_users(store, supervisor)
            if u["active"] and not u["deleted_at"] and permissions.allows(u["role"], Permission.RECEIVE_DISPATCH)]

"""Answers for keys and buttons that can do nothing for this user now: said over the panel the eye
is on (ui/toast.py), and, for what a role may never do, greyed with the reason on hover.

The role's permissions come from Actor.may (console/services/accounts/auth.py): the window shows what the
services would refuse, before anyone tries.
"""

from __future__ import annotations

from ui.actions import ACTIONS, Act
from ui.toast import say

ROLE_WORDS = {"supervisor": "a supervisor", "administrator": "an administrator", "operator": "an operator"}
# toolbar command -> the permission it needs (stop follows the deployment's own rule, in the window)
NEEDS = {Act.RESTART: "restart_recognition"}


def why_not(actor, permission: str) -> str:
    """The hover text for a control this role cannot use."""
    from console.services.accounts.auth import PERMISSIONS

    roles = " or ".join(ROLE_WORDS.get(r, r) for r in sorted(PERMISSIONS[permission]))
    return f"Needs {roles}: you are signed in as {actor.username} ({actor.role})."


def gate_actions(window) -> None:
    """Grey what this user's role may never do, with why on hover; the rest keep their own tips."""
    live = window.live
    if live is None:
        return
    actor = live.operator
    for act, permission in NEEDS.items():
        action = window.actions_by_name[act]
        base = action.property("base_tip") or action.toolTip()
        action.setProperty("base_tip", base)
        if not actor.may(permission):
            action.setEnabled(False)
            action.setToolTip(f"{ACTIONS[act].text}: {why_not(actor, permission)}")
        else:
            action.setToolTip(base)
    stop = window.actions_by_name[Act.STOP]
    if not stop.isEnabled() and not live.stopped:
        stop.setToolTip("Stop recognition: " + ("only a supervisor may stop this deployment (its setting); you are "
                        f"signed in as {actor.username} ({actor.role})." if actor.role != "supervisor"
                        else "recognition is not running."))


def enter_refused(window) -> bool:
    """Enter on the queue for a user who does not adjudicate, or with nothing to open: say so."""
    live = window.live
    if live is None:
        say(window.queue, "The deployment is still opening: wait for the cameras and the queue.", "info")
        return True
    if not live.operator.may("adjudicate"):
        say(window.queue, f"{ROLE_WORDS.get(live.operator.role, live.operator.role).capitalize()} does not "
            "adjudicate alerts: operators and supervisors review them. Your role sees the cameras, F9 and F10.")
        return True
    if window.queue.current_alert() is None:
        say(window.queue, "No alert is waiting: nothing to open.", "info")
        return True
    return False


def acknowledged(window, count: int) -> None:
    say(window.queue, f"Acknowledged {count} waiting alert(s): their sound stops until a new one comes."
        if count else "Nothing to acknowledge: no alert is sounding.", "info")

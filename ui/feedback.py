"""Answers for keys and buttons that can do nothing for this user now: said over the panel the eye
is on (ui/toast.py), and, for what a role may never do, greyed with the reason on hover.

The role's permissions come from Actor.may and the one table of role rules
(console/services/accounts/permissions.py): the window shows what the services would refuse, before
anyone tries, and never compares a role itself.
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from console.services.accounts.permissions import Permission, who, who_plural, who_words, with_article
from ui.actions import ACTIONS, Act
from ui.toast import say

PERMISSION = "permission"  # a button's property: what it needs (ui/supervision/gates.py greys it for other roles)

# toolbar command -> the permission it needs (stop follows the deployment's own rule, in the window)
NEEDS = {Act.RESTART: Permission.RESTART_RECOGNITION}


def caption(text: str, permission: str, note: str = "", end: str = "") -> str:
    """A caption naming the roles the table gives ``permission``: caption("Create draft", Permission.MANAGE_DEPLOYMENT)
    reads "Create draft (supervisor)"; a note follows the roles ("(supervisor; uses the reason above)")."""
    return f"{text} ({who(permission)}{'; ' + note if note else ''}){end}"


def needs(button: QPushButton, permission: str) -> QPushButton:
    """Mark ``button`` as needing ``permission`` (greyed, with why on hover, for a role without it)."""
    button.setProperty(PERMISSION, str(permission))
    return button


def gated_button(text: str, permission: str, note: str = "", end: str = "") -> QPushButton:
    """A button for what only some roles may do: its caption names them, and it needs the permission."""
    return needs(QPushButton(caption(text, permission, note, end)), permission)


def why_not(actor, permission: str) -> str:
    """The hover text for a control this role cannot use."""
    return f"Needs {who_words(permission)}: you are signed in as {actor.username} ({actor.role})."


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
        stop.setToolTip("Stop recognition: " + (f"only {who_words(Permission.STOP_ANY_DEPLOYMENT)} may stop this "
                        f"deployment (its setting); you are signed in as {actor.username} ({actor.role})."
                        if not actor.may(Permission.STOP_ANY_DEPLOYMENT) else "recognition is not running."))


def enter_refused(window) -> bool:
    """Enter on the queue for a user who does not adjudicate, or with nothing to open: say so."""
    live = window.live
    if live is None:
        say(window.queue, "The deployment is still opening: wait for the cameras and the queue.", "info")
        return True
    if not live.operator.may(Permission.ADJUDICATE):
        say(window.queue, f"{with_article(live.operator.role).capitalize()} does not adjudicate alerts: "
            f"{who_plural(Permission.ADJUDICATE)} review them. "
            "Your role sees the cameras, F9 and F10.")
        return True
    if window.queue.current_alert() is None:
        say(window.queue, "No alert is waiting: nothing to open.", "info")
        return True
    return False


def acknowledged(window, count: int) -> None:
    say(window.queue, f"Acknowledged {count} waiting alert(s): their sound stops until a new one comes."
        if count else "Nothing to acknowledge: no alert is sounding.", "info")

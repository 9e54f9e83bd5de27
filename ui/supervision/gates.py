"""Controls a role may never use are greyed, with the reason on hover - before anyone presses them.

Actor.may(permission) tells what the role allows (console/services/accounts/auth.py); the services still
refuse (and log) whatever gets through. Buttons named below carry their permission; any other
button whose label names a role ("... (supervisor)", "... (administrator)") needs that role.
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from ui.feedback import ROLE_WORDS, why_not

NAMED = {
    "deployment": {"apply_threshold_button": "change_threshold", "set_target_button": "change_threshold",
                   "set_rule_button": "manage_deployment", "set_window_button": "manage_deployment",
                   "end_button": "manage_deployment", "apply_policy_button": "manage_deployment",
                   "restart_button": "restart_recognition"},
}


def _grey(button: QPushButton, why: str) -> None:
    button.setEnabled(False)
    button.setProperty("gated", True)
    button.setToolTip(why)


def apply(dialog) -> list[QPushButton]:
    """Grey what the signed-in role may not use; returns the buttons greyed."""
    actor = dialog.actor
    greyed, named = [], set()
    for tab_name, buttons in NAMED.items():
        tab = getattr(dialog, tab_name, None)
        for attr, permission in buttons.items():
            button = getattr(tab, attr, None)
            if button is None:
                continue
            named.add(button)
            if not actor.may(permission):
                _grey(button, why_not(actor, permission))
                greyed.append(button)
    for button in dialog.findChildren(QPushButton):
        if button in named:
            continue
        for role in ("supervisor", "administrator"):
            if f"({role}" in button.text() and actor.role != role:
                _grey(button, f"Needs {ROLE_WORDS[role]}: you are signed in as {actor.username} ({actor.role}).")
                greyed.append(button)
    return greyed

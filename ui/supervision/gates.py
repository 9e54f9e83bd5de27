"""Controls a role may never use are greyed, with the reason on hover - before anyone presses them.

Actor.may(permission) tells what the role allows (the table: console/services/accounts/permissions.py); the
services still refuse (and log) whatever gets through. A button says what it needs with ui.feedback.needs
(or is made by ui.feedback.gated_button, whose caption names the roles from the same table).
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from ui.feedback import PERMISSION, why_not


def _grey(button: QPushButton, why: str) -> None:
    button.setEnabled(False)
    button.setProperty("gated", True)
    button.setToolTip(why)


def apply(dialog) -> list[QPushButton]:
    """Grey what the signed-in role may not use; returns the buttons greyed."""
    actor = dialog.actor
    greyed = []
    for button in dialog.findChildren(QPushButton):
        permission = button.property(PERMISSION)
        if permission and not actor.may(permission):
            _grey(button, why_not(actor, permission))
            greyed.append(button)
    return greyed

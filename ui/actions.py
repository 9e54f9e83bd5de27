"""The operator window's commands, declared as data: each has a name, a text, its keys, a tip,
and whether it sits on the toolbar. The window gives each name a handler and derives each
enabled state from what the deployment is doing (pymmcore-gui's action table)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from console.services.accounts.permissions import Permission, who


class Act(StrEnum):
    NEXT = "next"
    PREVIOUS = "previous"
    ENTER = "enter"
    ESCAPE = "escape"
    CONFIRM = "confirm"
    REJECT = "reject"
    ESCALATE = "escalate"
    NEXT_CANDIDATE = "next_candidate"
    PREV_CANDIDATE = "prev_candidate"
    NEXT_SIGHTING = "next_sighting"
    PREV_SIGHTING = "prev_sighting"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    ZOOM_RESET = "zoom_reset"
    FULL_PHOTO = "full_photo"
    OUTCOME = "outcome"
    LAYOUT = "layout"
    CAMERA = "camera"
    PRIVACY = "privacy"
    MUTE = "mute"
    ACKNOWLEDGE = "acknowledge"
    STOP = "stop"
    RESTART = "restart"
    SUPERVISE = "supervise"
    REVIEW = "review"
    SIGN_OUT = "sign_out"


@dataclass(frozen=True)
class ActionSpec:
    text: str
    keys: tuple
    tip: str
    checkable: bool = False
    toolbar: bool = False


ACTIONS: dict[Act, ActionSpec] = {
    Act.NEXT: ActionSpec("Next alert", ("J",), "Next alert in the queue"),
    Act.PREVIOUS: ActionSpec("Previous alert", ("K",), "Previous alert"),
    Act.ENTER: ActionSpec("Open / commit", (Qt.Key.Key_Return, Qt.Key.Key_Enter),
                          "Open the selected alert; in a prompt, commit it"),
    Act.ESCAPE: ActionSpec("Back", (Qt.Key.Key_Escape,), "Cancel the prompt, or back to the queue"),
    Act.CONFIRM: ActionSpec("Confirm match", ("C",), "Confirm: asks, then Enter confirms"),
    Act.REJECT: ActionSpec("Reject", ("R",), "Reject with a reason"),
    Act.ESCALATE: ActionSpec("Escalate", ("E",), "Escalate to a supervisor"),
    Act.NEXT_CANDIDATE: ActionSpec("Next candidate", ("]",), "Next candidate"),
    Act.PREV_CANDIDATE: ActionSpec("Previous candidate", ("[",), "Previous candidate"),
    Act.NEXT_SIGHTING: ActionSpec("Next sighting", ("S",), "The incident's next sighting (best score first)"),
    Act.PREV_SIGHTING: ActionSpec("Previous sighting", ("Shift+S",), "The incident's previous sighting"),
    Act.ZOOM_IN: ActionSpec("Zoom in", ("+", "="), "Zoom in (linked)"),
    Act.ZOOM_OUT: ActionSpec("Zoom out", ("-",), "Zoom out (linked)"),
    Act.ZOOM_RESET: ActionSpec("Fit", ("0",), "Fit the images"),
    Act.FULL_PHOTO: ActionSpec("Whole photos", ("F",), "Probe and watchlist photo: framed on the face, or whole"),
    Act.OUTCOME: ActionSpec("Record outcome", ("U",), "Record a confirmed alert's outcome"),
    Act.LAYOUT: ActionSpec("Layout 2x2", ("L",), "Camera layout 1 / 2x2 / 3x3", toolbar=True),
    Act.CAMERA: ActionSpec("Camera 1 up", ("V",), "Show the next camera alone (double-click a tile: that one)",
                           toolbar=True),
    Act.PRIVACY: ActionSpec("Privacy mode", ("P",), "Blur faces that raised no alert", checkable=True, toolbar=True),
    Act.MUTE: ActionSpec("Sound on", ("M",), "Alert sound on or off", checkable=True, toolbar=True),
    Act.ACKNOWLEDGE: ActionSpec("Acknowledge", ("A",), "Acknowledge waiting alerts (stops the sound)", toolbar=True),
    Act.STOP: ActionSpec("Stop recognition", ("F12",), "Stop recognition for the whole deployment, on every seat and "
                         "worker, at once (asks why; logged)", toolbar=True),
    Act.RESTART: ActionSpec("Restart recognition", ("Ctrl+F12",), "Restart a stopped deployment "
                            f"({who(Permission.RESTART_RECOGNITION)}; asks why; logged)", toolbar=True),
    Act.SUPERVISE: ActionSpec("Supervision...", ("F9",), "Deployment, threshold, two-person rule, stop, watchlist, "
                              "users, retention", toolbar=True),
    Act.REVIEW: ActionSpec("Review...", ("F10",), "Decision log, dashboard, deployment record, audit, what-if, "
                           "blind review", toolbar=True),
}
ACTIONS[Act.SIGN_OUT] = ActionSpec("Sign out / switch user", ("Ctrl+Shift+Q",), "End your shift at this seat: your "
                                  "open alerts are handed back, what is waiting is listed, and the next user signs "
                                  "in (recognition goes on; logged)", toolbar=True)
CHOICES = 7  # number keys 1..7 pick a choice in a prompt


def make_action(owner: QWidget, spec: ActionSpec, handler: Callable) -> QAction:
    action = QAction(spec.text, owner)
    sequences = [QKeySequence(k) for k in spec.keys]
    action.setShortcuts(sequences)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setAutoRepeat(False)  # a held key is one press, never several decisions
    action.setToolTip(f"{spec.tip} ({', '.join(s.toString() for s in sequences)})")
    action.setCheckable(spec.checkable)
    action.triggered.connect(handler)
    owner.addAction(action)
    return action


def build_actions(owner: QWidget, handlers: Mapping[Act, Callable], pick: Callable[[int], None]) -> dict[Act, QAction]:
    """Every command of the table, each wired to its handler, plus the number keys of the prompts."""
    missing = set(ACTIONS) - set(handlers)
    if missing:
        raise ValueError(f"no handler for {sorted(missing)}")
    actions = {act: make_action(owner, spec, handlers[act]) for act, spec in ACTIONS.items()}
    for n in range(1, CHOICES + 1):
        make_action(owner, ActionSpec(f"Choice {n}", (str(n),), f"Pick choice {n} in a prompt"),
                    lambda _=False, n=n: pick(n))
    return actions

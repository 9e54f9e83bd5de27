"""The prompt to hand over after a long spell at the seat (console/services/decisions/fatigue.py).

A band above the cameras and the queue, never a dialog: it shows without taking the keyboard, so a
decision in progress goes on under the same keys; its buttons take no focus. It offers the existing
hand-over (Ctrl+Shift+Q), a break (Ctrl+Shift+B: the console locks until the same password is given
again, and a new spell begins), or "Later". Ignored or put off, it comes back every 15 minutes. The
spell is read from the store by a job on the database thread every few seconds of the status tick;
the prompt shown and the answer are audit entries, written by jobs too.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from console import clock
from console.redaction import redact
from console.services.accounts.permissions import Permission
from console.services.decisions import fatigue
from ui.actions import ACTIONS, Act, ActionSpec, make_action

CHECK_EVERY_S = 15  # status ticks (one a second) between reads of the spell
BREAK = ActionSpec("Take a break", ("Ctrl+Shift+B",), "Leave the seat for a break: the console locks until your "
                   "password is given again, and your time at the seat starts afresh (logged)")


def _keys(spec: ActionSpec) -> str:
    return ", ".join(str(k) for k in spec.keys)


def prompt_text(spell: fatigue.Spell) -> str:
    return (f"You have been at the seat {spell.text()} without a break: hand over ({_keys(ACTIONS[Act.SIGN_OUT])}) "
            f"or take a break ({_keys(BREAK)}).")


class FatigueBanner(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("fatigue_banner")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        self.label = QLabel("")
        self.label.setObjectName("fatigue_text")
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.hand_over = self._button("Hand over", ACTIONS[Act.SIGN_OUT].tip + f" ({_keys(ACTIONS[Act.SIGN_OUT])})")
        self.take_break = self._button("Take a break", f"{BREAK.tip} ({_keys(BREAK)})")
        self.later = self._button("Later", f"Hide this; it comes back in {fatigue.REPEAT_MIN} minutes (logged)")
        for button in (self.hand_over, self.take_break, self.later):
            row.addWidget(button)
        self.hide()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click answers; the keyboard stays where it was
        button.setAutoDefault(False)
        return button


class FatigueController(QObject):
    def __init__(self, window, banner: FatigueBanner) -> None:
        super().__init__(window)
        self.window, self.banner = window, banner
        self.every = CHECK_EVERY_S
        self.seated: tuple[int, int] | None = None  # (the deployment shown, the operator) this spell is counted for
        self.seated_at: str | None = None
        self.spell: fatigue.Spell | None = None
        self.last_prompt: float | None = None
        self.repeat = 0
        self.on_break = False
        self._ticks, self._reading = 0, False
        banner.hand_over.clicked.connect(lambda: self.respond("hand_over"))
        banner.take_break.clicked.connect(lambda: self.respond("break"))
        banner.later.clicked.connect(lambda: self.respond("later"))
        self.break_action = make_action(window, BREAK, self.take_break)
        window.status_timer.timeout.connect(self.tick)
        window.session_lock.unlocked.connect(self._back)

    def _live(self):
        live = self.window.live
        return live if live is not None and live.operator.may(Permission.ADJUDICATE) else None

    def tick(self) -> None:
        live = self._live()
        if live is None:
            return
        seated = (id(live), live.operator.user_id)
        if seated != self.seated:  # a deployment opened, or the next user signed in: a spell of theirs
            self.seated, self.seated_at = seated, clock.utcnow()
            self.spell, self.last_prompt, self.repeat, self.on_break = None, None, 0, False
            self.banner.hide()
            self._ticks = 0
        self._ticks += 1
        if (self._ticks - 1) % max(1, self.every) == 0:
            self.check()

    def check(self) -> None:
        """Read the spell (a job); the answer decides whether to ask."""
        live, w = self._live(), self.window
        if live is None or self._reading or self.on_break or w.session_lock.locked or w.shift.dialog is not None:
            return
        self._reading = True
        actor, dep, seated = live.operator, live.deployment_id, self.seated_at
        w.db_jobs.submit(lambda: fatigue.spell(live.store, actor, dep, seated), self._read, self._failed)

    def _failed(self, exc: Exception) -> None:
        self._reading = False
        self.window.statusBar().showMessage(f"Time at the seat not read: {redact(str(exc))}", 10000)

    def _read(self, spell: fatigue.Spell) -> None:
        self._reading = False
        self.spell = spell
        if not spell.due():
            self.banner.hide()
            self.last_prompt, self.repeat = None, 0
            return
        if self.banner.isVisible():
            self.banner.label.setText(prompt_text(spell))
        if fatigue.should_prompt(spell, self.last_prompt):
            self._prompt(spell)

    def _prompt(self, spell: fatigue.Spell) -> None:
        live = self._live()
        self.last_prompt, repeat = clock.wall(), self.repeat
        self.repeat += 1
        self.banner.label.setText(prompt_text(spell))
        self.banner.show()  # shown, never focused or raised: the decision under way keeps the keys
        self.window.db_jobs.submit(
            lambda: fatigue.record_prompt(live.store, live.operator, live.deployment_id, spell, repeat))

    def respond(self, response: str) -> None:
        """The operator's answer to the prompt, logged; then the hand-over, the break, or later."""
        live, spell = self._live(), self.spell
        if live is None or spell is None:
            return
        self.window.db_jobs.submit(
            lambda: fatigue.answer(live.store, live.operator, live.deployment_id, response, spell))
        self.banner.hide()
        self.repeat = 0
        if response == "hand_over":
            self.window.shift.sign_out()
        elif response == "break":
            self.take_break(answered=True)

    def take_break(self, _checked: bool = False, answered: bool = False) -> None:
        """Ctrl+Shift+B (or the prompt's button): the break is logged and the console locks until the
        same user's password is given again."""
        live, w = self._live(), self.window
        if live is None or self.on_break or w.session_lock.locked or w.shift.dialog is not None:
            return
        if self.banner.isVisible() and not answered:
            return self.respond("break")
        self.on_break = True
        self.banner.hide()
        actor, dep, seated = live.operator, live.deployment_id, self.seated_at
        w.db_jobs.submit(lambda: fatigue.start_break(live.store, actor, dep, seated))
        if w.session_lock.signed_in is None:  # a seat opened without a sign-in (the demo's): the break locks it too
            w.enable_idle_lock(actor, w.session_lock.idle_lock_s)
        w.lock()
        dialog = w.session_lock.lock_dialog
        dialog.setWindowTitle("On a break - Operator Review Console")
        dialog.layout().itemAt(0).widget().setText(f"{actor.username} is on a break: enter your password to return")

    def _back(self, actor) -> None:
        """The password given again: if it ended a break, the break's end is logged and a new spell begins."""
        live = self._live()
        if not self.on_break or live is None:
            return
        self.on_break = False
        self.last_prompt, self.repeat = None, 0
        self._reading = True
        self.window.db_jobs.submit(lambda: fatigue.end_break(live.store, live.operator, live.deployment_id),
                                   self._read, self._failed)


def install(window) -> FatigueController:
    """The band goes above the cameras and the queue, under the window's other banners."""
    banner = FatigueBanner()
    layout = window.centralWidget().layout()
    layout.insertWidget(layout.count() - 1, banner)
    return FatigueController(window, banner)
